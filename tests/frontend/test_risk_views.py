"""The risk console and the asset desks, through Django's test client (server-side)."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from common.models import AuditEntry
from lending import services
from markets.models import Reserve
from oracles.models import OracleFeed
from tests.factories import fund_and_supply, make_universe, make_user, set_price, set_reserve

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    client = Client()
    client.force_login(make_user("rita", staff=True))
    return client


def _borrower(name="bob", tsla="100", usdc=17_000):
    """100 TSLAx at $250 (LT 75%), 17,000 USDC borrowed: HF 1.10."""
    user = make_user(name)
    account = services.account_for_user(user)
    fund_and_supply(account, "TSLAx", tsla)
    services.account_borrow(account=account, symbol="USDC", amount=usdc * 10**6)
    return account


@pytest.fixture
def book():
    make_universe()
    set_reserve("TSLAx", ltv_bps=7_000, liquidation_threshold_bps=7_500, liquidation_bonus_bps=10_500)
    set_price("TSLAx", "250")
    return _borrower(), _borrower("carol", usdc=5_000)


def test_console_is_staff_only_and_shows_the_pool(book, staff):
    plain = Client()
    plain.force_login(make_user())
    assert plain.get("/risk/").status_code == 302 and plain.get("/risk/TSLAx/").status_code == 302
    page = staff.get("/risk/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '>Risk console</a>' in html and "<h2 id=\"at-risk-h\">Accounts at risk</h2>" in html
    assert 'data-testid="total-borrowed">$22,000.00<' in html  # USD to the cent, with separators
    assert "70% / 75% / +5%" in html  # percentages, not bps
    # sorted by health factor: bob (1.10) before carol (3.75); collateral at the threshold price, liquidation price
    at_risk = html[html.index('data-testid="accounts-at-risk"'):]
    assert at_risk.index("bob") < at_risk.index("carol")
    assert ">1.10<" in at_risk and "$25,000.00" in at_risk and "TSLAx $226.67" in at_risk
    assert 'class="hf warn">1.10<' in at_risk and 'class="hf ok">3.75<' in at_risk  # the dashboard's colour bands
    assert "HF at the next NYSE close" in at_risk and "XNYS" in html
    assert "pinned by hand" in html  # the test universe pins every feed
    OracleFeed.objects.exclude(asset__kind="stablecoin").update(source="simulated")
    assert "Every feed is live" in staff.get("/risk/").content.decode()
    # a feed that stopped moving two days ago (USDT trades 24/7, so it is stale at once)
    OracleFeed.objects.filter(asset__symbol="USDT").update(source="simulated",
                                                           last_changed_at=timezone.now() - timedelta(days=2))
    html = staff.get("/risk/").content.decode()
    assert "stale (price 2d 0h old)" in html and '<span class="flag">stale</span>' in html


def test_preview_lists_who_a_retune_puts_at_risk_before_saving(book, staff):
    form = {"ltv_bps": "50", "liquidation_threshold_bps": "60", "liquidation_bonus_bps": "5", "supply_cap": "0",
            "borrow_cap": "0"}
    r = staff.post("/risk/TSLAx/preview/", form, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200 and "1 account at risk" in html and "bob" in html and "carol" not in html
    assert "1 liquidatable now (1 because of this change)" in html and ">0.88<" in html  # 15,000 / 17,000
    assert Reserve.objects.get(asset__symbol="TSLAx").liquidation_threshold_bps == 7_500  # nothing saved
    bad = staff.post("/risk/TSLAx/preview/", {**form, "ltv_bps": "70"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and "cannot exceed the liquidation threshold" in bad.content.decode()
    typo = staff.post("/risk/TSLAx/preview/", {**form, "ltv_bps": "5o"}, HTTP_HX_REQUEST="true")
    assert typo.status_code == 200 and "Enter a percentage" in typo.content.decode()


def test_saving_parameters_in_percent_and_the_engine_is_audited(book, staff):
    form = {"form": "risk", "ltv_bps": "60", "liquidation_threshold_bps": "72.5", "liquidation_bonus_bps": "5",
            "supply_cap": "0", "borrow_cap": "0", "reason": "tighten"}
    assert staff.post("/risk/TSLAx/", form).status_code == 302
    reserve = Reserve.objects.get(asset__symbol="TSLAx")
    assert (reserve.ltv_bps, reserve.liquidation_threshold_bps, reserve.liquidation_bonus_bps) == (6000, 7250, 10500)
    assert AuditEntry.objects.get(field="ltv_bps").reason == "tighten"
    refused = staff.post("/risk/TSLAx/", {**form, "ltv_bps": "80"})
    assert refused.status_code == 200 and b"cannot exceed the liquidation threshold" in refused.content
    no_reason = staff.post("/risk/TSLAx/", {**form, "reason": ""}, HTTP_HX_REQUEST="true")
    assert no_reason.status_code == 200 and b"This field is required" in no_reason.content
    assert staff.post("/risk/TSLAx/", {**form, "reason": ""}).status_code == 400

    from markets.selectors import pool_get

    form = {"form": "pool", "liquidation_engine": "v4", "target_health_factor_bps": "1.05",
            "liquidation_bonus_factor_bps": "50", "health_factor_for_max_bonus_bps": "0.95", "reason": "try v4"}
    r = staff.post("/risk/", form, follow=True)
    assert r.status_code == 200 and pool_get().liquidation_engine == "v4", r.content.decode()[-3000:]
    assert AuditEntry.objects.filter(target="pool:default", field="liquidation_engine").exists()
    assert staff.post("/risk/", {**form, "reason": ""}).status_code == 400


def test_price_card_shock_in_percent_unpin_and_confirm_an_absurd_pin(book, staff):
    r = staff.post("/risk/TSLAx/", {"form": "shock", "percent": "−15", "at": "now", "reason": "drill"}, follow=True)
    html = r.content.decode()
    assert "TSLAx -15%: now $212.5" in html and 'data-testid="reference-price">$212.50<' in html
    audit = html[html.index('data-testid="audit"'):]
    assert "shock_now</code></td><td class=\"num\">—</td><td class=\"num\">-15%" in audit  # in percent
    assert "Unpin" in html
    r = staff.post("/risk/TSLAx/", {"form": "unpin", "reason": "drill over"}, follow=True)
    html = r.content.decode()
    assert "is back on its simulated feed" in html
    assert OracleFeed.objects.get(asset__symbol="TSLAx").source == "simulated"
    assert ">Unpin</button>" not in html
    form = {"form": "price", "price": "5000", "reason": "typo?"}
    r = staff.post("/risk/TSLAx/", form, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200 and "more than 10x away" in html and 'name="confirm"' in html
    assert staff.post("/risk/TSLAx/", {**form, "confirm": "on"}).status_code == 302
    html = staff.get("/risk/TSLAx/").content.decode()
    assert 'data-testid="reference-price">$5,000.00<' in html and "$5,000.00</td><td>typo?" in html


def test_revert_needs_a_reason_and_a_confirmation_and_only_shows_where_it_can_act(book, staff):
    form = {"form": "risk", "ltv_bps": "50", "liquidation_threshold_bps": "75", "liquidation_bonus_bps": "5",
            "supply_cap": "0", "borrow_cap": "0", "reason": "tighten"}
    staff.post("/risk/TSLAx/", form)
    change = AuditEntry.objects.get(field="ltv_bps")
    page = staff.get("/risk/TSLAx/").content.decode()
    assert f'aria-label="Revert change {change.pk}"' in page
    assert 'aria-label="Revert change' not in staff.get("/risk/AAPLx/").content.decode()  # per asset
    r = staff.post("/risk/TSLAx/", {"form": "revert", "entry": change.pk, "reason": "undo"})
    assert r.status_code == 400 and b"Tick the confirmation" in r.content
    r = staff.post("/risk/", {"form": "revert", "entry": change.pk, "reason": "undo", "confirm": "on"}, follow=True)
    assert b"is back to 70%" in r.content
    assert Reserve.objects.get(asset__symbol="TSLAx").ltv_bps == 7_000
    page = staff.get("/risk/").content.decode()
    assert f'aria-label="Revert change {change.pk}"' not in page  # changed since: no Revert offered
    again = staff.post("/risk/", {"form": "revert", "entry": change.pk, "reason": "x", "confirm": "on"})
    assert again.status_code == 200 and b"has changed again" in again.content


def test_what_if_lists_the_accounts_and_changes_nothing(book, staff):
    from lending.models import LiquidationEvent

    page = staff.post("/risk/TSLAx/", {"form": "what-if", "percent": "-20", "at": "now"}).content.decode()
    assert 'data-testid="what-if-result"' in page and "Accounts under water</dt><dd>1" in page
    table = page[page.index('data-testid="what-if-accounts"'):]
    assert "bob" in table and "carol" not in table[:table.index("</table>")]
    assert LiquidationEvent.objects.count() == 0
    bad = staff.post("/risk/TSLAx/", {"form": "what-if", "percent": "-1.234", "at": "now"}).content.decode()
    assert "at most 2 decimals" in bad


def test_liquidations_feed_and_scan(book, staff, monkeypatch):
    from lending import keeper

    set_price("TSLAx", "200")
    account = book[0]
    assert keeper.keeper_run(account_ids=[account.pk], round_key="ui")
    feed = staff.get("/risk/liquidations/?asset=TSLAx").content.decode()
    assert f"#{account.pk} bob" in feed and "USDC" in feed and 'hx-trigger="every 3s"' in feed
    assert '<span class="hf danger">0.88</span> → ' in feed  # HF colour bands here too
    assert f"#{account.pk} bob" in staff.get("/risk/").content.decode()
    assert staff.get("/risk/liquidations/?asset=%00").status_code in (400, 404)
    queued = []
    monkeypatch.setattr(services, "liquidation_scan_enqueue", lambda **kw: queued.append(kw))
    assert staff.post("/risk/TSLAx/", {"form": "scan"}).status_code == 302 and queued
