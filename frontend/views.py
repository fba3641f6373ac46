"""Server-rendered pages. Views stay thin: parse, call one service or selector, render."""
from datetime import UTC, datetime

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render

from common.charts import grouped_bars
from common.errors import DomainError
from core.amounts import format_amount, format_price
from core.clock import MarketClock
from core.simulation.backtest import POLICY_LABELS
from lending import services as lending_services
from markets.models import Asset, Reserve, is_symbol
from oracles.selectors import oracle_reads, round_history, rounds_effective_prices

from .forms import BacktestForm, RegisterForm
from .status import market_rows, market_status


def _markets_context():
    return [{**r, "price": format_price(r["read"].reference_price),
             "effective": format_price(r["read"].effective_price),
             "supplied": format_amount(r["view"].total_supplied, r["asset"].decimals),
             "borrowed": format_amount(r["view"].total_borrowed, r["asset"].decimals)} for r in market_rows()]


def dashboard(request):
    """A signed-in user's dashboard; anonymous visitors see the markets."""
    if request.user.is_authenticated:
        from .borrower_views import home

        return home(request)
    status = MarketClock.get("XNYS").state(datetime.now(UTC))
    template = "frontend/partials/markets.html" if request.htmx else "frontend/dashboard.html"
    return render(request, template, {"rows": _markets_context(), "status": status})


def register(request):
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:  # the service checks the name again, under its lock
            user = lending_services.user_register(username=form.cleaned_data["username"],
                                                  password=form.cleaned_data["password1"])
        except DomainError as exc:
            form.add_error("username", exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("frontend:dashboard")
    # A refused registration (weak password, taken name) is a 400, as on the API.
    return render(request, "frontend/register.html", {"form": form}, status=400 if form.is_bound else 200)


def _liquidation_rows(events) -> list[dict]:
    """Liquidation events as the API shows them (token amounts, HF), plus the datetime for the template."""
    from lending.api.serializers import LiquidationEventSerializer

    events = list(events)
    return [{**row, "when": e.created_at} for e, row in zip(events, LiquidationEventSerializer(events, many=True).data)]


@login_required
def account(request):
    """The old account page: the dashboard at / is the account now."""
    return redirect("frontend:dashboard")


def _require_symbol(symbol) -> None:
    """Shape check before any query: a NUL byte or a surrogate must never reach the database."""
    from django.http import Http404

    if symbol is not None and not is_symbol(symbol):
        raise Http404("No such asset")


def market_detail(request, symbol):
    _require_symbol(symbol)
    asset = get_object_or_404(Asset, symbol=symbol)
    rounds = round_history(asset)  # the last 30 days, thinned; a fresh install has shipped daily history
    effective = rounds_effective_prices(asset, rounds)
    spans = []
    if rounds:
        spans = [[int(a.timestamp()), int(b.timestamp())] for a, b in MarketClock.get(asset.calendar).closed_spans(
            rounds[0].created_at, rounds[-1].created_at)]
    chart = {"t": [int(r.created_at.timestamp()) for r in rounds], "closed": spans, "empty": "No rounds yet.",
             "series": [  # floats for drawing only
                 {"label": "Reference (USD)", "stroke": "#2563eb", "values": [r.reference_price / 1e8 for r in rounds]},
                 {"label": "Effective, after the haircut (USD)", "stroke": "#16a34a",
                  "values": [p / 1e8 for p in effective]},
                 {"label": "Token 24/7 (USD)", "stroke": "#f59e0b", "values": [r.token_price / 1e8 for r in rounds]}]}
    now = datetime.now(UTC)
    read = oracle_reads([asset], at=now, shared=True)[asset.symbol]
    return render(request, "frontend/market.html", {
        "asset": asset, "reserve": get_object_or_404(Reserve, asset=asset), "chart": chart,
        "weekend": _weekend_chart(asset), "read": read, "status": market_status(asset, read, now=now)})


def _weekend_chart(asset) -> dict:
    """The issuer profile over the last weekend, from the simulated source (feed_replay, seed 0)."""
    from oracles.selectors import weekend_replay

    steps = weekend_replay(asset, now=datetime.now(UTC))
    spans = [[int(a.timestamp()), int(b.timestamp())] for a, b in MarketClock.get(asset.calendar).closed_spans(
        steps[0].at, steps[-1].at)] if steps else []

    def usd(values):  # floats for drawing only; None leaves a gap (no token market then)
        return [None if v is None else v / 1e8 for v in values]

    series = [{"label": "Reference (USD)", "stroke": "#2563eb", "values": usd([s.reference_price for s in steps])},
              {"label": "Token (USD)", "stroke": "#f59e0b", "values": usd([s.token_price for s in steps])},
              {"label": "Effective (USD)", "stroke": "#16a34a", "values": usd([s.effective_price for s in steps])}]
    if steps and steps[0].band_low is not None:
        series += [{"label": "Band low", "stroke": "#9ca3af", "dash": [4, 4],
                    "values": usd([s.band_low for s in steps])},
                   {"label": "Band high", "stroke": "#9ca3af", "dash": [4, 4],
                    "values": usd([s.band_high for s in steps])}]
    return {"t": [int(s.at.timestamp()) for s in steps], "closed": spans, "series": series,
            "empty": "No simulated weekend for this asset.",
            "from": steps[0].at if steps else None, "to": steps[-1].at if steps else None}


@staff_member_required(login_url="frontend:login")
def backtests(request):
    """Queue a backtest of closed-market policies on real history; list the recent ones."""
    from oracles import selectors as oracle_selectors
    from oracles.services import BACKTEST_PARAMETERS, backtest_create

    form, error = BacktestForm(request.POST or None, initial={
        "asset": "TSLAx", "date_from": "2020-01-01", "date_to": "2024-12-31",
        "policies": ["none", "kamino", "fixed", "calibrated", "pause_when_closed"]}), None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        overrides = {f: data[f] for f in BACKTEST_PARAMETERS if data[f] is not None}
        try:
            job = backtest_create(asset=Asset.objects.get(symbol=data["asset"]), start=data["date_from"],
                                  end=data["date_to"], policies=data["policies"], overrides=overrides,
                                  actor=request.user, engine=data["engine"] or None,
                                  seize_at=data["seize_at"] or "reference", seed=data["seed"],
                                  recommend=data["recommend"])
            return redirect("frontend:backtest", backtest_id=job.pk)
        except DomainError as exc:
            error = exc.message
    return render(request, "frontend/backtests.html", {
        "form": form, "error": error, "jobs": oracle_selectors.backtest_list()[:20]})


POLICY_COLOURS = {"none": "#1f77b4", "kamino": "#9467bd", "fixed": "#ff7f0e", "calibrated": "#d62728",
                  "pause_when_closed": "#2ca02c"}
CSV_COLUMNS = ("bad_debt_usd", "deficit_usd", "transferred_to_liquidators_usd", "liquidations",
               "unnecessary_liquidations", "closed_market_liquidations", "bad_debt_events", "liquidation_penalty_usd",
               "unnecessary_penalty_usd", "mean_debt_usd", "bad_debt_bps_of_mean_debt", "mean_haircut_bps", "ltv_bps",
               "liquidation_threshold_bps", "liquidation_bonus_bps", "engine", "seize_at")
BAD_DEBT_BINS = ((0, 100, "< $100"), (100, 1_000, "$100–1k"), (1_000, 10_000, "$1k–10k"),
                 (10_000, 100_000, "$10k–100k"), (100_000, float("inf"), "≥ $100k"))


def _backtest_rows(result: dict) -> list[dict]:
    rows = []
    for name, figures in result["policies"].items():
        rows.append({"name": name, "label": POLICY_LABELS.get(name, name),
                     "least": name == result.get("least_bad_debt"), **figures})
    return rows


def _liquidations_chart(job, result: dict) -> dict:
    """Liquidations per session and policy (chart.js: closed days shaded), every session of the range."""
    days = [d for d in MarketClock.get("XNYS").sessions() if job.date_from <= d <= job.date_to]
    epoch = lambda d: int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())  # noqa: E731
    closed, series = [], []
    for a, b in zip(days, days[1:]):
        if (b - a).days > 1:  # a weekend or holiday between two sessions
            closed.append([epoch(a) + 86_400, epoch(b)])
    for name, figures in result["policies"].items():
        per_day = {day: sum(counts) for day, *counts in figures.get("timeline", [])}
        series.append({"label": POLICY_LABELS.get(name, name), "stroke": POLICY_COLOURS.get(name, "#555"),
                       "values": [per_day.get(d.isoformat(), 0) for d in days]})
    return {"t": [epoch(d) for d in days], "closed": closed, "series": series, "empty": "No sessions."}


def _bad_debt_histogram(result: dict) -> dict:
    """Per policy, how many closures left bad debt at market in each size bin (an SVG drawn by the template)."""
    rows = []
    for name, figures in result["policies"].items():
        values = [float(x) for x in figures.get("closure_bad_debt_usd", [])]
        rows.append({"label": POLICY_LABELS.get(name, name), "colour": POLICY_COLOURS.get(name, "#555"),
                     "counts": [sum(lo <= v < hi for v in values) for lo, hi, _ in BAD_DEBT_BINS],
                     "closures": len(values), "total": figures.get("bad_debt_usd")})
    return grouped_bars(rows, [label for _, _, label in BAD_DEBT_BINS], scale=160, baseline=170)


def _backtest_download(job, fmt: str):
    import csv
    import io
    import json

    from django.http import HttpResponse

    name = f"backtest-{job.pk}-{job.asset.symbol}-{job.date_from:%Y%m%d}-{job.date_to:%Y%m%d}"
    if fmt == "json":
        response = HttpResponse(json.dumps(job.result, indent=2), content_type="application/json")
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["policy", "label", *CSV_COLUMNS])
        for name_, figures in job.result["policies"].items():
            writer.writerow([name_, POLICY_LABELS.get(name_, name_), *(figures.get(c, "") for c in CSV_COLUMNS)])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@staff_member_required(login_url="frontend:login")
def backtest_detail(request, backtest_id: int):
    """The job, its progress while it runs (the fragment polls every second and stops once done), its result."""
    from django.http import Http404

    from oracles import selectors as oracle_selectors

    job = oracle_selectors.backtest_get(backtest_id=backtest_id)
    if job is None:
        raise Http404("No such backtest")
    fmt = request.GET.get("format")
    if fmt is not None:
        if fmt not in ("csv", "json") or not job.result:
            raise Http404("Downloads: ?format=csv or ?format=json, once the backtest is done")
        return _backtest_download(job, fmt)
    result = job.result or None
    context = {"job": job, "percent": round(100 * job.processed / job.total, 1) if job.total else 0.0,
               "rows": _backtest_rows(result) if result else [],
               "least_label": POLICY_LABELS.get(result.get("least_bad_debt"), "") if result else "",
               "all_same_bad_debt": bool(result) and len({p["bad_debt_usd"] for p in result["policies"].values()}) == 1,
               "liquidations_chart": _liquidations_chart(job, result) if result else None,
               "bad_debt_chart": _bad_debt_histogram(result) if result else None,
               "recommendation": (result or {}).get("recommendation")}
    template = "frontend/partials/backtest_status.html" if request.htmx else "frontend/backtest.html"
    return render(request, template, context)
