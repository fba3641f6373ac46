"""GET /api/v1/oracle/prices/, /oracle/prices/{symbol}/, /oracle/prices/{symbol}/haircuts/, /oracle/market-status/"""
import pytest

from core.amounts import format_price
from tests.factories import api_client, make_universe

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def universe():
    make_universe(haircuts=True)


def test_prices_list_and_detail():
    body = api_client().get("/api/v1/oracle/prices/").json()
    assert {p["symbol"] for p in body["results"]} >= {"USDC", "TSLAx"}
    tsla = api_client().get("/api/v1/oracle/prices/TSLAx/").json()
    for field in ("reference_price", "token_price", "effective_price", "haircut_bps", "session", "closure_kind",
                  "price_age_seconds", "flags", "round", "updated_at"):
        assert field in tsla
    assert tsla["reference_price"] == "403.84"
    assert api_client().get("/api/v1/oracle/prices/NOPE/").status_code == 404


def test_prices_carry_the_profile_token_price_band_and_depeg():
    from markets.models import Asset
    from oracles.models import OracleFeed
    from oracles.services import round_publish

    OracleFeed.objects.filter(asset__symbol="NVDAxyz").update(source="simulated")
    round_publish(asset=Asset.objects.get(symbol="NVDAxyz"), reference_price=100 * 10**8, token_price=95 * 10**8,
                  source="simulated", notify=False)
    body = api_client().get("/api/v1/oracle/prices/NVDAxyz/").json()
    assert body["issuer_profile"] == "trade_xyz" and body["token_price"] == "95"
    assert (body["band_low"], body["band_high"]) == ("90", "110")  # +/- 1/max_leverage (10x)
    assert body["depeg"] is True and "depeg" in body["flags"]
    tsla = api_client().get("/api/v1/oracle/prices/TSLAx/").json()
    assert tsla["band_low"] is None and tsla["band_high"] is None and tsla["depeg"] is False
    assert tsla["seize_price"] == tsla["reference_price"]


def test_haircut_table():
    table = api_client().get("/api/v1/oracle/prices/TSLAx/haircuts/").json()
    assert set(table) == {"overnight", "weekend", "holiday", "holiday_weekend", "unplanned"}
    assert all(isinstance(v, int) and v > 0 for v in table.values())
    assert set(api_client().get("/api/v1/oracle/prices/USDC/haircuts/").json().values()) == {0}


@pytest.mark.parametrize("at, session, kind", [
    ("2024-11-25T14:29:00Z", "pre_market", "weekend"),
    ("2024-11-29T17:59:00Z", "regular", None),
    ("2024-03-29T15:00:00Z", "closed", "holiday_weekend"),
])
def test_market_status(at, session, kind):
    body = api_client().get(f"/api/v1/oracle/market-status/?calendar=XNYS&at={at}").json()
    assert (body["session"], body["closure_kind"]) == (session, kind)
    assert body["next_open"] > at[:10]


@pytest.mark.parametrize("query", ["at=yesterday", "at=1990-01-01T00:00:00Z", "at=2099-01-01T00:00:00Z",
                                   "calendar=XLON", "at=" + "9" * 100, "at=2024-13-45T00:00:00Z"])
def test_market_status_bad_input(query):
    r = api_client().get(f"/api/v1/oracle/market-status/?{query}")
    assert r.status_code == 400 and r.json()["error"]["message"]


SATURDAY_NOON_ET = "2026-01-10T17:00:00+00:00"
TUESDAY_2AM_ET = "2026-01-13T07:00:00+00:00"  # the overnight session (Robinhood's 24/5 trades)


def _prices_at(at: str) -> dict:
    from datetime import datetime
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=datetime.fromisoformat(at)):
        rows = api_client().get("/api/v1/oracle/prices/").json()["results"]
        detail = api_client().get("/api/v1/oracle/prices/AMZNrh/").json()
    prices = {p["symbol"]: p for p in rows}
    assert prices["AMZNrh"] == detail
    return prices


@pytest.mark.parametrize("source", ["simulated", "manual"])
def test_a_24_5_token_has_no_price_at_weekends_and_one_on_weekday_nights(source):
    from markets.models import Asset
    from oracles.models import OracleFeed
    from oracles.services import round_publish

    for symbol in ("AMZNrh", "TSLAbb", "AAPLbn", "TSLAx"):  # Robinhood, Bybit 24/5; Binance and xStocks 24/7
        OracleFeed.objects.filter(asset__symbol=symbol).update(source=source)
        round_publish(asset=Asset.objects.get(symbol=symbol), reference_price=100 * 10**8, token_price=97 * 10**8,
                      source=source, notify=False)  # a token 3% off: Friday's last trade
    token = "97" if source == "simulated" else "100"  # a manual price is the token's too
    weekend = _prices_at(SATURDAY_NOON_ET)
    for symbol in ("AMZNrh", "TSLAbb"):
        p = weekend[symbol]
        # no token market: the last trade is reported (a price string, as always) but flagged and never used:
        # the reference-haircut rule, and no depeg against a market that is shut
        assert p["session"] == "closed" and p["token_market_open"] is False and p["token_price"] == token
        assert p["haircut_bps"] > 0
        assert p["effective_price"] == format_price(100 * 10**8 * (10_000 - p["haircut_bps"]) // 10_000)
        assert not p["depeg"] and p["seize_price"] == "100"
    for symbol in ("AAPLbn", "TSLAx"):  # 24/7 venues trade
        assert weekend[symbol]["token_price"] == token and weekend[symbol]["token_market_open"] is True
    night = _prices_at(TUESDAY_2AM_ET)
    for symbol in ("AMZNrh", "TSLAbb"):
        assert night[symbol]["session"] == "overnight" and night[symbol]["token_price"] == token
        assert night[symbol]["token_market_open"] is True
        assert night[symbol]["depeg"] is (source == "simulated")


def test_a_cex_wallet_follows_the_own_market_rule_of_the_profile_it_resells():
    from markets.models import Asset
    from oracles.models import OracleFeed
    from oracles.services import round_publish

    Asset.objects.filter(symbol="AAPLbn").update(resells_profile="stablestock")  # a 24/7 venue on a pool token
    OracleFeed.objects.filter(asset__symbol="AAPLbn").update(source="simulated")
    round_publish(asset=Asset.objects.get(symbol="AAPLbn"), reference_price=100 * 10**8, token_price=90 * 10**8,
                  source="simulated", notify=False)
    p = _prices_at(SATURDAY_NOON_ET)["AAPLbn"]
    assert p["issuer_profile"] == "cex_wallet" and p["haircut_bps"] < 1_000
    assert p["effective_price"] == p["seize_price"] == "90"  # StableStock's lower-of rule, the pool's price
    assert _prices_at(TUESDAY_2AM_ET)["AAPLbn"]["effective_price"] == "90"  # overnight: still shut, the pool's
