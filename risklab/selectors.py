"""Reads for Monte Carlo runs."""
from __future__ import annotations

from .models import MonteCarloRun


def montecarlo_get(*, run_id: int) -> MonteCarloRun | None:
    return MonteCarloRun.objects.filter(pk=run_id).first()


def montecarlo_list(*, limit: int = 20) -> list[MonteCarloRun]:
    return list(MonteCarloRun.objects.defer("result")[:limit])


def montecarlo_progress(run: MonteCarloRun) -> dict:
    """Chunks done over chunks: what the progress bar counts."""
    percent = round(100 * run.chunks_done / run.chunks_total, 1) if run.chunks_total else 0.0
    return {"chunks_done": run.chunks_done, "chunks_total": run.chunks_total, "percent": percent}
