"""Reads for Monte Carlo runs."""
from __future__ import annotations

from .models import MonteCarloChunk, MonteCarloRun


def montecarlo_get(*, run_id: int) -> MonteCarloRun | None:
    return MonteCarloRun.objects.filter(pk=run_id).first()


def montecarlo_list(*, limit: int = 20) -> list[MonteCarloRun]:
    return list(MonteCarloRun.objects.defer("result")[:limit])


def montecarlo_progress(run: MonteCarloRun) -> dict:
    """Chunks done over chunks: what the progress bar counts."""
    percent = round(100 * run.chunks_done / run.chunks_total, 1) if run.chunks_total else 0.0
    return {"chunks_done": run.chunks_done, "chunks_total": run.chunks_total, "percent": percent}


def montecarlo_path_figures(run: MonteCarloRun) -> list[dict]:
    """One row per path and engine from the stored chunks (what the reduction summarised): for the bad-debt
    histogram and the per-path download."""
    rows = []
    for result in MonteCarloChunk.objects.filter(run=run, status=MonteCarloChunk.Status.DONE).order_by(
            "index").values_list("result", flat=True):
        for engine, figures in result["engines"].items():
            for i, path in enumerate(result["paths"]):
                rows.append({"path": path, "engine": engine, **{f: values[i] for f, values in figures.items()}})
    rows.sort(key=lambda r: (r["path"], r["engine"]))
    return rows
