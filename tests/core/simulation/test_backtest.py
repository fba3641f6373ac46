"""core.simulation.backtest, the Django-free engine: Aave v3.3 amounts at each moment of a session, deficits, what
counts as an unnecessary liquidation, and which prices a policy may see."""
from datetime import date, timedelta

import pytest

from core.aave.wadray import percent_div, percent_mul
from core.simulation import backtest

E6, E8, E18 = 10**6, 10**8, 10**18
PARAMS = backtest.Parameters(ltv_bps=8_000, liquidation_threshold_bps=8_500, liquidation_bonus_bps=10_500,
                             protocol_fee_bps=1_000)


def bars(*sessions, kind="overnight", sigma=0.02):
    """Sessions as (open, low, close) in whole dollars."""
    days = [date(2024, 1, 2) + timedelta(days=i) for i in range(len(sessions))]
    return backtest.Bars("TEST", days, [s[0] * E8 for s in sessions], [s[1] * E8 for s in sessions],
                         [s[2] * E8 for s in sessions], [sigma] * len(sessions),
                         [kind] * (len(sessions) - 1) + [None])


def policy(haircut_bps=0, *, on_threshold=False, pause=False, params=PARAMS):
    return backtest.Policy("test", params, lambda kind, sigma: haircut_bps, on_threshold, pause)


def run(b, p, shares=(10_000,)):
    return backtest.run(b, p, start=b.dates[0], end=b.dates[-1], shares_bps=shares, deposit_usd=100_000)


def test_a_flat_market_liquidates_nobody():
    r = run(bars((100, 100, 100), (100, 100, 100), (100, 100, 100)), policy())
    assert (r.liquidations, r.bad_debt, r.sessions, r.closures) == (0, 0, 3, 2)
    assert r.debt_days == 2 * 80_000 * E6  # 1,000 tokens at $100, 80% LTV, carried into both gaps


def test_a_gap_down_is_liquidated_at_the_open_with_aave_amounts():
    # 1,000 tokens, 80,000 USDC; the open at $90 gives HF 0.95625: close factor 50% (Aave v3.3)
    r = run(bars((100, 100, 100), (90, 90, 90)), policy())
    assert r.liquidations == 1 and r.closed_market_liquidations == 0
    assert r.debt_repaid == 40_000 * E6
    seized = percent_mul(40_000 * E6 * E8 * E18 // (90 * E8 * E6), 10_500)  # _calculateAvailableCollateralToLiquidate
    assert r.penalty == seized * 90 * E8 // E18 - 40_000 * E8  # the bonus, at the market price
    assert r.bad_debt == 0


def test_collateral_running_out_leaves_a_deficit():
    # at $50 the 1,000 tokens are worth $50,000 < 80,000 x 1.05: all seized, the rest is bad debt
    r = run(bars((100, 100, 100), (50, 50, 50)), policy())
    repaid = percent_div(50_000 * E6, 10_500)
    assert r.debt_repaid == repaid and r.bad_debt == 80_000 * E6 - repaid
    assert r.bad_debt_events == 1 and r.worst_bad_debt == (80_000 * E6 - repaid, "2024-01-03")
    assert r.accounts_wiped == 1
    # seized at the market price, the deficit Aave books is the bad debt at market prices
    assert r.as_dict()["deficit_usd"] == "32380.95" and r.as_dict()["bad_debt_usd"] == "32380.95"


def test_the_sessions_low_is_where_intraday_liquidations_happen():
    r = run(bars((100, 100, 100), (100, 90, 100)), policy())
    assert r.liquidations == 1 and r.debt_repaid == 40_000 * E6


@pytest.mark.parametrize("next_open, unnecessary", [(100, 1), (80, 0)])
def test_a_haircut_on_the_threshold_liquidates_at_the_close(next_open, unnecessary):
    # closed at $100 with a 10% haircut on the threshold: HF 0.95625 at $90, liquidated before the gap
    r = run(bars((100, 100, 100), (next_open, next_open, next_open)), policy(1_000, on_threshold=True))
    assert r.closed_market_liquidations == 1
    assert r.unnecessary_liquidations == unnecessary  # the market reopened flat: the bonus was paid for nothing
    # the haircut decided whether; the seizure is counted at the market price: the borrower pays the bonus only
    assert r.transferred == 0 and (next_open != 100 or r.penalty == 2_000 * E8)
    # the old rule priced the seizure at the oracle's (haircut) price, the borrower lost at the market's
    old = backtest.run(bars((100, 100, 100), (next_open,) * 3), policy(1_000, on_threshold=True),
                       start=date(2024, 1, 2), end=date(2024, 1, 3), shares_bps=(10_000,), seize_at="haircut")
    seized = percent_mul(40_000 * E6 * E8 * E18 // (90 * E8 * E6), 10_500)
    assert old.penalty >= seized * 100 * E8 // E18 - 40_000 * E8 and old.transferred > 0


def test_pausing_while_closed_or_haircutting_borrowing_power_only_liquidates_nobody_at_the_close():
    b = bars((100, 100, 100), (100, 100, 100))
    assert run(b, policy(1_000, pause=True, on_threshold=True)).closed_market_liquidations == 0
    only_power = run(b, policy(1_000))
    assert only_power.liquidations == 0


def test_a_haircut_on_borrowing_power_keeps_borrowers_from_topping_up_into_the_gap():
    # the price rises to $110 by the close: without a haircut the borrower borrows more before the gap
    b = bars((100, 100, 110), (100, 100, 100))
    free, cut = run(b, policy()), run(b, policy(1_000))
    assert free.debt_days == 88_000 * E6 and cut.debt_days == 80_000 * E6  # $110 x 90% < $100 x 100%


def test_each_borrower_targets_its_share_of_borrowing_power():
    r = run(bars((100, 100, 100), (100, 100, 100)), policy(), shares=(8_000, 10_000))
    assert r.debt_days == (64_000 + 80_000) * E6


def test_fixed_table_reads_only_bars_before_the_start():
    b = bars(*[(100, 100, 100)] * 60, (80, 80, 80), *[(100, 100, 100)] * 60)
    cut = b.dates[40]
    table = backtest.fixed_table(b, cut, 0.99)
    assert set(table) == set(backtest.haircut.KINDS) and table["overnight"] == 0  # the -20% gap is later
    assert backtest.fixed_table(b, b.dates[-1], 0.999)["overnight"] == 2_000  # the worst of 120 gaps
    with pytest.raises(backtest.BacktestError):
        backtest.fixed_table(b, b.dates[0], 0.99)


def test_policies_by_name():
    names = list(backtest.POLICIES)
    built = backtest.build_policies(names, ticker="TSLA", parameters=PARAMS, k_table={"overnight": 3.0},
                                    fixed_bps={"overnight": 500})
    by = {p.name: p for p in built}
    assert by["kamino"].parameters.ltv_bps == 5_500 and by["kamino"].parameters.liquidation_threshold_bps == 6_500
    assert by["none"].haircut_bps("overnight", 0.02) == 0 and by["kamino"].haircut_bps("overnight", 0.02) == 0
    assert by["fixed"].haircut_bps("overnight", 0.02) == 500 and by["fixed"].on_threshold
    assert by["calibrated"].haircut_bps("overnight", 0.02) == 600 and by["calibrated"].on_threshold
    assert by["pause_when_closed"].pause_when_closed and not by["pause_when_closed"].on_threshold
    with pytest.raises(backtest.BacktestError, match="unknown policy"):
        backtest.build_policies(["yolo"], ticker="TSLA", parameters=PARAMS, k_table=None, fixed_bps=None)
    with pytest.raises(backtest.BacktestError, match="Kamino lists no"):
        backtest.build_policies(["kamino"], ticker="META", parameters=PARAMS, k_table=None, fixed_bps=None)


def test_progress_reaches_the_number_of_sessions():
    seen = []
    b = bars(*[(100, 100, 100)] * 600)
    backtest.run(b, policy(), start=b.dates[0], end=b.dates[-1], progress=seen.append)
    assert seen == [250, 500, 600]


def test_real_bars_load_as_integers_with_closure_kinds():
    from core.clock import MarketClock

    b = backtest.load_bars(backtest.haircut.PRICES_DIR / "SPY.csv", MarketClock.get("XNYS").gap_kind)
    i = b.dates.index(date(2020, 3, 13))  # the Friday before SPY's -10.5% Monday open
    assert b.kind[i] == "weekend" and b.open[i + 1] < b.close[i] * 0.9
    assert all(isinstance(v, int) for v in b.open[:5] + b.low[:5] + b.close[:5])
    assert all(lo <= min(o, c) for o, lo, c in zip(b.open, b.low, b.close))
