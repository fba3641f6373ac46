"""The borrower's pages: the dashboard at / for a signed-in user, one form per action with a live preview,
the history, and sign-in with a wallet. Views stay thin: parse, call one service or selector, render."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from common.errors import DomainError
from core.amounts import AmountError, format_amount, parse_amount
from lending import selectors as lending_selectors
from lending import services as lending_services
from lending.identity import address_display
from markets.models import Asset, is_symbol

from .borrower_forms import ACTION_LABELS, AmountForm
from .status import market_rows

SERVICES = {"faucet": lending_services.account_faucet, "supply": lending_services.account_supply,
            "withdraw": lending_services.account_withdraw, "borrow": lending_services.account_borrow,
            "repay": lending_services.account_repay}
AVAILABLE_LABELS = {"faucet": "Faucet allowance left today", "supply": "Wallet balance",
                    "withdraw": "Withdrawable now", "borrow": "Available to borrow", "repay": "Repayable now"}


def _value(amount: int, price: int, decimals: int) -> int:
    """Token base units x 8-decimal price -> 8-decimal USD (floor), as Aave's base currency."""
    return amount * price // 10**decimals


def _dashboard_context(request, *, chart: bool = True, panel: dict | None = None) -> dict:
    now = datetime.now(UTC)
    account = lending_services.account_for_user(request.user)
    summary = lending_selectors.account_summary(account)
    health = summary.health
    rows = {r["asset"].symbol: r for r in market_rows(now)}
    supplies, borrows = [], []
    for p in summary.positions:
        row = rows[p["asset"]]
        asset, read, view = row["asset"], row["read"], row["view"]
        if p["supplied"]:
            supplies.append({**row, "amount": p["supplied"], "apy": view.supply_apy, "collateral": p["collateral"],
                             "usd": _value(p["supplied"], read.reference_price, asset.decimals),
                             "can_collateral": row["reserve"].ltv_bps > 0 and row["reserve"].collateral_enabled})
        if p["borrowed"]:
            borrows.append({**row, "amount": p["borrowed"], "apy": view.borrow_apy,
                            "usd": _value(p["borrowed"], read.reference_price, asset.decimals)})
    supplied_usd = sum(r["usd"] for r in supplies)
    borrowed_usd = sum(r["usd"] for r in borrows)
    net_worth = supplied_usd - borrowed_usd
    # Aave's net APY: yearly interest earned minus paid, over net worth (display only, floats).
    earned = sum(r["usd"] * float(r["apy"]) for r in supplies) - sum(r["usd"] * float(r["apy"]) for r in borrows)
    net_apy = f"{earned / net_worth:.4f}" if net_worth > 0 else None
    power = health.by_ltv.available_borrows_base
    to_supply = [{**r, "wallet": summary.wallet.get(s, 0)} for s, r in rows.items()]
    to_supply.sort(key=lambda r: (r["wallet"] == 0, r["asset"].pk))  # what you hold first
    to_borrow = []
    for r in rows.values():
        if not r["reserve"].borrowing_enabled or r["reserve"].paused:
            continue
        price, unit = r["read"].reference_price, r["asset"].unit
        can = min(power * unit // price if price else 0, r["reserve"].virtual_balance)
        to_borrow.append({**r, "available": can, "liquidity": r["reserve"].virtual_balance})
    lt, ltv = health.by_lt, health.by_ltv
    risk = None
    if lt.total_collateral_base:
        risk = {"current_ltv_bps": lt.total_debt_base * 10_000 // lt.total_collateral_base,
                # borrowing power at today's haircut, as a share of the market value the threshold uses
                "max_ltv_bps": ltv.total_collateral_base * ltv.avg_ltv_bps // lt.total_collateral_base,
                "threshold_bps": lt.avg_liquidation_threshold_bps,
                "liquidation": [{"symbol": s, "price": p, "now": rows[s]["read"].reference_price,
                                 "drop_bps": (rows[s]["read"].reference_price - p) * 10_000
                                 // rows[s]["read"].reference_price if rows[s]["read"].reference_price else 0}
                                for s, p in summary.liquidation_prices.items()]}
    outlook = lending_selectors.account_outlook(account) if borrows else []
    context = {
        "address": address_display(account.eth_address), "health_factor": health.health_factor,
        "has_debt": bool(borrows), "net_worth": net_worth, "net_apy": net_apy, "supplied_usd": supplied_usd,
        "borrowed_usd": borrowed_usd, "power_usd": power, "collateral_usd": lt.total_collateral_base,
        "supplies": supplies, "borrows": borrows, "to_supply": to_supply, "to_borrow": to_borrow, "risk": risk,
        "outlook": outlook, "panel": panel, "actions": ACTION_LABELS,
        "liquidations": lending_selectors.liquidation_list(user=request.user, account=account.pk)[:5],
    }
    if chart:
        context["hf_chart"] = _hf_chart(account) if borrows else None
    return context


def _hf_chart(account) -> dict:
    history = lending_selectors.account_health_history(account)
    values = history["hf"]
    if values:  # the chart's text alternative: where it ends and how low it went
        low = min(range(len(values)), key=values.__getitem__)
        when = datetime.fromtimestamp(history["t"][low], UTC).strftime("%a %d %b %H:%M UTC")
        alt = (f"Health factor chart: {values[-1]:.2f} now, lowest {values[low]:.2f} on {when}; liquidation at "
               f"1.00. Grey bands are NYSE closures.")
    else:
        alt = "Health factor chart: not enough price history yet."
    return {"t": history["t"], "closed": history["closed"], "empty": "Not enough price history yet.", "alt": alt,
            "series": [{"label": "Health factor", "stroke": "#2563eb", "values": history["hf"]},
                       {"label": "Liquidation (HF 1)", "stroke": "#dc2626", "dash": [6, 4],
                        "values": [1.0] * len(history["t"])}]}


def home(request):
    """The signed-in dashboard. The 10 s poll (htmx) re-renders the summary only, without the chart."""
    if request.htmx:
        return render(request, "frontend/partials/borrower_dashboard.html", _dashboard_context(request, chart=False))
    return render(request, "frontend/home.html", _dashboard_context(request))


# --- one action at a time --------------------------------------------------------------------------------------

def _require_action(action: str) -> None:
    if action not in SERVICES:
        raise Http404("No such action")


def _shortlist(action: str, account) -> list[str] | None:
    """The assets an action makes sense for: what you supplied (withdraw), owe (repay), can borrow (borrow)."""
    if action == "withdraw":
        return [p.reserve.asset.symbol for p in lending_selectors.account_positions(account) if p.scaled_supply]
    if action == "repay":
        return [p.reserve.asset.symbol for p in lending_selectors.account_positions(account) if p.scaled_debt]
    if action == "borrow":
        return list(Asset.objects.filter(reserve__borrowing_enabled=True).values_list("symbol", flat=True))
    return None


def _preview(account, action: str, asset: Asset, text: str | None) -> dict:
    """The preview fragment's context: available amount, the Max value, HF and borrowing power before -> after.
    The refusal and the after-state come from a dry run of the action itself (rolled back), so the preview
    refuses exactly what the action, and the API, would refuse, in the same words."""
    amount, error = None, None
    text = (text or "").strip()
    if text:
        try:
            amount = parse_amount(text, asset.decimals, allow_max=True)
        except AmountError as exc:
            error = str(exc)
    room = 0
    if action == "faucet":
        room = max(0, lending_services.faucet_limit(asset) - lending_selectors.faucet_taken_today(account, asset))
    p = lending_selectors.action_preview(account=account, action=action, asset=asset, amount=amount,
                                         faucet_room=room)
    if error is None:
        # nothing typed yet: try Max, and say only what refuses any amount (paused, frozen, no debt...)
        run = lending_services.account_action_dry_run(account=account, action=action, symbol=asset.symbol,
                                                      amount=p.submit if amount is not None else (p.limit or 1))
        refused = run.refusal if amount is not None or (run.refusal and run.refusal.field == "asset") else None
        after = run.after if amount is not None else None
        if refused is None and amount == "max" and p.limit <= 0:
            refused = DomainError(f"Nothing to {action} in {asset.symbol} right now.")
            after = None
        p = dataclasses.replace(p, refusal=refused.message if refused else None, after=after)
    use_all = p.all_of_it and action in ("withdraw", "repay") and p.limit > 0
    return {"p": p, "asset": asset, "error": error or p.refusal, "amount": amount, "text": text,
            "available_label": AVAILABLE_LABELS[action], "max_value": "max" if use_all else
            format_amount(p.limit, asset.decimals), "shows_health": action != "faucet",
            "hf_before": p.before.health_factor, "hf_after": p.after.health_factor if p.after else None,
            "power_before": p.before.by_ltv.available_borrows_base,
            "power_after": p.after.by_ltv.available_borrows_base if p.after else None}


def _panel(account, action: str, form: AmountForm, notice: str | None = None) -> dict:
    symbol = form.data.get("asset") if form.is_bound else form.initial.get("asset")
    symbols = [c[0] for c in form.fields["asset"].choices]
    asset = Asset.objects.get(symbol=symbol if symbol in symbols else symbols[0])
    text = form.data.get("amount") if form.is_bound and not notice else ""
    return {"action": action, "label": ACTION_LABELS[action], "form": form, "notice": notice,
            "preview": _preview(account, action, asset, text), "asset": asset}


def _resolve_amount(account, action: str, asset: Asset, text: str):
    """The amount to send to the service; "max" becomes the preview's limit, or the service's own "max" when
    that is the whole balance or debt (exact even with interest accrued since the page was drawn)."""
    amount = parse_amount(text, asset.decimals, allow_max=True)
    if amount != "max":
        return amount
    preview = _preview(account, action, asset, "max")
    if preview["p"].limit <= 0:
        raise AmountError(preview["error"] or f"Nothing to {action} in {asset.symbol} right now.")
    return "max" if preview["max_value"] == "max" else preview["p"].limit


@login_required
def action(request, action: str):
    """GET: the form (a fragment for htmx, a page otherwise). POST: run it; problems come back inline with
    status 200 (htmx 2 does not swap 4xx); success re-renders the dashboard with the notice."""
    _require_action(action)
    account = lending_services.account_for_user(request.user)
    symbols = _shortlist(action, account)
    asset_param = request.GET.get("asset")
    initial = {"asset": asset_param} if asset_param and is_symbol(asset_param) else {}
    form = AmountForm(request.POST or None, action=action, symbols=symbols, initial=initial)
    notice = None
    if request.method == "POST" and form.is_valid():
        asset = Asset.objects.get(symbol=form.cleaned_data["asset"])
        try:
            amount = _resolve_amount(account, action, asset, form.cleaned_data["amount"])
            entry = SERVICES[action](account=account, symbol=asset.symbol, amount=amount)
        except AmountError as exc:
            form.add_error("amount", str(exc))
        except DomainError as exc:
            form.add_error("amount" if exc.field != "asset" else "asset", exc.message)
        else:
            shown = format_amount(entry.amount, asset.decimals)
            notice = f"{ACTION_LABELS[action]} of {shown} {asset.symbol} done."
            if not request.htmx:
                messages.success(request, notice)
                return redirect("frontend:dashboard")
            form = AmountForm(action=action, symbols=_shortlist(action, account), initial={"asset": asset.symbol})
    panel = _panel(account, action, form, notice)
    panel["inline"] = bool(request.htmx)  # inside the dashboard, the form swaps the dashboard; alone, it posts
    if request.htmx and request.method == "POST":
        return render(request, "frontend/partials/borrower_dashboard.html",
                      _dashboard_context(request, panel=panel))
    if request.htmx:
        return render(request, "frontend/partials/action_form.html", {"panel": panel})
    return render(request, "frontend/action.html", {"panel": panel})


@login_required
@require_POST
def action_preview(request, action: str):
    """The live preview as the user types (htmx, after a short delay): always 200, the refusal inline."""
    _require_action(action)
    account = lending_services.account_for_user(request.user)
    symbol = request.POST.get("asset", "")
    asset = Asset.objects.filter(symbol=symbol).first() if is_symbol(symbol) else None
    if asset is None:
        return render(request, "frontend/partials/action_preview.html", {"missing": "Choose an asset."})
    return render(request, "frontend/partials/action_preview.html",
                  {"panel": {"action": action, "preview": _preview(account, action, asset,
                                                                   request.POST.get("amount", ""))}})


@login_required
@require_POST
def collateral(request, symbol: str):
    """The collateral switch of one supply; a refusal (HF would drop below 1) shows on the dashboard."""
    if not is_symbol(symbol):
        raise Http404("No such asset")
    account = lending_services.account_for_user(request.user)
    notice = error = None
    try:
        lending_services.account_set_collateral(account=account, symbol=symbol,
                                                enabled=request.POST.get("enabled") == "1")
        notice = f"{symbol} collateral {'on' if request.POST.get('enabled') == '1' else 'off'}."
    except DomainError as exc:
        error = exc.message
    if not request.htmx:
        (messages.success if notice else messages.error)(request, notice or error)
        return redirect("frontend:dashboard")
    context = _dashboard_context(request)
    context.update(collateral_notice=notice, collateral_error=error)
    return render(request, "frontend/partials/borrower_dashboard.html", context)


@login_required
def history(request):
    """Every action and liquidation of the signed-in account, newest first, 25 a page."""
    account = lending_services.account_for_user(request.user)
    entries = Paginator(lending_selectors.account_history(account).exclude(kind="mint"), 25)
    events = Paginator(lending_selectors.liquidation_list(user=request.user, account=account.pk), 10)
    page = entries.get_page(request.GET.get("page"))
    liquidations = events.get_page(request.GET.get("lpage"))
    return render(request, "frontend/history.html", {"page": page, "liquidations": liquidations})


def wallet_login(request):
    """Sign in with a wallet: static JS asks /api/v1/auth/siwe/nonce/, has window.ethereum sign the EIP-4361
    message and posts it to /api/v1/auth/siwe/verify/; the API token it returns is exchanged here (POST, with
    the CSRF token) for a session."""
    if request.method == "POST":
        from rest_framework.authtoken.models import Token

        key = request.POST.get("token", "")
        token = Token.objects.select_related("user").filter(key=key).first() if key.isalnum() and \
            len(key) <= 64 else None
        if token is None or not token.user.is_active:
            return JsonResponse({"error": {"code": "invalid_token", "message": "Wallet sign-in failed; try again.",
                                           "field": "token"}}, status=400)
        login(request, token.user, backend="django.contrib.auth.backends.ModelBackend")
        return JsonResponse({"redirect": "/"})
    return render(request, "frontend/wallet_login.html")
