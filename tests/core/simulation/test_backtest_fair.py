"""Fair seizure (DESIGN.md s2, "Which prices a liquidation uses"): the haircut decides *whether*, the seized
collateral is counted at the market price. The TSLAx 2020-02-05-like case: 80/85, a 23.8% haircut on the
threshold at a close where the account stands at HF 1.105 at the market price."""
from datetime import date, timedelta

import pytest

from core.aave.wadray import percent_div, percent_mul
from core.simulation import backtest

E6, E8, E18 = 10**6, 10**8, 10**18
PARAMS = backtest.Parameters(ltv_bps=8_000, liquidation_threshold_bps=8_500, liquidation_bonus_bps=10_500,
                             protocol_fee_bps=1_000)
HAIRCUT_BPS = 2_380


def bars(*sessions):
    days = [date(2020, 2, 4) + timedelta(days=i) for i in range(len(sessions))]
    return backtest.Bars("TSLA", days, [s[0] * E8 for s in sessions], [s[1] * E8 for s in sessions],
                         [s[2] * E8 for s in sessions], [0.04] * len(sessions),
                         ["overnight"] * (len(sessions) - 1) + [None])


def run(seize_at, engine="v3.3", sessions=((100, 100, 104), (102, 102, 102))):
    b = bars(*sessions)
    policy = backtest.Policy("fixed", PARAMS, lambda kind, sigma: HAIRCUT_BPS, True, False)
    return backtest.run(b, policy, start=b.dates[0], end=b.dates[-1], shares_bps=(10_000,), seize_at=seize_at,
                        engine=engine), b


def test_under_the_old_rule_a_solvent_borrowers_collateral_moves_to_the_liquidator():
    # 1,000 tokens, $80,000 debt; the close at $104 is HF 1.105 at the market, the cut price $79.248 HF 0.842
    r, _ = run("haircut")
    cut = percent_mul(104 * E8, 10_000 - HAIRCUT_BPS)
    repaid = percent_div(1_000 * cut * E6 // E8, 10_500)  # all 1,000 tokens at the cut price (Aave v3.3)
    assert r.closed_market_liquidations == 1 and r.unnecessary_liquidations == 1
    assert r.debt_repaid == repaid == 75_474_285_714  # $75,474: the protocol books the rest as deficit
    deficit = r.as_dict()["deficit_usd"]
    assert 4_520 < float(deficit) < 4_530
    # at the market price the $104,000 of stock covered the debt and the bonus: no bad debt, a transfer
    assert r.as_dict()["bad_debt_usd"] == "0.00"
    transferred = float(r.as_dict()["transferred_to_liquidators_usd"])
    assert transferred == pytest.approx(104_000 - 79_248 / 1.05 * 1.05, abs=5)  # 1,000 x (104 - 79.248)


@pytest.mark.parametrize("engine", ["v3.3", "v4"])
def test_at_the_reference_price_a_solvent_borrower_leaves_no_deficit(engine):
    r, b = run("reference", engine)
    assert r.closed_market_liquidations >= 1  # the haircut still decided that it is liquidated
    assert r.bad_debt == 0 and r.market_bad_debt == 0 and r.transferred == 0
    d = r.as_dict()
    assert d["deficit_usd"] == d["bad_debt_usd"] == d["transferred_to_liquidators_usd"] == "0.00"
    assert d["engine"] == engine and d["seize_at"] == "reference"
    # what the borrower paid: only the bonus on the debt repaid, at the market price
    assert r.penalty <= percent_mul(r.debt_repaid * E8 // E6, 500) + E8
    worst = r.worst_closures(b)
    assert worst[0]["date"] == "2020-02-05" and worst[0]["closure"] == "overnight"
    assert worst[0]["gap"] == pytest.approx(102 / 104 - 1, abs=1e-6) and worst[0]["bad_debt_usd"] == "0.00"


def test_a_real_crash_is_bad_debt_at_market_prices_and_the_deficit_equals_it_under_fair_seizure():
    # the market itself gaps below the debt at the open: a loss whatever the haircut did at the close
    r, b = run("reference", sessions=((100, 100, 100), (50, 50, 50)))
    assert r.market_bad_debt > 0 and r.bad_debt * E8 // E6 == pytest.approx(r.market_bad_debt, abs=10)
    worst = r.worst_closures(b)[0]
    assert worst["bad_debt_usd"] == r.as_dict()["bad_debt_usd"] == r.as_dict()["deficit_usd"]
    assert worst["liquidations"] == 2 and worst["gap"] == -0.5  # the close's haircut liquidation and the open's


def test_an_emptied_account_is_replaced_at_the_next_open():
    r, _ = run("reference", sessions=((100, 100, 100), (50, 50, 50), (50, 50, 50)))
    assert r.accounts_wiped == 1 and r.replaced == 1 and r.as_dict()["borrowers_replaced"] == 1


def test_unknown_seize_rule_is_refused():
    with pytest.raises(backtest.BacktestError, match="seize-at"):
        run("midpoint")
