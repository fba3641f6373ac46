"""GET /api/v1/assets/, /api/v1/markets/, /api/v1/markets/{symbol}/"""
import pytest

from tests.factories import api_client, make_universe

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def universe():
    make_universe()


def test_assets():
    body = api_client().get("/api/v1/assets/").json()
    tsla = next(a for a in body["results"] if a["symbol"] == "TSLAx")
    assert tsla == {"symbol": "TSLAx", "name": "Tesla xStock", "kind": "stock_token", "decimals": 18,
                    "issuer_profile": "xstocks", "underlying": "TSLA", "calendar": "XNYS"}
    assert "next" in body


def test_markets_list_and_detail():
    body = api_client().get("/api/v1/markets/").json()
    assert {m["symbol"] for m in body["results"]} >= {"USDC", "TSLAx"}
    usdc = api_client().get("/api/v1/markets/USDC/").json()
    assert usdc["total_supplied"] == "50000000"
    assert usdc["variable_borrow_rate_ray"] == "0" and usdc["deficit"] == "0"
    for field in ("ltv_bps", "liquidation_threshold_bps", "supply_cap", "borrow_cap", "optimal_usage_bps"):
        assert isinstance(usdc[field], int)
    for field in ("borrowing_enabled", "paused", "frozen", "collateral_enabled"):
        assert isinstance(usdc[field], bool)
    for field in ("utilization", "borrow_apy", "supply_apy", "liquidity_rate_ray"):
        assert isinstance(usdc[field], str)


def test_unknown_market_is_404():
    r = api_client().get("/api/v1/markets/NOPE/")
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_asset"
