"""GET /api/v1/account/, POST /api/v1/account/collateral/, GET /api/v1/account/history/"""
import pytest

from lending import services
from tests.factories import api_client, fund_and_supply, make_universe, make_user, set_price

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    make_universe()
    set_price("TSLAx", "250")
    user = make_user()
    account = services.account_for_user(user)
    fund_and_supply(account, "TSLAx", "0.000000000000000001")
    fund_and_supply(account, "TSLAx", "100")
    services.account_borrow(account=account, symbol="USDC", amount=13_000 * 10**6)
    return user


def test_account_exact_amounts_and_health(user):
    body = api_client(user).get("/api/v1/account/").json()
    tsla = next(p for p in body["positions"] if p["asset"] == "TSLAx")
    assert tsla == {"asset": "TSLAx", "supplied": "100.000000000000000001", "borrowed": "0", "collateral": True}
    assert body["wallet"] == {"USDC": "13000"}
    assert body["total_collateral_usd"] == "25000"
    assert body["total_debt_usd"] == "13000"
    # LT 65%: 16,250 / 13,000
    assert body["health_factor_wad"] == "1250000000000000000"
    assert body["health_factor"] == "1.25"
    # 13,000 / (100.000000000000000001 x 0.65), floored to 8 decimals
    assert body["liquidation_prices"]["TSLAx"] == "199.99999999"


def test_collateral_toggle_and_errors(user):
    client = api_client(user)
    r = client.post("/api/v1/account/collateral/", {"asset": "TSLAx", "enabled": False}, format="json")
    assert r.status_code == 422 and r.json()["error"]["code"] == "health_factor_too_low"
    for body, field in [({"asset": "TSLAx", "enabled": "no"}, "enabled"), ({"enabled": True}, "asset")]:
        r = client.post("/api/v1/account/collateral/", body, format="json")
        assert r.status_code == 400 and r.json()["error"]["field"] == field
    r = client.post("/api/v1/account/collateral/", {"asset": "NVDAx", "enabled": True}, format="json")
    assert r.status_code == 422 and r.json()["error"]["code"] == "no_supply"


def test_history_is_paginated_and_private(user):
    body = api_client(user).get("/api/v1/account/history/").json()
    assert [e["kind"] for e in body["results"]][:2] == ["borrow", "supply"]
    assert "next" in body
    other = make_user()
    assert api_client(other).get("/api/v1/account/history/").json()["results"] == []
    assert api_client(other).get("/api/v1/account/").json()["positions"] == []


def test_anonymous_gets_401():
    assert api_client().get("/api/v1/account/").status_code == 401
