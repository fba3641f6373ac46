"""Pages and htmx partials, through Django's test client."""
import pytest
from django.test import Client

from common.models import AuditEntry
from lending.models import Position
from markets.models import Reserve
from tests.factories import make_universe, make_user, set_price

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_user():
    make_universe()
    set_price("TSLAx", "250")
    user = make_user()
    client = Client()
    client.force_login(user)
    return client, user


def test_dashboard_full_and_partial():
    make_universe()
    page = Client().get("/")
    assert page.status_code == 200 and b"TSLAx" in page.content and b"htmx.min.js" in page.content
    partial = Client().get("/", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b"TSLAx" in partial.content


def test_register_then_account():
    make_universe()
    client = Client()
    r = client.post("/register/", {"username": "erin", "password1": "a-long-pass-123", "password2": "a-long-pass-123"})
    assert r.status_code == 302
    assert client.get("/account/").status_code == 200


def test_actions_and_inline_errors(client_user):
    client, user = client_user
    for action, asset, amount in [("faucet", "TSLAx", "10"), ("supply", "TSLAx", "10"), ("borrow", "USDC", "1000")]:
        r = client.post("/account/action/", {"action": action, "asset": asset, "amount": amount},
                        HTTP_HX_REQUEST="true")
        assert r.status_code == 200 and b"done." in r.content, r.content[:500]
    assert Position.objects.get(account__user=user, reserve__asset__symbol="USDC").scaled_debt > 0
    r = client.post("/account/action/", {"action": "borrow", "asset": "USDC", "amount": "1.1234567"},
                    HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and b"more than 6 decimals" in r.content
    r = client.post("/account/action/", {"action": "borrow", "asset": "USDC", "amount": "999999"},
                    HTTP_HX_REQUEST="true")
    assert b"exceeds your borrowing power" in r.content


def test_account_requires_login():
    assert Client().get("/account/").status_code == 302


def test_market_page_has_chart_data():
    make_universe()
    set_price("TSLAx", "250")
    r = Client().get("/markets/TSLAx/")
    assert r.status_code == 200 and b'id="chart-data"' in r.content


def test_risk_desk_is_staff_only_and_audits():
    make_universe()
    staff = Client()
    staff.force_login(make_user(staff=True))
    plain = Client()
    plain.force_login(make_user())
    assert plain.get("/risk/TSLAx/").status_code == 302
    page = staff.get("/risk/TSLAx/")
    assert page.status_code == 200
    form = {"form": "risk", "ltv_bps": 9000, "liquidation_threshold_bps": 6500, "liquidation_bonus_bps": 10750,
            "supply_cap": 0, "borrow_cap": 0, "reason": "test"}
    r = staff.post("/risk/TSLAx/", form)
    assert r.status_code == 200 and b"cannot exceed the liquidation threshold" in r.content
    form["ltv_bps"] = 6000
    assert staff.post("/risk/TSLAx/", form).status_code == 302
    assert Reserve.objects.get(asset__symbol="TSLAx").ltv_bps == 6000
    assert AuditEntry.objects.filter(field="ltv_bps").exists()


def _liquidated_borrower():
    """The DESIGN hand-worked case: 100 TSLAx at $250, 17,000 USDC borrowed, TSLAx to $225, one keeper step."""
    from lending import keeper, services
    from tests.factories import fund_and_supply, set_reserve

    make_universe()
    set_reserve("TSLAx", ltv_bps=7_000, liquidation_threshold_bps=7_500, liquidation_bonus_bps=10_500)
    set_price("TSLAx", "250")
    user = make_user()
    account = services.account_for_user(user)
    fund_and_supply(account, "TSLAx", "100")
    services.account_borrow(account=account, symbol="USDC", amount=17_000 * 10**6)
    set_price("TSLAx", "225")
    assert len(keeper.keeper_run(account_ids=[account.pk], round_key="ui")) == 1
    return user, account


def test_account_page_lists_its_liquidations_with_units():
    user, _ = _liquidated_borrower()
    client = Client()
    client.force_login(user)
    page = client.get("/account/").content.decode()
    assert "Liquidations of this account" in page
    assert "8500 USDC" in page and "0.992647 →" in page and "$225" in page
    assert 'hx-select-oob="#wallet,#positions,#liquidations"' in page  # refreshed with the health factor
    other = Client()
    other.force_login(make_user())
    assert "8500 USDC" not in other.get("/account/").content.decode()  # nobody else's


def test_risk_desk_lists_liquidations_and_queues_a_scan(monkeypatch):
    from lending import services

    _, account = _liquidated_borrower()
    staff = Client()
    staff.force_login(make_user(staff=True))
    page = staff.get("/risk/TSLAx/").content.decode()
    assert "8500 USDC" in page and f"<td>{account.pk}</td>" in page
    queued = []
    monkeypatch.setattr(services, "liquidation_scan_enqueue", lambda **kw: queued.append(kw))
    r = staff.post("/risk/TSLAx/", {"form": "scan"})
    assert r.status_code == 302 and queued and queued[0]["round_key"].startswith("manual-")

    def broker_down(**kw):  # what the service raises when the broker refuses the message
        from common.errors import BrokerUnavailable

        raise BrokerUnavailable("The task broker is unreachable; the beat scan will run when it is back.")

    monkeypatch.setattr(services, "liquidation_scan_enqueue", broker_down)
    r = staff.post("/risk/TSLAx/", {"form": "scan"})
    assert r.status_code == 200 and b"broker is unreachable" in r.content


def test_risk_desk_shows_audited_prices_in_dollars():
    make_universe()
    staff = Client()
    staff.force_login(make_user(staff=True))
    assert staff.post("/risk/TSLAx/", {"form": "price", "price": "280.5", "reason": "drill"}).status_code == 302
    page = staff.get("/risk/TSLAx/").content.decode()
    assert "$280.5" in page and "28050000000" not in page


def test_risk_desk_reverts_a_change():
    make_universe()
    staff = Client()
    staff.force_login(make_user(staff=True))
    form = {"form": "risk", "ltv_bps": 5000, "liquidation_threshold_bps": 6500, "liquidation_bonus_bps": 10750,
            "supply_cap": 0, "borrow_cap": 0, "reason": "tighten"}
    before = Reserve.objects.get(asset__symbol="TSLAx")
    assert staff.post("/risk/TSLAx/", form).status_code == 302
    change = AuditEntry.objects.get(field="ltv_bps")
    page = staff.get("/risk/TSLAx/").content.decode()
    assert f'aria-label="Revert change {change.pk}"' in page
    r = staff.post("/risk/TSLAx/", {"form": "revert", "entry": change.pk}, follow=True)
    assert b"is back to" in r.content
    assert Reserve.objects.get(asset__symbol="TSLAx").ltv_bps == before.ltv_bps
    again = staff.post("/risk/TSLAx/", {"form": "revert", "entry": change.pk})
    assert again.status_code == 200 and b"has changed again" in again.content


def test_account_page_shows_the_outlook_and_the_health_factor_chart():
    user, _ = _liquidated_borrower()  # liquidated once, with debt left: HF > 1 now
    from lending import services

    services.account_borrow(account=services.account_for_user(user), symbol="USDC", amount=100 * 10**6)
    client = Client()
    client.force_login(user)
    page = client.get("/account/").content.decode()
    assert 'data-testid="outlook"' in page and "next NYSE close" in page and "next NYSE open" in page
    assert 'id="hf-chart-data"' in page and '"label": "Health factor"' in page
    partial = client.get("/account/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="outlook"' in partial and "hf-chart-data" not in partial  # the poll skips the chart


def test_risk_desk_what_if_changes_nothing():
    from lending.models import LiquidationEvent

    user, account = _liquidated_borrower()
    staff = Client()
    staff.force_login(make_user(staff=True))
    events = LiquidationEvent.objects.count()
    page = staff.post("/risk/TSLAx/", {"form": "what-if", "percent": "-50", "at": "now"}).content.decode()
    assert 'data-testid="what-if-result"' in page and "Accounts under water</dt><dd>1" in page
    assert LiquidationEvent.objects.count() == events
    bad = staff.post("/risk/TSLAx/", {"form": "what-if", "percent": "-1.234", "at": "now"}).content.decode()
    assert "at most 2 decimals" in bad
