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
                    "issuer_profile": "xstocks", "underlying": "TSLA", "calendar": "XNYS",
                    "profile_label": "xStocks (Backed)", "token_hours": "24/7",
                    "mint_window": "NYSE regular hours (Backed mints/redeems 1:1 only then)",
                    "closed_market_rule": "calibrated haircut on the frozen reference; depeg blocks borrowing",
                    "price_multiplier_bps": 10_000, "max_leverage": 0, "band_bps": 0, "band_fraction_bps": None,
                    "depth_usd": 0, "valuation_interval_days": 0, "oracle_blend_bps": 5_000, "resells_profile": "",
                    "venue_hours": ""}
    assert "next" in body


def test_assets_cover_every_issuer_profile_with_its_parameters():
    from core.profiles import NAMES

    rows = {a["symbol"]: a for a in api_client().get("/api/v1/assets/").json()["results"]}
    assert {a["issuer_profile"] for a in rows.values()} == set(NAMES)
    assert rows["NVDAxyz"]["max_leverage"] == 10 and rows["NVDAxyz"]["band_fraction_bps"] == 1_000
    assert rows["TSLAperp"]["band_bps"] == 300 and rows["TSLAperp"]["band_fraction_bps"] == 300
    assert rows["SPACEXpre"]["issuer_profile"] == "jarsy" and rows["SPACEXpre"]["token_hours"] == "none"
    assert rows["TSLAbb"]["venue_hours"] == "24/5" and rows["TSLAbb"]["token_hours"] == "24/5"
    assert rows["AAPLbn"]["resells_profile"] == "ondo_global_markets"
    assert rows["AAPLbn"]["mint_window"].startswith("24/5")


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
