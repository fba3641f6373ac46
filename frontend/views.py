"""Server-rendered pages. Views stay thin: parse, call one service or selector, render."""
from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from common.errors import DomainError
from core.amounts import AmountError, format_amount, format_price, format_wad, parse_amount
from core.clock import MarketClock
from lending import selectors as lending_selectors
from lending import services as lending_services
from lending.identity import address_display
from markets import selectors as market_selectors
from markets.models import Asset, Reserve, is_symbol
from markets.services import ValidationFailed, reserve_update_parameters
from oracles.models import OracleRound
from oracles.selectors import oracle_reads
from oracles.services import oracle_set_manual_price

from .forms import ACTIONS, ActionForm, BacktestForm, PriceForm, RegisterForm, RiskForm, WhatIfForm

SERVICES = {"faucet": lending_services.account_faucet, "supply": lending_services.account_supply,
            "withdraw": lending_services.account_withdraw, "borrow": lending_services.account_borrow,
            "repay": lending_services.account_repay}


def _markets_context():
    views = market_selectors.market_list()
    reads = oracle_reads([v.reserve.asset for v in views])
    rows = []
    for v in views:
        read, asset = reads[v.reserve.asset.symbol], v.reserve.asset
        rows.append({"view": v, "asset": asset, "read": read, "price": format_price(read.reference_price),
                     "effective": format_price(read.effective_price),
                     "supplied": format_amount(v.total_supplied, asset.decimals),
                     "borrowed": format_amount(v.total_borrowed, asset.decimals)})
    return rows


def dashboard(request):
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
            return redirect("frontend:account")
    # A refused registration (weak password, taken name) is a 400, as on the API.
    return render(request, "frontend/register.html", {"form": form}, status=400 if form.is_bound else 200)


def _liquidation_rows(events) -> list[dict]:
    """Liquidation events as the API shows them (token amounts, HF), plus the datetime for the template."""
    from lending.api.serializers import LiquidationEventSerializer

    events = list(events)
    return [{**row, "when": e.created_at} for e, row in zip(events, LiquidationEventSerializer(events, many=True).data)]


def _audit_row(entry) -> dict:
    """An audit entry for display: prices (stored as 8-decimal integers) in dollars, other values as stored."""
    def shown(value):
        if entry.field.endswith("price") and value not in (None, ""):
            try:
                return f"${format_price(int(value))}"
            except ValueError:
                return value
        return value

    from common.services import audit_revertible

    return {"id": entry.pk, "revertible": audit_revertible(entry), "created_at": entry.created_at,
            "actor": entry.actor.username if entry.actor else "system",
            "what": f"{entry.target} {entry.field}", "old": shown(entry.old_value), "new": shown(entry.new_value),
            "reason": entry.reason}


def _account_context(request, form=None, error=None, notice=None):
    account = lending_services.account_for_user(request.user)
    summary = lending_selectors.account_summary(account)
    hf = summary.health.health_factor
    positions = [{"asset": p["asset"], "supplied": format_amount(p["supplied"], p["decimals"]),
                  "borrowed": format_amount(p["borrowed"], p["decimals"]), "collateral": p["collateral"]}
                 for p in summary.positions]
    return {
        "form": form or ActionForm(), "actions": ACTIONS, "error": error, "notice": notice,
        "address": address_display(account.eth_address),
        "wallet": {s: format_amount(v, summary.decimals[s]) for s, v in summary.wallet.items()},
        "positions": positions,
        "health_factor": format_wad(hf)[:8] if hf is not None else None,
        "hf_class": "none" if hf is None else ("danger" if hf < 10**18 else "warn" if hf < 12 * 10**17 else "ok"),
        "collateral_usd": format_price(summary.health.by_lt.total_collateral_base),
        "debt_usd": format_price(summary.health.by_lt.total_debt_base),
        "power_usd": format_price(summary.health.by_ltv.available_borrows_base),
        "liquidation_prices": {s: format_price(p) for s, p in summary.liquidation_prices.items()},
        "outlook": [{**o, "health_factor": format_wad(o["health_factor"])[:8] if o["health_factor"] is not None
                     else None, "haircuts": ", ".join(f"{s} {b} bps" for s, b in o["haircuts"].items()) or "none"}
                    for o in lending_selectors.account_outlook(account)],
        "liquidations": _liquidation_rows(lending_selectors.liquidation_list(user=request.user,
                                                                            account=account.pk)[:10]),
    }


@login_required
def account(request):
    if request.htmx:
        return render(request, "frontend/partials/account_panel.html", _account_context(request))
    history = lending_selectors.account_health_history(lending_services.account_for_user(request.user))
    chart = {"t": history["t"], "closed": history["closed"],
             "empty": "Nothing to draw yet: the chart covers an account with debt and is drawn when the page loads.",
             "series": [{"label": "Health factor", "stroke": "#2563eb", "values": history["hf"]},
                        {"label": "Liquidation (HF 1)", "stroke": "#dc2626", "dash": [6, 4],
                         "values": [1.0] * len(history["t"])}]}
    return render(request, "frontend/account.html", {**_account_context(request), "hf_chart": chart})


@login_required
@require_POST
def account_action(request):
    """One action from the form; errors come back inline with status 200 (htmx 2 does not swap 4xx)."""
    form = ActionForm(request.POST)
    action = request.POST.get("action")
    error = notice = None
    if action not in SERVICES:
        error = "Choose Faucet, Supply, Withdraw, Borrow or Repay."
    elif form.is_valid():
        asset = Asset.objects.get(symbol=form.cleaned_data["asset"])
        try:
            amount = parse_amount(form.cleaned_data["amount"], asset.decimals,
                                  allow_max=action in ("withdraw", "repay"))
            SERVICES[action](account=lending_services.account_for_user(request.user), symbol=asset.symbol,
                             amount=amount)
            notice = f"{dict(ACTIONS)[action]} of {form.cleaned_data['amount']} {asset.symbol} done."
            form = ActionForm(initial={"asset": asset.symbol})
        except AmountError as exc:
            error = str(exc)
        except DomainError as exc:
            error = exc.message
    else:
        error = "; ".join(e for errs in form.errors.values() for e in errs)
    context = _account_context(request, form=form, error=error, notice=notice)
    template = "frontend/partials/account_panel.html" if request.htmx else "frontend/account.html"
    return render(request, template, context)


@login_required
@require_POST
def toggle_collateral(request, symbol):
    _require_symbol(symbol)
    error = None
    try:
        lending_services.account_set_collateral(account=lending_services.account_for_user(request.user),
                                                symbol=symbol, enabled=request.POST.get("enabled") == "1")
    except DomainError as exc:
        error = exc.message
    return render(request, "frontend/partials/account_panel.html", _account_context(request, error=error))


def _require_symbol(symbol) -> None:
    """Shape check before any query: a NUL byte or a surrogate must never reach the database."""
    from django.http import Http404

    if symbol is not None and not is_symbol(symbol):
        raise Http404("No such asset")


def market_detail(request, symbol):
    _require_symbol(symbol)
    asset = get_object_or_404(Asset, symbol=symbol)
    rounds = list(OracleRound.objects.filter(asset=asset).order_by("-id")[:500])[::-1]
    spans = []
    if rounds:
        spans = [[int(a.timestamp()), int(b.timestamp())] for a, b in MarketClock.get(asset.calendar).closed_spans(
            rounds[0].created_at, rounds[-1].created_at)]
    chart = {"t": [int(r.created_at.timestamp()) for r in rounds], "closed": spans, "empty": "No rounds yet.",
             "series": [  # floats for drawing only
                 {"label": "Reference (USD)", "stroke": "#2563eb", "values": [r.reference_price / 1e8 for r in rounds]},
                 {"label": "Token 24/7 (USD)", "stroke": "#f59e0b", "values": [r.token_price / 1e8 for r in rounds]}]}
    return render(request, "frontend/market.html", {
        "asset": asset, "reserve": get_object_or_404(Reserve, asset=asset), "chart": chart,
        "read": (read := oracle_reads([asset])[asset.symbol]), "price": format_price(read.reference_price),
        "effective": format_price(read.effective_price)})


@staff_member_required(login_url="frontend:login")
def risk(request, symbol=None):
    """The risk desk: one page, several forms; a POST names its form and goes to that form's handler.
    Input that fails its form's checks answers 400; a refusal by the service shows on the page (200)."""
    _require_symbol(symbol)
    reserve = get_object_or_404(Reserve.objects.select_related("asset"), asset__symbol=symbol or "TSLAx")
    initial = {f: getattr(reserve, f) for f in RiskForm.base_fields if f != "reason"}
    ctx = {"form": RiskForm(initial=initial), "price_form": PriceForm(), "error": None,
           "what_if_form": WhatIfForm(initial={"percent": "-20"}), "what_if": None}
    handler, prefix = _RISK_FORMS.get(request.POST.get("form"), (None, "")) if request.method == "POST" else (None, "")
    status = 200
    if handler:
        try:
            notice = handler(request, reserve, ctx)
            if notice:
                messages.success(request, notice)
                return redirect("frontend:risk", symbol=reserve.asset.symbol)
            if any(form.is_bound and form.errors for form in (ctx["form"], ctx["price_form"], ctx["what_if_form"])):
                status = 400
        except AmountError as exc:
            ctx["error"], status = prefix + str(exc), 400
        except (ValidationFailed, DomainError) as exc:
            ctx["error"] = prefix + exc.message
    from common.services import audit_list

    return render(request, "frontend/risk.html", {
        **ctx, "reserve": reserve, "symbols": Asset.objects.order_by("id").values_list("symbol", flat=True),
        "audit": [_audit_row(a) for a in audit_list()[:30]],
        "liquidations": _liquidation_rows(lending_selectors.liquidation_list(user=request.user)[:30]),
    }, status=status)


# Each handler returns a notice once it has acted (then the page redirects), or None to show the page again.

def _risk_parameters(request, reserve, ctx) -> str | None:
    ctx["form"] = form = RiskForm(request.POST)
    if not form.is_valid():
        return None
    changes = dict(form.cleaned_data)
    reason = changes.pop("reason")
    reserve_update_parameters(symbol=reserve.asset.symbol, actor=request.user, changes=changes, reason=reason)
    return "Parameters saved and audited."


def _risk_price(request, reserve, ctx) -> str | None:
    ctx["price_form"] = form = PriceForm(request.POST)
    if not form.is_valid():
        return None
    price = form.cleaned_data["price"]  # parsed and bounded by PriceForm
    oracle_set_manual_price(asset=reserve.asset, price=price, actor=request.user, reason=form.cleaned_data["reason"],
                            confirm=form.cleaned_data["confirm"])
    return f"{reserve.asset.symbol} pinned at ${format_price(price)}; a scan runs."


def _risk_revert(request, reserve, ctx) -> str:
    from common.services import audit_revert
    from core.amounts import parse_uint

    try:  # ASCII digits only: int() would read "٣" as 3
        entry_id = parse_uint(request.POST.get("entry", ""), high=2**63 - 1, name="entry")
    except AmountError:
        raise AmountError("Choose a change to revert.") from None
    entry = audit_revert(entry_id=entry_id, actor=request.user, reason="undo on the risk desk")
    return f"Reverted: {entry.target} {entry.field} is back to {entry.new_value}."


def _risk_what_if(request, reserve, ctx) -> None:
    from core.amounts import parse_percent_bps

    ctx["what_if_form"] = form = WhatIfForm(request.POST)
    if form.is_valid():
        bps = parse_percent_bps(form.cleaned_data["percent"])
        ctx["what_if"] = lending_selectors.what_if_shock(shocks_bps={reserve.asset.symbol: bps},
                                                         when=form.cleaned_data["at"])
    return None  # a what-if writes nothing: show its result on the page


def _risk_scan(request, reserve, ctx) -> str:
    import secrets

    lending_services.liquidation_scan_enqueue(round_key=f"manual-{secrets.token_hex(6)}")
    return "Scan queued: the keeper liquidates every account below HF 1."


_RISK_FORMS = {"risk": (_risk_parameters, ""), "price": (_risk_price, "Price: "), "revert": (_risk_revert, ""),
               "what-if": (_risk_what_if, "What-if: "), "scan": (_risk_scan, "")}


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
                                  actor=request.user)
            return redirect("frontend:backtest", backtest_id=job.pk)
        except DomainError as exc:
            error = exc.message
    return render(request, "frontend/backtests.html", {
        "form": form, "error": error, "jobs": oracle_selectors.backtest_list()[:20]})


def _backtest_rows(result: dict) -> list[dict]:
    rows = []
    for name, figures in result["policies"].items():
        rows.append({"name": name, "least": name == result.get("least_bad_debt"), **figures})
    return rows


@staff_member_required(login_url="frontend:login")
def backtest_detail(request, backtest_id: int):
    """The job, its progress while it runs (the fragment polls every second and stops once done), its result."""
    from django.http import Http404

    from oracles import selectors as oracle_selectors

    job = oracle_selectors.backtest_get(backtest_id=backtest_id)
    if job is None:
        raise Http404("No such backtest")
    context = {"job": job, "percent": round(100 * job.processed / job.total, 1) if job.total else 0.0,
               "rows": _backtest_rows(job.result) if job.result else []}
    template = "frontend/partials/backtest_status.html" if request.htmx else "frontend/backtest.html"
    return render(request, template, context)
