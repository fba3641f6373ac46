"""manage.py feed_replay: one test per issuer profile on its JSON output (API.md), bad input, writes nothing."""
import io
import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from core import profiles
from markets.models import Asset
from markets.selectors import asset_profile_params
from oracles.models import HaircutPolicy, OracleFeed, OracleRound
from tests.factories import make_universe

pytestmark = pytest.mark.django_db
FRI, MON = "2026-01-09T18:00:00Z", "2026-01-12T18:00:00Z"  # Friday 13:00 ET .. Monday 13:00 ET
KEYS = {"at", "session", "closure_kind", "reference_price", "token_price", "effective_price", "haircut_bps",
        "band_low", "band_high", "stale", "depeg"}


@pytest.fixture(autouse=True)
def universe():
    make_universe(haircuts=True)
    OracleFeed.objects.exclude(asset__kind="stablecoin").update(source="simulated")


def replay(symbol, start=FRI, end=MON, step="1h", seed=1):
    out = io.StringIO()
    call_command("feed_replay", "--asset", symbol, "--from", start, "--to", end, "--step", step, "--seed",
                 str(seed), "--json", stdout=out)
    doc = json.loads(out.getvalue())
    assert doc["asset"] == symbol and doc["profile"] == Asset.objects.get(symbol=symbol).issuer_profile
    return doc["steps"]


def f(value):
    return None if value is None else float(value)


def test_shape_is_the_contract_and_nothing_is_written():
    rounds = OracleRound.objects.count()
    steps = replay("TSLAx")
    assert OracleRound.objects.count() == rounds
    assert len(steps) == 73 and steps[0]["at"] == FRI and steps[-1]["at"] == MON
    assert all(set(s) == KEYS for s in steps)
    assert all(isinstance(s["reference_price"], str) and s["band_low"] is None for s in steps)
    assert replay("TSLAx") == steps  # seeded


BAD = [
    (["--asset", "NOPE"], "unknown asset"),
    (["--from", "yesterday"], "not an ISO-8601"),
    (["--to", "2026-01-01T00:00:00Z"], "before --from"),
    (["--step", "1w"], "--step"),
    (["--step", "1s"], "at least 1m"),
    (["--to", "2027-06-01T00:00:00Z"], "more than"),
    (["--from", "1990-01-01T00:00:00Z", "--to", "1990-01-02T00:00:00Z"], "outside"),
]


def test_bad_input_is_a_clear_command_error():
    for args, message in BAD:  # one universe for every case
        base = {"--asset": "TSLAx", "--from": FRI, "--to": MON, "--step": "1h"}
        base.update(dict(zip(args[::2], args[1::2], strict=True)))
        with pytest.raises(CommandError, match=message):
            call_command("feed_replay", *[x for kv in base.items() for x in kv], "--json", stdout=io.StringIO())


def test_stablecoin_is_one_dollar_never_stale():
    steps = replay("USDC")
    assert {(s["reference_price"], s["token_price"], s["effective_price"], s["stale"]) for s in steps} == {
        ("1", "1", "1", False)}


def test_xstocks_drifts_while_closed_and_snaps_back_at_the_open():
    steps = replay("TSLAx", seed=3)
    closed = [s for s in steps if s["session"] == "closed"]
    assert len({s["reference_price"] for s in closed}) == 1
    assert max(abs(f(s["token_price"]) / f(s["reference_price"]) - 1) for s in closed) > 0.005
    reopened = next(s for s in steps if s["session"] == "regular" and s["at"] > "2026-01-11")
    assert abs(f(reopened["token_price"]) / f(reopened["reference_price"]) - 1) < 0.002
    assert all(s["haircut_bps"] > 0 for s in closed)


def test_ondo_does_not_drop_on_an_ex_dividend_date():
    # 2026-02-09 is a projected AAPL ex-date (the shipped 2024-02-09 dividend repeated)
    start, end = "2026-02-06T15:00:00Z", "2026-02-09T20:00:00Z"
    steps = replay("AAPLon", start, end, seed=2)
    asset = Asset.objects.get(symbol="AAPLon")
    params = asset_profile_params(asset, start_price=25_042_000_000)
    t0, t1 = datetime(2026, 2, 6, 15, tzinfo=UTC), datetime(2026, 2, 9, 20, tzinfo=UTC)
    no_dividend = profiles.replay(params, t0, t1, timedelta(hours=1), 2, actions=[])
    with_dividend = profiles.replay(params, t0, t1, timedelta(hours=1), 2)
    assert with_dividend[-1].extra["multiplier"] > 1  # the stock went ex ...
    assert with_dividend[-1].extra["underlying"] < no_dividend[-1].extra["underlying"]
    for s, bare in zip(steps, no_dividend, strict=True):  # ... and the token's reference did not drop with it
        assert f(s["reference_price"]) == pytest.approx(bare.reference_price / 1e8, rel=1e-8)


def test_robinhood_has_prices_on_weekday_nights_and_none_at_weekends():
    steps = replay("AMZNrh", "2026-01-08T12:00:00Z", MON)
    nights = [s for s in steps if s["session"] == "overnight"]
    assert len(nights) >= 16 and all(s["token_price"] is not None for s in nights)
    weekend = [s for s in steps if s["session"] == "closed"]
    assert len(weekend) == 48 and all(s["token_price"] is None for s in weekend)


def test_stablestock_moves_follow_pool_depth():
    def worst():
        return max(abs(f(s["token_price"]) / f(s["reference_price"]) - 1) for s in replay("NVDAss", seed=4)
                   if s["session"] == "closed")

    Asset.objects.filter(symbol="NVDAss").update(depth_usd=2_000_000)
    deep = worst()
    Asset.objects.filter(symbol="NVDAss").update(depth_usd=250_000)
    assert worst() > 4 * deep > 0
    cost = profiles.push_cost_usd(asset_profile_params(Asset.objects.get(symbol="NVDAss")))["cost_usd"]
    assert cost == round(250_000 * (math.sqrt(1.05) - 1))


def test_aster_stays_within_its_off_hours_band():
    steps = replay("TSLAperp", seed=5)
    for s in steps:
        assert f(s["band_low"]) <= f(s["token_price"]) <= f(s["band_high"])
        assert f(s["band_high"]) == pytest.approx(f(s["reference_price"]) * 1.03, abs=1e-8)


def test_trade_xyz_never_leaves_its_band_while_closed():
    steps = replay("NVDAxyz", "2026-01-09T22:00:00Z", "2026-01-19T14:00:00Z", step="1h", seed=6)  # MLK weekend
    closed = [s for s in steps if s["session"] != "regular"]
    assert {s["closure_kind"] for s in closed} >= {"holiday_weekend", "overnight"}
    for s in closed:
        assert f(s["band_low"]) <= f(s["token_price"]) <= f(s["band_high"])
        assert f(s["band_low"]) == pytest.approx(f(s["reference_price"]) * 0.9, abs=1e-8)
        assert f(s["effective_price"]) <= f(s["token_price"])  # lower of the book and the haircut reference


def test_ventuals_blends_valuation_and_its_trades():
    steps = replay("OPENAIv", FRI, "2026-01-11T18:00:00Z", seed=7)
    refs, tokens = [f(s["reference_price"]) for s in steps], [f(s["token_price"]) for s in steps]
    assert all(s["session"] == "closed" and s["closure_kind"] == "unplanned" for s in steps)
    assert len(set(refs)) > 40  # the trades' 1-hour average moves the oracle between valuations

    def vol(xs):
        moves = [math.log(b / a) for a, b in zip(xs, xs[1:], strict=False)]
        return math.sqrt(sum(m * m for m in moves) / len(moves))

    assert vol(refs) < vol(tokens)  # half valuation, half a 1-hour average: calmer than the trades


def test_jarsy_only_changes_on_valuation_events():
    steps = replay("SPACEXpre", "2026-01-01T00:00:00Z", "2026-12-31T00:00:00Z", step="1d", seed=8)
    changes = sum(a["reference_price"] != b["reference_price"] for a, b in zip(steps, steps[1:], strict=False))
    assert 1 <= changes <= 12  # a valuation every ~90 days
    assert all(s["token_price"] == s["reference_price"] and s["session"] == "closed" for s in steps)
    assert all(s["haircut_bps"] == steps[0]["haircut_bps"] > 0 for s in steps)


def test_cex_wallet_follows_its_profile_and_its_own_hours():
    binance, ondo = replay("AAPLbn", seed=9), replay("AAPLon", seed=9)
    assert [s["reference_price"] for s in binance] == [s["reference_price"] for s in ondo]
    assert all(s["token_price"] is not None for s in binance)  # 24/7 venue
    bybit = replay("TSLAbb", seed=9)  # a 24/5 contract on xStocks
    assert all((s["token_price"] is None) == (s["session"] == "closed") for s in bybit)


@pytest.mark.parametrize("resells, fields", [
    ("trade_xyz", dict(max_leverage=10, depth_usd=100_000)),  # a 24/5 venue on a banded HIP-3 book
    ("stablestock", dict(depth_usd=250_000)),  # on a pool token
])
def test_cex_wallet_prices_by_the_rule_of_the_profile_it_resells(resells, fields):
    Asset.objects.filter(symbol="TSLAbb").update(resells_profile=resells, **fields)  # Bybit: 24/5
    HaircutPolicy.objects.filter(asset__symbol="TSLAbb").update(  # thin haircuts, so the token's price can bite
        mode="fixed", fixed_bps={"overnight": 50, "weekend": 100})
    steps = replay("TSLAbb", "2026-01-08T12:00:00Z", MON, seed=10)
    nights = [s for s in steps if s["session"] not in ("regular", "closed")]
    assert nights and any(f(s["token_price"]) < f(s["reference_price"]) * (1 - s["haircut_bps"] / 10_000)
                          for s in nights)  # the book or pool sometimes sits below the haircut reference ...
    for s in steps:
        haircut_ref = math.floor(f(s["reference_price"]) * 1e8 * (10_000 - s["haircut_bps"]) / 10_000) / 1e8
        if s["session"] == "closed":  # ... no venue at weekends: no token price, the haircut reference
            assert s["token_price"] is None and f(s["effective_price"]) == pytest.approx(haircut_ref, abs=1e-8)
        elif s["session"] != "regular":  # ... and while it trades the resold rule: the lower of the two
            assert f(s["effective_price"]) == pytest.approx(min(f(s["token_price"]), haircut_ref), abs=1e-8)
            if resells == "trade_xyz":
                assert f(s["band_low"]) <= f(s["token_price"]) <= f(s["band_high"])
    assert all((s["band_low"] is None) == (resells != "trade_xyz") for s in steps)
