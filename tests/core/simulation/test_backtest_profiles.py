"""Issuer profiles in the backtest (issue #12): own-market profiles get a seeded token path through each closure
(core.simulation.closure) and a fifth moment priced at min(haircut reference, token low), seized at the token's
price; every other profile gives exactly the results it gave before profiles reached the backtest."""
import json
import math
from datetime import date, timedelta

import numpy as np
import pytest

from core import profiles
from core.aave.wadray import percent_div, percent_mul
from core.profiles import AssetParams
from core.simulation import backtest, closure

E6, E8, E18 = 10**6, 10**8, 10**18
PARAMS = backtest.Parameters(ltv_bps=8_000, liquidation_threshold_bps=8_500, liquidation_bonus_bps=10_500,
                             protocol_fee_bps=1_000)
XYZ = AssetParams("NVDAxyz", profiles.TRADE_XYZ, "NVDA", max_leverage=10, depth_usd=100_000, sigma_daily=0.03)
ASTER = AssetParams("TSLAperp", profiles.ASTER, "TSLA", band_bps=300, depth_usd=200_000, sigma_daily=0.04)
POOL = AssetParams("NVDAss", profiles.STABLESTOCK, "NVDA", depth_usd=500_000, sigma_daily=0.03)
OTHERS = [  # every profile whose closed-market rule is the haircut reference
    AssetParams("NVDAx", profiles.XSTOCKS, "NVDA", sigma_daily=0.03),
    AssetParams("NVDAon", profiles.ONDO, "NVDA", sigma_daily=0.03, multiplier_bps=10_100),
    AssetParams("NVDArh", profiles.ROBINHOOD, "NVDA", sigma_daily=0.03),
    AssetParams("NVDApre", profiles.JARSY, "NVDA", valuation_interval_days=90),
    AssetParams("USDC", profiles.STABLECOIN),
    AssetParams("NVDAbn", profiles.CEX, "NVDA", resells=profiles.ONDO),
    AssetParams("NVDAbb", profiles.CEX, "NVDA", resells=profiles.XSTOCKS, venue_hours="24/5"),
]
WIDE = backtest.Parameters(7_000, 7_500, 10_500, 1_000)  # high enough LTV for 2020's gaps to liquidate
K_TABLE = {kind: 2.5 for kind in ("overnight", "weekend", "holiday", "holiday_weekend", "unplanned")}


def bars(*sessions, kind="overnight", sigma=0.02):
    """Sessions as (open, low, close) in whole dollars, on consecutive days."""
    days = [date(2024, 1, 2) + timedelta(days=i) for i in range(len(sessions))]
    return backtest.Bars("TEST", days, [s[0] * E8 for s in sessions], [s[1] * E8 for s in sessions],
                         [s[2] * E8 for s in sessions], [sigma] * len(sessions),
                         [kind] * (len(sessions) - 1) + [None])


def none_policy(params=PARAMS):
    return backtest.Policy("none", params, lambda kind, sigma: 0, False, False)


def one_account(b, p, **kwargs):
    return backtest.run(b, p, start=b.dates[0], end=b.dates[-1], shares_bps=(10_000,), deposit_usd=100_000, **kwargs)


def test_hand_worked_one_closure_one_account():
    """One account, one closure, Trade.xyz at 10x (band +/-10%), policy none, LTV 80%, LT 85%, bonus 5%, fee 10%.

    Day 1: $100,000 buys 1,000 tokens at $100; debt 80,000 USDC (100% of the borrowing power). At the close
    HF = 1,000 x 100 x 0.85 / 80,000 = 1.0625: nobody is liquidated.
    The closure: the next open is $50 (-50%), so the bridge runs down to it and hits the band's edge: the
    token's low is $90.00000000 (100 x (1 - 1/10)). Oracle = min($100 haircut reference, $90) = $90:
    HF = 1,000 x 90 x 0.85 / 80,000 = 0.95625 > 0.95 and both sides >= $2,000: close factor 50%.
      repaid 40,000 USDC; seized = percentMul(40,000 / 90 = 444.444444444444444444 tokens, 10500)
      = 466.666666666666666666 tokens, counted at the token's $90 (= $42,000: the 5% bonus only).
      Left: 533.333333333333333334 tokens, 40,000 USDC, HF at $90 = 48,000 x 0.85 / 40,000 = 1.02: stop.
    Day 2 opens at $50: 533.33 tokens are $26,666.66666666 < 40,000 x 1.05: all seized, repaid
      percentDiv(26,666.666666, 10500) = 25,396.825396 USDC; deficit 40,000 - 25,396.825396 = 14,603.174604.
    The same book on xStocks (haircut reference only) meets the gap with 1,000 tokens and 80,000 of debt:
      repaid percentDiv(50,000, 10500) = 47,619.047619; deficit 32,380.952381.
    The own market sold half the debt's collateral before the gap, at the band: $14,603.17 vs $32,380.95."""
    b = bars((100, 100, 100), (50, 50, 50))
    r = one_account(b, none_policy(), profile=XYZ, seed=7)
    seized = percent_mul(40_000 * E6 * E8 * E18 // (90 * E8 * E6), 10_500)
    assert seized == 466_666_666_666_666_666_666
    left = 1_000 * E18 - seized
    repaid_at_open = percent_div(50 * E8 * left * E6 // (E8 * E18), 10_500)  # all of it, Aave v3.3
    assert repaid_at_open == 25_396_825_396
    assert r.debt_repaid == 40_000 * E6 + repaid_at_open
    assert r.bad_debt == 40_000 * E6 - repaid_at_open == 14_603_174_604
    assert r.closed_market_liquidations == 1 and r.unnecessary_liquidations == 0  # the open was worse
    assert r.penalty == seized * 90 * E8 // E18 - 40_000 * E8 + (left * 50 * E8 // E18 - repaid_at_open * 100)
    assert r.closed_token["events"] == [{"closed_from": "2024-01-02", "close_usd": "100.00000000",
                                         "token_low_usd": "90.00000000", "oracle_usd": "90.00000000",
                                         "liquidations": 1}]
    assert r.as_dict()["bad_debt_usd"] == "14603.17"
    xstocks = one_account(b, none_policy(), profile=OTHERS[0], seed=7)
    assert xstocks.bad_debt == 80_000 * E6 - percent_div(50_000 * E6, 10_500) == 32_380_952_381


@pytest.fixture(scope="module")
def nvda():
    from core.clock import MarketClock

    return backtest.load_bars(backtest.haircut.PRICES_DIR / "NVDA.csv", MarketClock.get("XNYS").gap_kind)


def _policies():
    return backtest.build_policies(["none", "fixed", "calibrated", "pause_when_closed"], ticker="NVDA",
                                   parameters=WIDE, k_table=K_TABLE, fixed_bps={k: 800 for k in K_TABLE})


def _dump(result, b):
    return json.dumps([result.as_dict(), result.worst_closures(b), result.closure_costs], sort_keys=True, default=str)


@pytest.mark.parametrize("engine", ["v3.3", "v4"])
def test_profiles_without_an_own_market_give_the_results_of_a_run_without_profiles(nvda, engine):
    start, end = date(2020, 1, 1), date(2020, 12, 31)
    for policy in _policies():
        for seize_at in backtest.SEIZE_AT:
            base = _dump(backtest.run(nvda, policy, start=start, end=end, engine=engine, seize_at=seize_at), nvda)
            assert json.loads(base)[0]["liquidations"] > 0  # a year with gaps: the comparison has something in it
            for p in OTHERS:
                for seed in (None, 7):
                    got = backtest.run(nvda, policy, start=start, end=end, engine=engine, seize_at=seize_at,
                                       profile=p, seed=seed)
                    assert got.closed_token is None
                    assert _dump(got, nvda) == base, (p.profile, p.resells, policy.name, seize_at)


def test_pausing_liquidations_while_closed_skips_the_token_moment(nvda):
    pause = _policies()[-1]
    start, end = date(2020, 1, 1), date(2020, 12, 31)
    base = backtest.run(nvda, pause, start=start, end=end).as_dict()
    got = backtest.run(nvda, pause, start=start, end=end, profile=XYZ, seed=7).as_dict()
    assert got.pop("closed_token") == {"closures": 0, "liquidations": 0, "lowest_vs_close_bps": None, "events": []}
    assert got == base


@pytest.mark.parametrize("engine", ["v3.3", "v4"])
def test_same_seed_same_output_and_the_seed_matters(nvda, engine):
    start, end = date(2020, 1, 1), date(2020, 12, 31)
    none = _policies()[0]
    runs = [_dump(backtest.run(nvda, none, start=start, end=end, engine=engine, profile=POOL, seed=s), nvda)
            for s in (7, 7, 8)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]  # other token paths
    doc = json.loads(runs[0])[0]
    assert doc["closed_token"]["closures"] == 252 and doc["closed_token"]["liquidations"] > 0
    # the own market is what differs from a run without it
    assert runs[0] != _dump(backtest.run(nvda, none, start=start, end=end, engine=engine), nvda)


def test_an_own_market_profile_needs_a_seed():
    with pytest.raises(backtest.BacktestError, match="seed"):
        one_account(bars((100, 100, 100), (100, 100, 100)), none_policy(), profile=XYZ)


@pytest.mark.parametrize("p, width", [(XYZ, 1_000), (ASTER, 300),
                                      (AssetParams("X3", profiles.TRADE_XYZ, max_leverage=3), 3_333),
                                      (AssetParams("Xbb", profiles.CEX, resells=profiles.TRADE_XYZ, max_leverage=20),
                                       500)])
def test_a_banded_token_never_prints_below_the_band(p, width):
    assert closure.band_bps(p) == width and math.isclose(width / 10_000, p.band_fraction, abs_tol=1e-4)
    rng = np.random.default_rng(1)
    for i in range(300):
        close = int(rng.integers(1 * E8, 2_000 * E8))
        next_open = int(close * float(np.exp(rng.normal(0, 0.15))))  # gaps far past any band, both ways
        day = date(2001, 1, 1) + timedelta(days=i)
        low = closure.token_low(p, close=close, next_open=next_open, closed_on=day, opens_on=day + timedelta(days=3),
                                sigma_daily=0.05, seed=i)
        assert low * 10_000 >= close * (10_000 - width)  # never below close x (1 - band), exactly
        assert low <= close * (10_000 + width) // 10_000 + 1


def test_the_bridge_is_pinned_at_the_close_and_the_next_open():
    quiet = AssetParams("Q", profiles.VENTUALS, sigma_daily=0.0)  # no volatility: the bridge is its mean
    path = closure.token_path(quiet, close=100 * E8, next_open=81 * E8, hours=4.0, sigma_daily=0.0,
                              rng=np.random.default_rng(0))
    assert np.allclose(path, [100 * 0.81 ** (k / 4) for k in (1, 2, 3)])  # geometric interpolation, ends excluded
    # a weekend is 65.5 hours: 66 hourly points, 65 inside
    rng = np.random.default_rng(0)
    assert len(closure.token_path(XYZ, close=E8, next_open=E8, hours=65.5, sigma_daily=0.03, rng=rng)) == 65
    assert closure.closure_hours(date(2024, 1, 5), date(2024, 1, 8)) == 65.5
    assert closure.closure_hours(date(2024, 1, 2), date(2024, 1, 3)) == 17.5


def test_closed_market_volatility_comes_from_the_profile():
    assert closure.closed_vol_per_day(POOL, 0.9) == pytest.approx(2 * 1_000 / 500_000 * math.sqrt(24))
    assert closure.closed_vol_per_day(XYZ, 0.04) == pytest.approx(0.04 * profiles.XSTOCKS_CLOSED_VOL)
    assert closure.closed_vol_per_day(AssetParams("V", profiles.VENTUALS), 0.04) == 0.04  # none of its own
    assert [closure.own_market(p) for p in (XYZ, ASTER, POOL, *OTHERS, None)] == [True] * 3 + [False] * 8
    assert closure.own_market(AssetParams("Xbn", profiles.CEX, resells=profiles.STABLESTOCK))


def test_a_24_5_venue_has_no_token_price_through_a_weekend():
    pool_24_5 = AssetParams("NVDAbb", profiles.CEX, resells=profiles.STABLESTOCK, venue_hours="24/5",
                            depth_usd=500_000)
    weekend = one_account(bars((100, 100, 100), (100, 100, 100), kind="weekend"), none_policy(), profile=pool_24_5,
                          seed=1)
    night = one_account(bars((100, 100, 100), (100, 100, 100)), none_policy(), profile=pool_24_5, seed=1)
    assert weekend.closed_token["closures"] == 0 and night.closed_token["closures"] == 1


def test_a_closure_path_depends_on_the_seed_and_its_date_only():
    kwargs = dict(close=100 * E8, next_open=97 * E8, opens_on=date(2024, 1, 3), sigma_daily=0.03)
    a = closure.token_low(POOL, closed_on=date(2024, 1, 2), seed=5, **kwargs)
    assert a == closure.token_low(POOL, closed_on=date(2024, 1, 2), seed=5, **kwargs)
    assert a != closure.token_low(POOL, closed_on=date(2024, 1, 2), seed=6, **kwargs)
    assert isinstance(a, int) and a < 97 * E8 + 3 * E8  # 8-decimal integer, rounded down from the path
