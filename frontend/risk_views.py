"""The risk console for staff: the pool at a glance and the accounts nearest liquidation (/risk/), and one
asset's desk (/risk/<symbol>/): its price card (pin, shock in percent, unpin), its parameters with a live
preview of who a change puts at risk, a what-if, its audit trail and liquidations.

Views stay thin: parse, call one service or selector, render. A POST names its form; a form that acted
redirects (post/redirect/get), one that did not shows the page again with the reason inline (400 for a plain
request, 200 for htmx, which does not swap 4xx)."""
from types import SimpleNamespace

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Max, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.views.decorators.http import require_POST

from common.errors import Conflict, DomainError
from common.models import AuditEntry
from common.prepared import prepared
from common.services import audit_revert, audit_revertible
from core.amounts import format_price
from lending import risk_selectors
from lending import selectors as lending_selectors
from lending import services as lending_services
from lending.models import LiquidationEvent
from markets.models import Asset, Reserve
from markets.selectors import pool_get, reserve_by_symbol
from markets.services import ValidationFailed, pool_update_parameters, reserve_update_parameters
from oracles.models import OracleFeed
from oracles.selectors import oracle_reads
from oracles.services import oracle_resume_source, oracle_set_manual_price, oracle_shock, oracle_unpin

from .risk_forms import (
    HealthFactorField,
    PinForm,
    PoolForm,
    PreviewForm,
    ReserveParametersForm,
    RevertForm,
    ShockForm,
    UnpinForm,
    WhatIfForm,
)
from .status import market_status
from .templatetags.numbers import hf, hf_band, usd
from .views import _require_symbol

staff_only = staff_member_required(login_url="frontend:login")
AUDIT_ROWS = 40
LIQUIDATION_ROWS = 20


# --- shared pieces ----------------------------------------------------------------------------------------

def audit_rows(entries) -> list[dict]:
    """Audit entries for display: prices in dollars, bps in percent; Revert only where it can still act (a
    revertible kind of change, and the latest change of its field, so nothing has moved it since)."""
    entries = list(entries)
    latest = set(AuditEntry.objects.filter(target__in={e.target for e in entries}).values("target", "field")
                 .annotate(last=Max("id")).values_list("last", flat=True)) if entries else set()

    def shown(field, value):
        if value in (None, ""):
            return "—"
        if isinstance(value, int) and not isinstance(value, bool):
            if field.endswith("price"):
                return usd(value)
            if field.endswith("_bps") or field.startswith("shock_"):
                sign = "+" if field.startswith("shock_") and value > 0 else ""
                whole, frac = divmod(abs(value), 100)
                text = f"{whole:,}" + (f".{frac:02d}".rstrip("0") if frac else "")
                return f"{sign}{'-' if value < 0 else ''}{text}%"
        return value

    return [{"id": e.pk, "created_at": e.created_at, "actor": e.actor.username if e.actor else "system",
             "target": e.target, "field": e.field, "old": shown(e.field, e.old_value),
             "new": shown(e.field, e.new_value), "reason": e.reason,
             "revertible": audit_revertible(e) and e.pk in latest} for e in entries]


def account_rows(rows) -> list[dict]:
    """Accounts at risk (risk_selectors.AccountRisk) with every cell formatted here, once, rather than by a filter
    per cell in the template (the console's fifty rows: 6 ms of template rendering that way, 3 ms this way)."""
    shown = []
    for r in rows:
        shown.append({
            "account_id": r.account_id, "username": r.username, "over_ltv": r.over_ltv,
            "hf_before_band": hf_band(r.health_factor_before), "hf_before": hf(r.health_factor_before),
            "hf_band": hf_band(r.health_factor), "hf": hf(r.health_factor),
            "collateral": usd(r.collateral_base), "debt": usd(r.debt_base),
            "liquidation_prices": ", ".join(f"{s} {usd(p)}" for s, p in r.liquidation_prices.items()) or "—",
            "outlook": [(hf_band(value), hf(value)) for _, value in r.outlook],
            "outlook_labels": [label for label, _ in r.outlook]})
    return shown


def _status(request, form_failed: bool) -> int:
    return 400 if form_failed and not request.htmx else 200


# The latest liquidations as lending.selectors.liquidation_list gives them to staff (every account's), with the SQL
# compiled once a process (common.prepared): the ORM spent a millisecond building it for each page and each poll of
# the feed. Every view here is staff_only, so no account filter applies. A desk's asset is either leg's, named twice.
_staff = SimpleNamespace(is_staff=True)
_recent_liquidations = prepared(lambda: lending_selectors.liquidation_list(user=_staff)
                                .select_related("account__user")[:LIQUIDATION_ROWS])
_recent_liquidations_of = prepared(
    lambda debt, collateral: LiquidationEvent.objects
    .select_related("debt_asset", "collateral_asset", "oracle_round", "account__user")
    .filter(Q(debt_asset__symbol=debt) | Q(collateral_asset__symbol=collateral)).order_by("-id")[:LIQUIDATION_ROWS])


def _liquidations(request, symbol):
    return _recent_liquidations_of(symbol, symbol) if symbol else _recent_liquidations()


_latest_audit = prepared(lambda: AuditEntry.objects.select_related("actor").order_by("-id")[:AUDIT_ROWS])
_desk_urls: dict[tuple, str] = {}


def desk_url(symbol: str) -> str:
    """The URL of `symbol`'s desk, reversed once a process (per script prefix and URLconf, which reverse reads): the
    console links every desk up to three times, some 45 {% url %} tags at 30 us each."""
    key = (get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF, symbol)
    url = _desk_urls.get(key)
    if url is None:
        url = _desk_urls[key] = reverse("frontend:risk", args=[symbol])
    return url


@staff_only
def liquidation_feed(request):
    """The recent liquidations, polled by the console and the desks every few seconds."""
    symbol = request.GET.get("asset") or None
    _require_symbol(symbol)
    return render(request, "frontend/partials/risk_liquidations.html",
                  {"events": _liquidations(request, symbol), "asset": symbol or ""})


# --- the console --------------------------------------------------------------------------------------------

@staff_only
def console(request):
    """The pool at a glance: exposure, deficits, feeds that need attention, market status, accounts at risk,
    the liquidation engine, the audit trail, the liquidations as they happen."""
    ctx = {"pool_form": None, "revert_form": None, "error": None}
    failed = False
    if request.method == "POST":
        handler = {"pool": _pool_change, "revert": _revert, "scan": _scan}.get(request.POST.get("form"))
        if handler is None:
            ctx["error"], failed = "Unknown form.", True
        else:
            try:
                notice = handler(request, ctx)
                if notice:
                    messages.success(request, notice)
                    return redirect("frontend:risk-default")
                failed = True
            except (ValidationFailed, DomainError) as exc:
                ctx["error"] = exc.message
    pool = pool_get()
    ctx["pool_form"] = ctx["pool_form"] or PoolForm(initial={f: getattr(pool, f) for f in pool.PARAMETER_FIELDS})
    pricing = risk_selectors.pricing_now()  # one reading of the reserves and prices for the whole page
    overview = risk_selectors.pool_overview(pricing=pricing)
    _calendar_badges(overview)
    for row in overview["rows"]:  # the attention list holds the same rows
        row["href"] = desk_url(row["symbol"])
    return render(request, "frontend/risk_console.html", {
        **ctx, "overview": overview, "pool": pool,
        "at_risk": account_rows(risk_selectors.accounts_at_risk(pricing=pricing)),
        "at_risk_limit": risk_selectors.AT_RISK_LIMIT,
        "decimals": {r["symbol"]: r["reserve"].asset.decimals for r in overview["rows"]},
        "audit": audit_rows(_latest_audit()),
        "desks": [(r["symbol"], r["href"]) for r in overview["rows"]], "liquidations": _liquidations(request, None),
        "pool_hf": {"target": HealthFactorField().prepare_value(pool.target_health_factor_bps),
                    "max_bonus": HealthFactorField().prepare_value(pool.health_factor_for_max_bonus_bps)},
    }, status=_status(request, failed))


def _calendar_badges(overview: dict) -> None:
    """Each calendar's badge as the borrowers see it (After hours, Closed: weekend, ...) with its countdown (the
    haircut differs per token: the exposure table's price is the reference)."""
    no_haircut = SimpleNamespace(haircut_bps=0)
    for cal in overview["calendars"]:
        cal["status"] = market_status(SimpleNamespace(kind="stock", calendar=cal["calendar"]), no_haircut)


def _pool_change(request, ctx) -> str | None:
    ctx["pool_form"] = form = PoolForm(request.POST)
    if not form.is_valid():
        return None
    changes = dict(form.cleaned_data)
    reason = changes.pop("reason")
    pool = pool_update_parameters(actor=request.user, changes=changes, reason=reason)
    return f"Liquidation engine saved and audited: {pool.liquidation_engine}."


def _revert(request, ctx) -> str | None:
    ctx["revert_form"] = form = RevertForm(request.POST)
    if not form.is_valid():
        ctx["error"] = "Revert: " + " ".join(e for errs in form.errors.values() for e in errs)
        return None
    entry = audit_revert(entry_id=form.cleaned_data["entry"], actor=request.user, reason=form.cleaned_data["reason"])
    shown = audit_rows([entry])[0]["new"]
    return f"Reverted: {entry.target} {entry.field} is back to {shown}."


def _scan(request, ctx) -> str:
    import secrets

    lending_services.liquidation_scan_enqueue(round_key=f"manual-{secrets.token_hex(6)}")
    return "Scan queued: the keeper liquidates every account below HF 1."


# --- one asset's desk ---------------------------------------------------------------------------------------

def _reserve(symbol) -> Reserve:
    _require_symbol(symbol)
    reserve = reserve_by_symbol(symbol)
    if reserve is None:
        raise Http404("No such asset")
    return reserve


def _initial(reserve: Reserve) -> dict:
    return {f: getattr(reserve, f) for f in ReserveParametersForm.base_fields if f != "reason"}


@staff_only
def desk(request, symbol):
    reserve = _reserve(symbol)
    asset = reserve.asset
    ctx = {"form": ReserveParametersForm(initial=_initial(reserve)), "pin_form": PinForm(),
           "shock_form": ShockForm(initial={"at": "now"}), "unpin_form": UnpinForm(),
           "what_if_form": WhatIfForm(initial={"percent": "-20", "at": "now"}), "what_if": None,
           "error": None, "errors": {}, "needs_confirm": False, "revert_form": None}
    failed = False
    if request.method == "POST":
        name = request.POST.get("form")
        handler = _DESK_FORMS.get(name)
        if handler is None:
            ctx["error"], failed = "Unknown form.", True
        else:
            try:
                notice = handler(request, reserve, ctx)
                if notice:
                    messages.success(request, notice)
                    return redirect("frontend:risk", symbol=asset.symbol)
                failed = name != "what-if" or ctx["what_if"] is None
            except (ValidationFailed, DomainError) as exc:
                ctx["errors"][name.replace("-", "_")] = exc.message
                if isinstance(exc, Conflict) and exc.code == "confirmation_required":
                    ctx["needs_confirm"] = True
    read = oracle_reads([asset], shared=True)[asset.symbol]  # the feed and policy from this process's memo
    feed = OracleFeed.objects.filter(asset=asset).first()
    audit = AuditEntry.objects.select_related("actor").filter(target__endswith=f":{asset.symbol}").order_by("-id")
    resume_source = oracle_resume_source(asset) if read.source == OracleFeed.Source.MANUAL else None
    return render(request, "frontend/risk_desk.html", {
        **ctx, "reserve": reserve, "asset": asset, "read": read, "status": market_status(asset, read),
        "pinned": resume_source is not None, "resume_source": resume_source,
        "pending_shock_bps": int((feed.config if feed else {}).get("pending_shock_bps", 0)),
        "desks": [(s, desk_url(s)) for s in Asset.objects.order_by("id").values_list("symbol", flat=True)],
        "audit": audit_rows(audit[:AUDIT_ROWS]), "liquidations": _liquidations(request, asset.symbol),
    }, status=_status(request, failed))


def _parameters(request, reserve, ctx) -> str | None:
    ctx["form"] = form = ReserveParametersForm(request.POST)
    if not form.is_valid():
        return None
    reserve_update_parameters(symbol=reserve.asset.symbol, actor=request.user, changes=form.changes(),
                              reason=form.cleaned_data["reason"])
    return "Parameters saved and audited."


def _pin(request, reserve, ctx) -> str | None:
    ctx["pin_form"] = form = PinForm(request.POST)
    if not form.is_valid():
        return None
    price = form.cleaned_data["price"]
    oracle_set_manual_price(asset=reserve.asset, price=price, actor=request.user, reason=form.cleaned_data["reason"],
                            confirm=form.cleaned_data["confirm"])
    return f"{reserve.asset.symbol} pinned at ${format_price(price)}; a scan runs."


def _shock(request, reserve, ctx) -> str | None:
    ctx["shock_form"] = form = ShockForm(request.POST)
    if not form.is_valid():
        return None
    data = form.cleaned_data
    rnd = oracle_shock(asset=reserve.asset, percent_bps=data["percent"], at=data["at"], actor=request.user,
                       reason=data["reason"])
    move = f"{data['percent'] / 100:+g}%"
    if rnd is None:
        return f"{reserve.asset.symbol} {move} is queued for the next open."
    return f"{reserve.asset.symbol} {move}: now ${format_price(rnd.reference_price)}; a scan runs."


def _unpin(request, reserve, ctx) -> str | None:
    ctx["unpin_form"] = form = UnpinForm(request.POST)
    if not form.is_valid():
        return None
    rnd = oracle_unpin(asset=reserve.asset, actor=request.user, reason=form.cleaned_data["reason"])
    return f"{reserve.asset.symbol} is back on its {rnd.source} feed at ${format_price(rnd.reference_price)}."


def _desk_revert(request, reserve, ctx) -> str | None:
    return _revert(request, ctx)


def _what_if(request, reserve, ctx) -> None:
    ctx["what_if_form"] = form = WhatIfForm(request.POST)
    if form.is_valid():
        result = lending_selectors.what_if_shock(shocks_bps={reserve.asset.symbol: form.cleaned_data["percent"]},
                                                 when=form.cleaned_data["at"])
        ctx["what_if"] = result
        ctx["what_if_usd"] = {k: _scaled(v, 8) for k, v in result.items() if k.endswith("_usd")}
        ctx["what_if_accounts"] = _what_if_accounts(result)
    return None  # a what-if writes nothing: its result shows on the page


def _what_if_accounts(result: dict) -> list[dict]:
    """The accounts the what-if would liquidate, with their usernames. Until what_if_shock lists every one
    ("accounts"), its worst ten stand in."""
    from lending.models import Account

    rows = result.get("accounts") or result.get("worst_accounts") or []
    ids = [r["account"] for r in rows]
    names = dict(Account.objects.filter(pk__in=ids).values_list("pk", "user__username"))
    return [{**r, "username": r.get("username") or names.get(r["account"], ""),
             "hf_before": _scaled(r.get("health_factor_before"), 18),
             "hf_after": _scaled(r.get("health_factor_after"), 18),
             "bad_debt": _scaled(r.get("bad_debt_usd"), 8)} for r in rows]


def _scaled(text, places: int) -> int | None:
    """what_if_shock's decimal strings back to integers (USD 8 decimals, HF 18), for the number filters."""
    from decimal import Decimal, InvalidOperation

    if text in (None, ""):
        return None
    try:
        return int(Decimal(str(text)).scaleb(places))
    except (InvalidOperation, ValueError):
        return None


def _desk_scan(request, reserve, ctx) -> str:
    return _scan(request, ctx)


_DESK_FORMS = {"risk": _parameters, "price": _pin, "shock": _shock, "unpin": _unpin, "revert": _desk_revert,
               "what-if": _what_if, "scan": _desk_scan}


@staff_only
@require_POST
def preview(request, symbol):
    """Who the parameters being typed would put at risk, before anything is saved (htmx, as the admin types)."""
    reserve = _reserve(symbol)
    form = PreviewForm(request.POST)
    result, error = None, None
    if form.is_valid():
        changes = {f: v for f, v in form.changes().items() if v is not None}
        from markets.services import validate_reserve_config

        cfg = {**{f: getattr(reserve, f) for f in Reserve.PARAMETER_FIELDS}, **changes}
        errors = validate_reserve_config(cfg)
        if errors:
            error = next(iter(errors.values()))
        else:
            result = risk_selectors.reserve_change_preview(symbol=reserve.asset.symbol, changes=changes)
            result = {**result, "rows": account_rows(result["rows"])}
    else:
        error = " ".join(e for errs in form.errors.values() for e in errs)
    decimals = dict(Asset.objects.values_list("symbol", "decimals"))
    return render(request, "frontend/partials/risk_preview.html",
                  {"result": result, "error": error, "reserve": reserve, "decimals": decimals})

