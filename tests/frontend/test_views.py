"""Pages and htmx partials, through Django's test client."""
import pytest
from django.test import Client

from lending.models import Position
from markets.models import AuditEntry, Reserve
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
