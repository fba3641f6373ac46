"""Aave v4 LiquidationLogic (core.aave.v4) and the seize price in v3.3: vectors worked by hand.

Every expected number below is derived in the comments from DESIGN.md s2 and Aave v4's LiquidationLogic
(mulDivDown / mulDivUp), with long division done on a calculator, never by calling the code under test.
Units: USDC 6 decimals at $1 (1e8), TSLAx 18 decimals, prices 8 decimals, HF wad.
"""
import pytest

from core.aave import engines, v3, v4
from core.aave.v4 import InsufficientDebtToCover, PoolConfigError, PoolParameters, variable_bonus_bps

E18, E8, E6 = 10**18, 10**8, 10**6
POOL = PoolParameters()  # T = 1.05, f = 50%, h_max = 0.95


def q4(**overrides):
    # The "HF 0.97" account: 100 TSLAx at $242.50 = $24,250 (LT 80% -> $19,400) against 20,000 USDC.
    # HF = wadDiv(1_940_000_000_000, 2_000_000_000_000) = 0.97e18 exactly.
    base = dict(debt_to_cover=20_000 * E6, user_reserve_debt=20_000 * E6, debt_price=E8, debt_decimals=6,
                user_collateral_balance=100 * E18, collateral_price=24_250_000_000, collateral_decimals=18,
                max_bonus_bps=10_500, collateral_factor_bps=8_000, protocol_fee_bps=1_000,
                total_collateral_base=2_425_000_000_000, total_debt_base=2_000_000_000_000,
                health_factor=97 * 10**16, pool=POOL)
    base.update(overrides)
    return v4.quote_liquidation(**base)


# --- variable bonus ------------------------------------------------------------------------------------------

def test_bonus_is_b_min_at_hf_one_and_b_max_at_h_max():
    # B_max 105%, f 50%: B_min = floor(500 * 5000 / 10000) + 10000 = 10250
    assert variable_bonus_bps(max_bonus_bps=10_500, health_factor=E18, pool=POOL) == 10_250
    assert variable_bonus_bps(max_bonus_bps=10_500, health_factor=95 * 10**16, pool=POOL) == 10_500
    assert variable_bonus_bps(max_bonus_bps=10_500, health_factor=10**17, pool=POOL) == 10_500  # deep: B_max


def test_bonus_between_is_linear_and_rounds_down():
    # HF 0.97: 10250 + floor(250 * 0.03 / 0.05) = 10250 + 150 = 10400
    assert variable_bonus_bps(max_bonus_bps=10_500, health_factor=97 * 10**16, pool=POOL) == 10_400
    # HF 0.99: 10250 + floor(250 * 0.01 / 0.05) = 10300
    assert variable_bonus_bps(max_bonus_bps=10_500, health_factor=99 * 10**16, pool=POOL) == 10_300
    # B_max 107.5%: B_min = 10000 + floor(750 * 0.5) = 10375; HF 0.9999: 375 * 1e14 / 5e16 = 0.75 -> 0
    assert variable_bonus_bps(max_bonus_bps=10_750, health_factor=9_999 * 10**14, pool=POOL) == 10_375
    # B_max 105.01%: B_min = 10000 + floor(501 * 0.5 = 250.5) = 10250 (B_min rounds down too)
    assert variable_bonus_bps(max_bonus_bps=10_501, health_factor=E18, pool=POOL) == 10_250


def test_bonus_factor_extremes():
    # f = 0: B_min = 100%, so HF 0.99 gives 10000 + floor(500 * 0.2) = 10100; f = 100%: always B_max
    assert variable_bonus_bps(max_bonus_bps=10_500, health_factor=99 * 10**16,
                              pool=PoolParameters(liquidation_bonus_factor_bps=0)) == 10_100
    assert variable_bonus_bps(max_bonus_bps=10_500, health_factor=99 * 10**16,
                              pool=PoolParameters(liquidation_bonus_factor_bps=10_000)) == 10_500


# --- target health factor -------------------------------------------------------------------------------------

def test_repays_to_the_target_health_factor():
    q = q4()
    assert q.bonus_bps == 10_400
    # penalty = percentMulUp(1.04e18, 8000) = 0.832e18; T - HF = 0.08e18; T - penalty = 0.218e18
    # debt = ceil(2e12 * 1e6 * 0.08e18 / (0.218e18 * 1e8)) = ceil(7_339_449_541.28) = 7_339_449_542
    assert q.debt_to_repay == 7_339_449_542
    assert q.max_liquidatable_debt == 7_339_449_542
    # collateral = floor(7_339_449_542 * 1e8 * 1e18 * 10400 / (1e6 * 242.50e8 * 1e4))
    #            = floor(3_053_211_009_472e9 / 97) = 31_476_402_159_505_154_639
    # fee = floor(c * 1000 * 400 / (10400 * 10000)) = floor(c / 260) = 121_063_085_228_865_979
    assert q.collateral_seized == 31_476_402_159_505_154_639
    assert q.protocol_fee == 121_063_085_228_865_979
    assert q.collateral_to_liquidator == 31_476_402_159_505_154_639 - 121_063_085_228_865_979
    assert not q.has_no_collateral_left and not q.disables_collateral
    # check of the target: left 12,660.55 USDC and 68.52 TSLAx * 242.50 * 0.8 = 13,293.58 -> HF 1.05000


def test_offer_below_target_is_taken_as_is():
    # 5,000 USDC < 7,339.45 to target; 15,000 left is no dust. collateral = 5000 * 1.04 / 242.5
    #   = floor(5e9 * 1e26 * 10400 / 2.425e20 / 1e4 ...) = 21.443298969072164948 TSLAx (floor at 18 decimals)
    q = q4(debt_to_cover=5_000 * E6)
    assert q.debt_to_repay == 5_000 * E6
    assert q.collateral_seized == 21_443_298_969_072_164_948


def test_seize_price_counts_collateral_at_the_reference_price():
    # The same account with a haircut: HF 0.97 at the effective $242.50, reference $250. Bonus and target
    # are unchanged (7_339_449_542); collateral = 7_339_449_542 * 10400 * 1e26 / (1e6 * 250e8 * 1e4)
    #   = 7_339_449_542 * 4.16e9 = 30_532_110_094_720_000_000 exactly; fee = floor(/260) = 117_431_192_672_000_000
    q = q4(seize_price=25_000_000_000)
    assert q.debt_to_repay == 7_339_449_542
    assert q.collateral_seized == 30_532_110_094_720_000_000
    assert q.protocol_fee == 117_431_192_672_000_000
    # the value test for "all collateral gone" stays at the effective price: 30.53 * 242.50, not the total
    assert q.collateral_in_base == 30_532_110_094_720_000_000 * 24_250_000_000 // E18


# --- dust -------------------------------------------------------------------------------------------------------

def test_debt_dust_repays_everything():
    # 6 TSLAx at $242.50 = $1,455 against 1,200 USDC: HF = 1164/1200 = 0.97, bonus 10400.
    # to target = ceil(1.2e11 * 1e6 * 0.08e18 / 0.218e26) = 440_366_973, which would leave $759.63 < $1,000:
    # the target is bypassed and the whole 1,200 USDC repaid.
    kw = dict(user_reserve_debt=1_200 * E6, user_collateral_balance=6 * E18, total_collateral_base=145_500_000_000,
              total_debt_base=120_000_000_000)
    q = q4(debt_to_cover=1_200 * E6, **kw)
    assert q.debt_to_repay == 1_200 * E6
    # collateral = floor(1200 * 1.04 / 242.5) = 5.146391752577319587 TSLAx; the $207 of collateral left is
    # allowed since no debt remains
    assert q.collateral_seized == 5_146_391_752_577_319_587
    assert not q.disables_collateral
    # an offer of 500 USDC cannot clear it: MustNotLeaveDust, with what it would take
    with pytest.raises(InsufficientDebtToCover) as exc:
        q4(debt_to_cover=500 * E6, **kw)
    assert exc.value.required == 1_200 * E6
    assert isinstance(exc.value, v3.DustError)


def test_collateral_dust_seizes_all_and_recomputes_debt_up():
    # The HF 0.97 account (totals $24,250 / 20,000 USDC), but the collateral seized is a 40-unit reserve
    # at $200 = $8,000 (other collateral makes up the rest). To target 7_339_449_542 -> collateral
    # 7_339_449_542 * 10400 * 1e26 / (1e6 * 200e8 * 1e4) = 38.1651376184 units, leaving 1.83 * $200 = $366.97
    # < $1,000 with debt left: seize all 40, debt = ceil(40e18 * 200e8 * 1e6 * 1e4 / (1e8 * 1e18 * 10400))
    #   = ceil(8e39 / 1.04e30) = ceil(7_692_307_692.3) = 7_692_307_693
    q = q4(user_collateral_balance=40 * E18, collateral_price=200 * E8)
    assert q.collateral_seized == 40 * E18
    assert q.debt_to_repay == 7_692_307_693
    # fee = floor(40e18 / 260) = 153_846_153_846_153_846
    assert q.protocol_fee == 153_846_153_846_153_846
    assert q.disables_collateral and not q.has_no_collateral_left  # other collateral remains: no deficit
    # offering exactly the 7,339.45 to target is not enough to clear the collateral dust
    with pytest.raises(InsufficientDebtToCover):
        q4(user_collateral_balance=40 * E18, collateral_price=200 * E8, debt_to_cover=7_339_449_542)


def test_collateral_runs_out_seizes_all_and_flags_deficit():
    # 10 TSLAx at $100 against 17,000 USDC: HF = wadDiv(800e8, 17000e8) = 0.0470588... <= h_max -> B_max 10500.
    # 17,000 USDC would need 178.5 TSLAx: seize all 10; debt = ceil(10e18 * 100e8 * 1e6 * 1e4 / (1e8 * 1e18 * 10500))
    #   = ceil(952_380_952.38) = 952_380_953 (up; v3.3's percentDiv gives 952_380_952)
    q = q4(debt_to_cover=17_000 * E6, user_reserve_debt=17_000 * E6, user_collateral_balance=10 * E18,
           collateral_price=100 * E8, total_collateral_base=1_000 * E8, total_debt_base=17_000 * E8,
           health_factor=47_058_823_529_411_765)
    assert q.bonus_bps == 10_500
    assert q.collateral_seized == 10 * E18
    assert q.debt_to_repay == 952_380_953
    # fee = floor(10e18 * 1000 * 500 / (10500 * 10000)) = floor(10e18 / 210) = 47_619_047_619_047_619
    assert q.protocol_fee == 47_619_047_619_047_619
    assert q.has_no_collateral_left and q.disables_collateral


# --- validation ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    (dict(target_health_factor=E18 - 1), "target_health_factor"),
    (dict(health_factor_for_max_bonus=E18), "health_factor_for_max_bonus"),
    (dict(liquidation_bonus_factor_bps=10_001), "liquidation_bonus_factor_bps"),
    (dict(liquidation_bonus_factor_bps=-1), "liquidation_bonus_factor_bps"),
])
def test_pool_validation(kwargs, field):
    with pytest.raises(PoolConfigError) as exc:
        PoolParameters(**kwargs)
    assert exc.value.field == field


def test_pool_validation_bounds_accepted():
    PoolParameters(target_health_factor=E18, health_factor_for_max_bonus=E18 - 1, liquidation_bonus_factor_bps=0)
    PoolParameters(liquidation_bonus_factor_bps=10_000)
    assert PoolParameters.from_bps(target_health_factor_bps=10_500, liquidation_bonus_factor_bps=5_000,
                                   health_factor_for_max_bonus_bps=9_500) == POOL


@pytest.mark.parametrize("bonus, cf, ok", [
    (10_500, 9_522, True),    # ceil(9998.1) = 9999 < 10000
    (10_500, 9_523, False),   # ceil(9999.15) = 10000: percentMulUp refuses what v3.3's half-up (9999) allows
    (12_500, 8_000, False),   # exactly 100%: v3.3 allows equality, v4 does not
    (9_999, 5_000, False),    # bonus below 100%
    (10_000, 9_999, True),    # ceil(9999) = 9999
])
def test_collateral_validation(bonus, cf, ok):
    if ok:
        v4.validate_collateral(max_bonus_bps=bonus, collateral_factor_bps=cf)
    else:
        with pytest.raises(PoolConfigError):
            v4.validate_collateral(max_bonus_bps=bonus, collateral_factor_bps=cf)


def test_quote_refuses_a_healthy_account_and_a_bad_reserve():
    with pytest.raises(ValueError):
        q4(health_factor=E18)
    with pytest.raises(PoolConfigError):
        q4(max_bonus_bps=12_500)  # 125% x 80% = 100%


# --- dispatch ----------------------------------------------------------------------------------------------------

def test_engines_dispatch():
    kw = dict(debt_to_cover=20_000 * E6, user_reserve_debt=20_000 * E6, debt_price=E8, debt_decimals=6,
              user_collateral_balance=100 * E18, collateral_price=24_250_000_000, collateral_decimals=18,
              protocol_fee_bps=1_000, total_collateral_base=2_425_000_000_000, total_debt_base=2_000_000_000_000,
              health_factor=97 * 10**16, liquidation_bonus_bps=10_500, liquidation_threshold_bps=8_000)
    # v4: LT is the collateral factor, the reserve bonus B_max
    assert engines.quote("v4", **kw).debt_to_repay == 7_339_449_542
    # v3.3: HF 0.97 > 0.95, both sides >= $2,000: 50% of 20,000
    q3 = engines.quote("v3.3", **kw)
    assert q3.debt_to_repay == 10_000 * E6 and q3.bonus_bps == 10_500
    with pytest.raises(ValueError):
        engines.quote("v5", **kw)


# --- v3.3 with a seize price ------------------------------------------------------------------------------------

def q3(**overrides):
    base = dict(debt_to_cover=17_000 * E6, user_reserve_debt=17_000 * E6, debt_price=E8, debt_decimals=6,
                user_collateral_balance=100 * E18, collateral_price=225 * E8, collateral_decimals=18,
                liquidation_bonus_bps=10_500, protocol_fee_bps=1_000, total_collateral_base=22_500 * E8,
                total_debt_base=17_000 * E8, health_factor=992_647_058_823_529_412)
    base.update(overrides)
    return v3.quote_liquidation(**base)


def test_v3_seize_price_converts_at_the_reference_price():
    # close factor as before (HF 0.9926, $2,000 tests at $225): 8,500 USDC
    # base collateral = 8500e6 * 1e8 * 1e18 / (250e8 * 1e6) = 34 TSLAx; percentMul(34e18, 10500) = 35.7e18
    # fee = percentMul(35.7e18 - percentDiv(35.7e18, 10500) = 1.7e18, 1000) = 0.17e18
    q = q3(seize_price=250 * E8)
    assert q.debt_to_repay == 8_500 * E6
    assert q.collateral_seized == 357 * 10**17
    assert q.protocol_fee == 17 * 10**16
    assert q.collateral_to_liquidator == 3553 * 10**16
    assert q.collateral_in_base == 803_250_000_000  # 35.7 * $225: at the effective price
    # omitted, it is the old rule exactly (the worked scenario in test_liquidation.py)
    assert q3().collateral_seized == q3(seize_price=225 * E8).collateral_seized == 39_666_666_666_666_666_666


def test_v3_close_factor_uses_the_effective_price():
    # 10 TSLAx: $1,999 at the effective $199.90 (< $2,000) but $2,100 at the reference $210, HF 0.96, 2,500 USDC.
    # The $2,000 test at the effective price -> 100% close factor (at $210 it would be 50%: 1,250).
    # 2,500 * 1.05 / 210 = 12.5 TSLAx > 10: seize all; debt = percentDiv(10 * 210 = 2,100e6, 10500) = 2,000e6
    q = q3(debt_to_cover=2_500 * E6, user_reserve_debt=2_500 * E6, user_collateral_balance=10 * E18,
           collateral_price=19_990_000_000, seize_price=210 * E8, total_collateral_base=4_000 * E8,
           total_debt_base=2_500 * E8, health_factor=96 * 10**16)
    assert q.max_liquidatable_debt == 2_500 * E6
    assert q.collateral_seized == 10 * E18
    assert q.debt_to_repay == 2_000 * E6
    assert q.disables_collateral and not q.has_no_collateral_left  # $1,999 of $4,000


def test_v3_dust_leftover_valued_at_the_seize_price():
    # HF 0.9 -> full close factor. Offer 16,000 of 17,000 USDC ($1,000 of debt left, allowed).
    # seized = percentMul(16000 / 250 = 64e18, 10500) = 67.2e18 (fee inside)
    # balance 71.4: 4.2 left * $250 = $1,050 >= $1,000 -> allowed (at the effective $225 it would be $945)
    q = q3(debt_to_cover=16_000 * E6, user_collateral_balance=714 * 10**17, seize_price=250 * E8,
           health_factor=9 * 10**17)
    assert q.collateral_seized == 672 * 10**17
    # balance 71.0: 3.8 left * $250 = $950 < $1,000 -> refused
    with pytest.raises(v3.DustError):
        q3(debt_to_cover=16_000 * E6, user_collateral_balance=71 * E18, seize_price=250 * E8,
           health_factor=9 * 10**17)
