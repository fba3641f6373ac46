"""Paths for the vectorised core: replay, seeded simulation with empirical gaps, and each named stress's
defining property."""
from datetime import date

import numpy as np
import pytest

from core.clock import CLOSURE_KINDS, MarketClock
from core.haircut import calibrated as haircut
from core.simulation import paths as P
from core.simulation import vector as V

TICKERS, P0, SIGMA = ("TSLA", "SPY"), np.array([250.0, 500.0]), np.array([0.04, 0.01])
RES = V.Reserves.uniform(TICKERS, ltv_bps=5_500, liquidation_threshold_bps=6_500, liquidation_bonus_bps=10_750)


@pytest.fixture(scope="module")
def quiet():
    return P.quiet_week(TICKERS, P0, SIGMA, seed=3)


@pytest.fixture(scope="module")
def book():
    return V.random_book(300, RES, P0, rng=np.random.default_rng(1), share_low=0.95)


def _reopen(path, kind):
    return int(np.flatnonzero(P._reopens(path, kind))[0])


def test_daily_replay_walks_open_low_close_and_keeps_2020_03_16():
    path = P.daily_replay(["SPY", "QQQ"], date(2020, 3, 9), date(2020, 3, 20))
    assert path.shape == (30, 2) and list(path.status[:3, 0]) == [P.OPEN, P.OPEN, P.CLOSED]
    t = _reopen(path, "weekend")
    assert path.reference[t, 0] / path.reference[t - 1, 0] - 1 == pytest.approx(-0.1045, abs=5e-4)
    assert (path.reference[1::3] <= path.reference[0::3]).all()  # the low never above the open


def test_intraday_replay_freezes_the_reference_outside_the_session():
    path = P.intraday_replay("QQQ")
    closed = path.closed[:, 0]
    moved = np.flatnonzero(closed[1:] & closed[:-1]) + 1
    assert (path.reference[moved, 0] == path.reference[moved - 1, 0]).all()
    assert (path.token[moved, 0] != path.reference[moved, 0]).any()  # extended hours move the token
    assert 0.3 < (~closed).mean() < 0.5


def test_simulated_paths_are_seeded_and_gap_only_at_the_reopen():
    clock = MarketClock.get("XNYS")
    rows = haircut.closures("TSLA", *haircut.read_bars(haircut.PRICES_DIR / "TSLA.csv"), clock.gap_kind)
    gaps = P.GapSampler.from_closures(rows)
    times = P.hourly_times(__import__("datetime").datetime(2024, 3, 1), 24 * 10)
    is_open, kind = P.calendar_flags(times, clock)
    one = P.simulate(TICKERS, P0, SIGMA, times=times, is_open=is_open, kind=kind, rng=np.random.default_rng(7),
                     gaps=gaps)
    two = P.simulate(TICKERS, P0, SIGMA, times=times, is_open=is_open, kind=kind, rng=np.random.default_rng(7),
                     gaps=gaps)
    other = P.simulate(TICKERS, P0, SIGMA, times=times, is_open=is_open, kind=kind, rng=np.random.default_rng(8),
                       gaps=gaps)
    assert np.array_equal(one.reference, two.reference) and not np.array_equal(one.reference, other.reference)
    shut = np.flatnonzero(~is_open[1:] & ~is_open[:-1]) + 1
    assert (one.reference[shut] == one.reference[shut - 1]).all()  # frozen while shut
    assert set(CLOSURE_KINDS[k] for k in kind[~is_open]) >= {"overnight", "weekend"}
    z = gaps.draw("weekend", ["TSLA", "NVDA"], np.random.default_rng(0))
    assert z[0] in set(gaps.by_kind["weekend"][2]) and np.isfinite(z).all()


def test_monday_gap_hits_every_asset_at_once(quiet):
    s = P.monday_gap_all(quiet)
    t = _reopen(s, "weekend")
    np.testing.assert_allclose(s.reference[t] / s.reference[t - 1], 0.9)
    np.testing.assert_array_equal(s.reference[:t], quiet.reference[:t])


def test_earnings_gap_hits_one_name_overnight(quiet):
    s = P.earnings_gap(quiet)
    t = _reopen(s, "overnight")
    assert s.reference[t, 0] / s.reference[t - 1, 0] == pytest.approx(0.75)
    np.testing.assert_array_equal(s.reference[:, 1], quiet.reference[:, 1])


@pytest.mark.parametrize("push", [0.05, -0.05])
def test_token_push_on_sunday_moves_the_token_only(quiet, book, push):
    s = P.token_push_sunday(quiet, push=push)
    sunday = s.token != quiet.token
    days = (s.times[sunday.any(axis=1)] // 86_400 + 3) % 7
    assert set(days) == {6} and s.closed[sunday.any(axis=1)].all()
    np.testing.assert_allclose(s.token[sunday] / s.reference[sunday], 1 + push)
    np.testing.assert_array_equal(s.reference, quiet.reference)
    # an oracle on the reference is untouched by it
    pushed, base = V.run(book, RES, P.policy_view(s, "none")), V.run(book, RES, P.policy_view(quiet, "none"))
    assert pushed.as_dict() == base.as_dict()


def test_weekend_split_is_not_a_loss(quiet, book):
    s = P.weekend_split(quiet, ratio=3)
    t = _reopen(s, "weekend")
    assert s.reference[t, 0] == pytest.approx(quiet.reference[t, 0] / 3) and s.rebase[t, 0] == 3
    split, base = V.run(book, RES, P.policy_view(s, "calibrated")), V.run(book, RES, P.policy_view(quiet, "calibrated"))
    assert split.liquidations == base.liquidations > 0
    assert split.unnecessary_liquidations == base.unnecessary_liquidations  # the split never reads as a fall
    assert split.bad_debt_usd == pytest.approx(base.bad_debt_usd)
    naive = V.run(book, RES, P.policy_view(P.PricePath.build(s.symbols, s.times, s.reference, status=s.status,
                                                             kind=s.kind, sigma=s.sigma), "none"))
    assert naive.liquidations > base.liquidations  # without the rebase the split would read as a -67% crash


def test_stuck_feed_lags_the_truth_then_catches_up(quiet):
    s = P.stuck_feed(quiet, hours=4, fall=-0.08)
    t0 = int(np.flatnonzero(quiet.status[:, 0] == P.OPEN)[0])
    assert (s.reference[t0:t0 + 4, 0] == s.reference[t0, 0]).all()
    assert s.market[t0 + 4, 0] / s.market[t0, 0] == pytest.approx(0.92)
    assert s.reference[t0 + 4, 0] == s.market[t0 + 4, 0]
    np.testing.assert_allclose(s.reference[t0 + 4:], s.market[t0 + 4:])


def test_zero_feed_is_refused(quiet, book):
    s = P.zero_feed(quiet, steps=3)
    zero = s.reference[:, 0] == 0
    assert zero.sum() == 3 and not s.closed[zero, 0].any()
    view = P.policy_view(s, "calibrated")
    assert view.blocked[zero, 0].all() and (view.effective[:, 0] > 0).all()
    out = V.run(book, RES, view, record=True)
    assert not [e for e in out.events if zero[e[0]] and e[2] == 0]


def test_status_unknown_for_30_minutes_is_treated_as_an_unplanned_closure(quiet):
    s = P.status_unknown(quiet, minutes=30)
    unknown = s.status[:, 0] == P.UNKNOWN
    assert unknown.sum() == 1 and quiet.status[unknown, 0].all()  # one hourly step, in the session
    cut = P.haircut_table(s, "calibrated")
    k = haircut.k_for(0.99)["unplanned"]
    assert cut[unknown, 0][0] == min(int(np.ceil(k * SIGMA[0] * 10_000 - 1e-9)), haircut.MAX_BPS)
    assert P.policy_view(s, "calibrated").closed[unknown].all()


def test_every_stress_is_named_and_documented():
    assert set(P.STRESSES) == {"monday_gap_all", "earnings_gap", "token_push_sunday", "weekend_split", "stuck_feed",
                               "zero_feed", "status_unknown"}
    assert all(f.__doc__ for f in P.STRESSES.values())
