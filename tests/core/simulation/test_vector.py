"""The vectorised core against the exact integer engine (core.aave.engines.quote in a loop): the same accounts
liquidated at each step, on the same collateral, with amounts within vector.REL_TOLERANCE; plus the rules the
core must keep (a refused price liquidates nobody, a haircut never prices the seizure, deficits at market)."""
import numpy as np
import pytest

from core.simulation import vector as V

RES = V.Reserves(("TSLAx", "SPYx", "HOODx"), (5_500, 7_300, 3_000), (6_500, 7_500, 4_000),
                 (10_750, 10_500, 11_000), (1_000, 1_000, 2_000))
P0 = np.array([250.0, 500.0, 40.0])
# step 0 open; 1 open, small dip; 2 closed with a 6% haircut, flat market (needless liquidations); 3 the open
# gaps down (TSLA -45%, HOOD -75%: deficits); 4 a further slide; 5 open
MOVES = np.array([[1, 1, 1], [0.995, 0.999, 0.99], [0.995, 0.999, 0.99], [0.55, 0.99, 0.25],
                  [0.50, 0.94, 0.22], [0.51, 0.94, 0.22]])
CLOSED = np.array([[0, 0, 0], [0, 0, 0], [1, 1, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0]], dtype=bool)


def _book(n=200, seed=11):
    return V.random_book(n, RES, P0, rng=np.random.default_rng(seed), share_low=0.9, deposit_median_usd=4_000)


def _view(**kw):
    ref = np.round(P0 * MOVES, 8)  # on the engine's 8-decimal grid
    return V.oracle_view(reference=ref, closed=CLOSED, haircut_bps=np.where(CLOSED, 600, 0), **kw)


def _by_step(events):
    out = {}
    for t, i, a, *_ in events:
        out.setdefault(t, []).append((i, a))
    return {t: sorted(v) for t, v in out.items()}


@pytest.mark.parametrize("engine", ["v3.3", "v4"])
@pytest.mark.parametrize("seize_at", ["reference", "haircut"])
def test_vector_core_matches_the_exact_engine(engine, seize_at):
    book, view = _book(), _view(seize_at=seize_at)
    fast = V.run(book, RES, view, engine=engine, record=True, block=4)  # blocks split the path mid-run
    exact = V.run_exact(book, RES, view, engine=engine, record=True)
    assert _by_step(fast.events) == _by_step(exact.events)
    assert {t for t, *_ in exact.events} >= {2, 3, 4}  # liquidations at several steps, closed one included
    assert exact.deficit_events > 0 and exact.unnecessary_liquidations > 0
    a, b = np.array(sorted(fast.events)), np.array(sorted(exact.events))
    np.testing.assert_allclose(a[:, 3:], b[:, 3:], rtol=V.REL_TOLERANCE, atol=V.ABS_TOLERANCE_USD)
    for key in ("liquidations", "liquidated_accounts", "unnecessary_liquidations", "closed_market_liquidations",
                "deficit_events"):
        assert getattr(fast, key) == getattr(exact, key), key
    for key in ("bad_debt_usd", "debt_repaid_usd", "collateral_seized_usd", "transferred_to_liquidators_usd",
                "latent_bad_debt_usd"):
        assert getattr(fast, key) == pytest.approx(getattr(exact, key), rel=V.REL_TOLERANCE, abs=1e-3), key


def test_the_haircut_decides_whether_never_at_what_price():
    book = _book()
    fair = V.run(book, RES, _view(seize_at="reference"))
    old = V.run(book, RES, _view(seize_at="haircut"))
    assert fair.transferred_to_liquidators_usd == pytest.approx(0, abs=1e-6)
    assert old.transferred_to_liquidators_usd > 1_000  # the old rule hands the haircut's discount over
    assert old.collateral_seized_usd > fair.collateral_seized_usd


def test_a_feed_reading_zero_is_refused_and_liquidates_nobody():
    book = _book(50)
    ref = np.round(P0 * MOVES, 8)
    ref[3, 0] = 0.0  # TSLA's feed reads zero at the gap
    view = V.oracle_view(reference=ref, closed=CLOSED)
    out = V.run(book, RES, view, record=True)
    assert not [e for e in out.events if e[0] == 3 and e[2] == 0]  # nothing seized against the zero price
    assert view.effective[3, 0] == view.effective[2, 0] and view.blocked[3, 0]
    assert np.isfinite(out.bad_debt_usd) and out.bad_debt_usd == pytest.approx(
        V.run_exact(book, RES, view).bad_debt_usd, rel=V.REL_TOLERANCE, abs=1e-3)
    with pytest.raises(ValueError):
        V.oracle_view(reference=np.zeros((2, 3)), closed=np.zeros((2, 3), dtype=bool))


def test_pause_when_closed_waits_for_the_open_and_hf_screen_counts():
    book = _book(100)
    paused = V.run(book, RES, _view(pause_when_closed=True), record=True)
    assert paused.closed_market_liquidations == 0 and not [e for e in paused.events if e[0] == 2]
    assert V.hf_screen(book, RES, _view()) > 0
