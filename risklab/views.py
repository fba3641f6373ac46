"""The Monte Carlo page (staff): queue a run, watch its chunks come in, read the bad-debt distribution, download it."""
import csv
import io
import json

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from common.charts import grouped_bars
from common.errors import DomainError
from core.simulation.montecarlo import FIGURES

from . import selectors, services
from .forms import ENGINE_LABELS, PATH_LABELS, POLICY_LABELS, MonteCarloForm

INITIAL = {"assets": ["TSLAx"], "engines": ["v3.3", "v4"], "policy": "calibrated", "paths": "simulated",
           "n_paths": 40, "hours": 24 * 14, "accounts": 2_000, "seed": 1}
ENGINE_COLOURS = {"v3.3": "#1f77b4", "v4": "#d62728"}
# per-path bad debt at market: a path with none is its own bin (most paths, usually)
BAD_DEBT_BINS = ((0, "$0"), (100, "under $100"), (1_000, "$100–1k"), (10_000, "$1k–10k"), (100_000, "$10k–100k"),
                 (float("inf"), "$100k and over"))
SUMMARY_COLUMNS = ("bad_debt_p50_usd", "bad_debt_p90_usd", "bad_debt_p95_usd", "bad_debt_p99_usd",
                   "bad_debt_max_usd", "bad_debt_mean_usd", "bad_debt_p99_share_of_borrows", "paths_with_bad_debt",
                   "mean_liquidations", "mean_unnecessary_liquidations", "mean_liquidated_accounts",
                   "mean_transferred_to_liquidators_usd", "mean_latent_bad_debt_usd")


@staff_member_required(login_url="frontend:login")
def montecarlo(request):
    form, error = MonteCarloForm(request.POST or None, initial=INITIAL), None
    if request.method == "POST" and form.is_valid():
        try:
            run = services.montecarlo_create(actor=request.user, **form.cleaned_data)
            return redirect("risklab:montecarlo-run", run_id=run.pk)
        except DomainError as exc:
            error = exc.message
    return render(request, "risklab/montecarlo.html", {"form": form, "error": error,
                                                       "runs": selectors.montecarlo_list(limit=20),
                                                       "policy_labels": POLICY_LABELS})


def _summary(figures: dict) -> dict:
    bad, share = figures["bad_debt_usd"], figures["bad_debt_share_of_borrows"]
    return {"bad_debt_p50_usd": bad["p50"], "bad_debt_p90_usd": bad["p90"], "bad_debt_p95_usd": bad["p95"],
            "bad_debt_p99_usd": bad["p99"], "bad_debt_max_usd": bad["max"], "bad_debt_mean_usd": bad["mean"],
            "bad_debt_p99_share_of_borrows": share["p99"], "paths_with_bad_debt": figures["paths_with_bad_debt"],
            **{k: figures.get(k) for k in SUMMARY_COLUMNS if k.startswith("mean_")}}


def _engines(run) -> list[tuple[str, dict]]:
    """In the order the run asked for (a JSONB object comes back with its keys reordered)."""
    return [(e, run.result["engines"][e]) for e in run.spec["engines"] if e in run.result["engines"]]


def _rows(run) -> list[dict]:
    return [{"engine": engine, "label": ENGINE_LABELS.get(engine, engine), **_summary(figures),
             "p99_share_percent": 100 * figures["bad_debt_share_of_borrows"]["p99"]}
            for engine, figures in _engines(run)]


def _bin(value: float) -> int:
    if value <= 0:
        return 0
    return next(i for i, (top, _) in enumerate(BAD_DEBT_BINS) if i and value < top)


def _bad_debt_histogram(run, per_path: list[dict]) -> dict:
    """Paths per bad-debt bin, one bar per engine (an SVG drawn by the template, no script)."""
    engines = run.spec["engines"]
    counts = {e: [0] * len(BAD_DEBT_BINS) for e in engines}
    for row in per_path:
        counts[row["engine"]][_bin(row["bad_debt_usd"])] += 1
    series = [{"label": ENGINE_LABELS.get(e, e), "colour": ENGINE_COLOURS.get(e, "#555"), "counts": counts[e]}
              for e in engines]
    return grouped_bars(series, [label for _, label in BAD_DEBT_BINS], scale=150, baseline=165)


def _download(run, fmt: str) -> HttpResponse:
    name = f"montecarlo-{run.pk}-{'-'.join(a['symbol'] for a in run.spec['assets'])}-{run.spec['policy']}"
    if fmt == "json":
        body = {"id": run.pk, "status": run.status, "n_paths": run.n_paths, "chunks_total": run.chunks_total,
                "spec": run.spec, "result": run.result}
        response = HttpResponse(json.dumps(body, indent=2), content_type="application/json")
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        if fmt == "paths":
            per_path = selectors.montecarlo_path_figures(run)
            figures = [f for f in FIGURES if per_path and f in per_path[0]]
            writer.writerow(["path", "engine", *figures])
            writer.writerows([r["path"], r["engine"], *(r[f] for f in figures)] for r in per_path)
            name, fmt = f"{name}-paths", "csv"
        else:
            writer.writerow(["engine", "policy", "paths", "n_paths", "seed", *SUMMARY_COLUMNS])
            for engine, figures in _engines(run):
                summary = _summary(figures)
                writer.writerow([engine, run.spec["policy"], run.spec["paths"], run.n_paths, run.spec["seed"],
                                 *(summary[c] for c in SUMMARY_COLUMNS)])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@staff_member_required(login_url="frontend:login")
def montecarlo_run(request, run_id: int):
    """Progress while chunks come in (the fragment polls every second and stops once done), then the result."""
    run = selectors.montecarlo_get(run_id=run_id)
    if run is None:
        raise Http404("No such Monte Carlo run")
    fmt = request.GET.get("format")
    if fmt is not None:
        if fmt not in ("csv", "paths", "json") or run.status != run.Status.DONE:
            raise Http404("Downloads: ?format=csv, ?format=paths or ?format=json, once the run is done")
        return _download(run, fmt)
    done = run.status == run.Status.DONE and run.result
    context = {"run": run, "progress": selectors.montecarlo_progress(run),
               "rows": _rows(run) if done else [],
               "bad_debt_chart": _bad_debt_histogram(run, selectors.montecarlo_path_figures(run)) if done else None,
               "assets": ", ".join(a["symbol"] for a in run.spec["assets"]),
               "policy_label": POLICY_LABELS.get(run.spec["policy"], run.spec["policy"]),
               "paths_label": PATH_LABELS.get(run.spec["paths"], run.spec["paths"]),
               "engines_label": ", ".join(ENGINE_LABELS.get(e, e) for e in run.spec["engines"])}
    template = "risklab/partials/montecarlo_status.html" if request.htmx else "risklab/montecarlo_run.html"
    return render(request, template, context)
