"""The risk console's account tables against a reference: the straightforward computation (every position with its
own Reserve, Asset, Account and User, lending.selectors.health_of at each instant) rendered through the plain
per-cell template. The console computes the same rows with shared reserves and preformatted cells; the HTML must
come out the same, byte for byte."""
import re
import time

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import timezone

from core.aave.v3 import liquidation_price, to_base
from frontend.risk_forms import PreviewForm
from lending import risk_selectors, services
from lending.models import Position
from lending.selectors import health_of
from markets.models import Asset, Reserve
from markets.services import now_seconds
from oracles.selectors import oracle_reads
from tests.factories import fund_and_supply, make_universe, make_user, set_price, set_reserve, units

pytestmark = pytest.mark.django_db

REFERENCE_TABLE = (
    '{% load numbers %}<div class="scroll" tabindex="0" role="region" aria-label="{% if preview %}Accounts at risk '
    'with these parameters{% else %}Accounts at risk{% endif %}"><table class="grid" data-testid="{{ testid }}">'
    '<thead><tr><th scope="col">Account</th>{% if preview %}<th scope="col">HF now</th><th scope="col">HF after the '
    'change</th>{% else %}<th scope="col">Health factor</th>{% endif %}<th scope="col">Collateral value (after any '
    'haircut)</th><th scope="col">Debt</th><th scope="col">Liquidation prices</th>{% for label, _ in rows.0.outlook %}'
    '<th scope="col">HF at the {{ label }}</th>{% endfor %}</tr></thead><tbody>\n'
    '{% for r in rows %}<tr><td>#{{ r.account_id }} {{ r.username }}{% if r.over_ltv %} <span class="flag" '
    'title="Debt above what the LTV allows: no new borrowing or withdrawal">over LTV</span>{% endif %}</td>'
    '{% if preview %}<td class="num"><span class="hf {{ r.health_factor_before|hf_band }}">'
    '{{ r.health_factor_before|hf }}</span></td>{% endif %}<td class="num"><span class="hf '
    '{{ r.health_factor|hf_band }}">{{ r.health_factor|hf }}</span></td><td class="num">{{ r.collateral_base|usd }}'
    '</td><td class="num">{{ r.debt_base|usd }}</td><td>{% for s, p in r.liquidation_prices.items %}{{ s }} '
    '{{ p|usd }}{% if not forloop.last %}, {% endif %}{% empty %}—{% endfor %}</td>{% for _, value in r.outlook %}'
    '<td class="num"><span class="hf {{ value|hf_band }}">{{ value|hf }}</span></td>{% endfor %}</tr>\n'
    '{% empty %}<tr><td colspan="8">{{ empty }}</td></tr>{% endfor %}\n</tbody></table></div>\n')


def _reference_rows(account_ids, *, overrides=None, symbol=None):
    """The risk rows as computed before the console shared its reserves (kept here as the test's oracle)."""
    from collections import defaultdict

    now = timezone.now()
    seconds = now_seconds()
    grouped = defaultdict(list)
    for p in (Position.objects.filter(account_id__in=account_ids).select_related("reserve__asset", "account__user")
              .order_by("account_id", "reserve_id")):
        if p.scaled_supply or p.scaled_debt:
            grouped[p.account_id].append(p)
    assets = list(Asset.objects.order_by("id"))
    reads_now = oracle_reads(assets, at=now)
    later = [(label, at, oracle_reads(assets, at=at)) for label, at in risk_selectors._moments(now)]
    rows = []
    for account_id in account_ids:
        positions = grouped.get(account_id)
        if not positions:
            continue
        before = None
        if overrides:
            before = health_of(positions, reads_now, seconds).health_factor
            for p in positions:
                if p.reserve.asset.symbol == symbol:
                    for field, value in overrides.items():
                        setattr(p.reserve, field, value)
        health = health_of(positions, reads_now, seconds)
        liq = {v.symbol: price for v in health.lt_values
               if (price := liquidation_price(health.by_lt, v)) is not None}
        outlook = tuple((label, health_of(positions, reads, int(at.timestamp())).health_factor)
                        for label, at, reads in later)
        ltv_power = sum(to_base(v.supplied, v.price, v.decimals) * v.ltv_bps // 10_000
                        for v in health.ltv_values if v.collateral and v.supplied)
        rows.append(risk_selectors.AccountRisk(
            account_id=account_id, username=positions[0].account.user.username,
            health_factor=health.health_factor, collateral_base=health.by_lt.total_collateral_base,
            debt_base=health.by_lt.total_debt_base, liquidation_prices=liq, outlook=outlook,
            borrowing_power_base=health.by_ltv.available_borrows_base,
            over_ltv=health.by_ltv.total_debt_base > ltv_power, health_factor_before=before))
    return sorted(rows, key=lambda r: (r.health_factor is None, r.health_factor or 0, r.account_id))


def _borrower(name, supplies, borrows):
    account = services.account_for_user(make_user(name))
    for symbol, amount in supplies:
        fund_and_supply(account, symbol, amount)
    for symbol, amount in borrows:
        services.account_borrow(account=account, symbol=symbol, amount=units(symbol, amount))
    return account


@pytest.fixture
def book():
    """Borrowers with one or several collaterals, stock debt (priced at the upper band), a supply kept out of
    collateral, a name that needs escaping, and a lender with no debt (never listed); haircuts on, so the next
    close and open can differ from now."""
    from oracles.models import HaircutPolicy

    make_universe(haircuts=True)
    modes = dict(HaircutPolicy.objects.values_list("pk", "mode"))
    HaircutPolicy.objects.update(mode=HaircutPolicy.Mode.NONE)  # borrowing power whatever the time of day
    set_reserve("TSLAx", ltv_bps=7_000, liquidation_threshold_bps=7_500, liquidation_bonus_bps=10_500,
                borrowing_enabled=True)
    set_price("TSLAx", "250")
    set_price("AAPLx", "190.37")
    accounts = [
        _borrower("bob", [("TSLAx", "100")], [("USDC", "17000")]),
        _borrower("carol", [("TSLAx", "10"), ("AAPLx", "40.5")], [("USDC", "4500")]),
        _borrower("dave<&>", [("USDC", "30000")], [("TSLAx", "20")]),
        _borrower("erin", [("AAPLx", "100"), ("USDC", "1000")], [("USDC", "7800"), ("TSLAx", "1.5")]),
        _borrower("lena", [("USDC", "5000")], []),
    ]
    services.account_set_collateral(account=accounts[3], symbol="USDC", enabled=False)
    for pk, mode in modes.items():
        HaircutPolicy.objects.filter(pk=pk).update(mode=mode)
    return accounts


@pytest.fixture
def staff():
    client = Client()
    client.force_login(make_user("rita", staff=True))
    return client


def _table(html: str, testid: str) -> str:
    start = html.rindex('<div class="scroll"', 0, html.index(f'data-testid="{testid}"'))
    return html[start:html.index("</table></div>", start) + len("</table></div>")]


def _same_second(render):
    """render() and the reference within one clock second (indexes accrue per second), retried if it ticked."""
    for _ in range(5):
        before = int(time.time())
        result = render()
        if int(time.time()) == before:
            return result
    raise AssertionError("the clock ticked during every attempt")


def _squash(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


def test_console_accounts_table_matches_the_reference(book, staff):
    def render():
        page = staff.get("/risk/").content.decode()
        ids = [r.account_id for r in _reference_rows([a.pk for a in book]) if r.health_factor is not None]
        rows = _reference_rows(ids)
        expected = Template(REFERENCE_TABLE).render(Context(
            {"rows": rows, "testid": "accounts-at-risk", "empty": "No account has debt."}))
        return page, rows, expected

    page, rows, expected = _same_second(render)
    assert {r.username for r in rows} == {"bob", "carol", "dave<&>", "erin"}
    assert _squash(_table(page, "accounts-at-risk")) == _squash(expected)
    assert "dave&lt;&amp;&gt;" in page


def test_console_without_debt_says_so(staff):
    make_universe()
    page = staff.get("/risk/").content.decode()
    assert '<tr><td colspan="8">No account has debt.</td></tr>' in page


def test_preview_table_matches_the_reference(book, staff):
    form = {"ltv_bps": "50", "liquidation_threshold_bps": "60", "liquidation_bonus_bps": "5", "supply_cap": "0",
            "borrow_cap": "0"}

    parsed = PreviewForm(form)
    assert parsed.is_valid()
    overrides = {f: v for f, v in parsed.changes().items() if v is not None}

    def render():
        html = staff.post("/risk/TSLAx/preview/", form, HTTP_HX_REQUEST="true").content.decode()
        ids = [int(i) for i in re.findall(r"<tr><td>#(\d+) ", html)]
        reference = {r.account_id: r for r in _reference_rows(ids, overrides=overrides, symbol="TSLAx")}
        rows = [reference[i] for i in ids]
        expected = Template(REFERENCE_TABLE).render(Context(
            {"rows": rows, "preview": True, "testid": "preview-accounts", "empty": ""}))
        return html, rows, expected

    html, rows, expected = _same_second(render)
    assert len(rows) >= 2 and any(r.health_factor_before != r.health_factor for r in rows)
    assert _squash(_table(html, "preview-accounts")) == _squash(expected)
    assert Reserve.objects.get(asset__symbol="TSLAx").liquidation_threshold_bps == 7_500  # nothing saved


def test_liquidation_tables_read_what_the_selector_gives_staff(book, staff):
    """The console's and the desks' liquidations (SQL compiled once a process) are liquidation_list's rows."""
    from frontend import risk_views
    from lending import keeper
    from lending.selectors import liquidation_list

    set_price("TSLAx", "200")
    assert keeper.keeper_run(account_ids=[book[0].pk], round_key="tables")
    rita = staff.get("/risk/").wsgi_request.user
    for symbol in (None, "TSLAx", "USDC", "AAPLx"):
        expected = list(liquidation_list(user=rita, asset=symbol).select_related("account__user")[:20])
        got = risk_views._liquidations(None, symbol)
        assert [e.pk for e in got] == [e.pk for e in expected] and (symbol != "AAPLx") == bool(got)
        assert [(e.account.user.username, e.debt_asset.symbol, e.collateral_asset.symbol, e.oracle_round_id)
                for e in got] == [(e.account.user.username, e.debt_asset.symbol, e.collateral_asset.symbol,
                                   e.oracle_round_id) for e in expected]
