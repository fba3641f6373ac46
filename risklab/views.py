"""The Monte Carlo page (staff): queue a run, watch its chunks come in, read the bad-debt distribution."""
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404
from django.shortcuts import redirect, render

from common.errors import DomainError

from . import selectors, services
from .forms import MonteCarloForm

INITIAL = {"assets": ["TSLAx"], "engines": ["v3.3", "v4"], "policy": "calibrated", "paths": "simulated",
           "n_paths": 40, "hours": 24 * 14, "accounts": 2_000, "seed": 1}


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
                                                       "runs": selectors.montecarlo_list(limit=20)})


def _rows(result: dict) -> list[dict]:
    return [{"engine": engine, **figures} for engine, figures in result["engines"].items()]


@staff_member_required(login_url="frontend:login")
def montecarlo_run(request, run_id: int):
    """Progress while chunks come in (the fragment polls every second and stops once done), then the result."""
    run = selectors.montecarlo_get(run_id=run_id)
    if run is None:
        raise Http404("No such Monte Carlo run")
    context = {"run": run, "progress": selectors.montecarlo_progress(run),
               "rows": _rows(run.result) if run.result else [],
               "assets": ", ".join(a["symbol"] for a in run.spec["assets"])}
    template = "risklab/partials/montecarlo_status.html" if request.htmx else "risklab/montecarlo_run.html"
    return render(request, template, context)
