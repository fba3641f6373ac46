"""WadRayMath and PercentageMath vectors, worked by hand (half-up rounding, Aave v3.3)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.aave.wadray import (
    HALF_RAY,
    HALF_WAD,
    RAY,
    UINT256_MAX,
    WAD,
    percent_div,
    percent_mul,
    ray_div,
    ray_mul,
    ray_to_wad,
    wad_div,
    wad_mul,
    wad_to_ray,
)


def test_wad_mul_rounds_half_up():
    assert wad_mul(WAD, WAD) == WAD
    assert wad_mul(3 * WAD // 2, 2 * WAD) == 3 * WAD
    # 1 wei x 0.5 = 0.5 wei -> rounds up to 1
    assert wad_mul(1, HALF_WAD) == 1
    # 1 wei x 0.499999999999999999 -> 0
    assert wad_mul(1, HALF_WAD - 1) == 0


def test_wad_div_rounds_half_up():
    assert wad_div(WAD, 3) == 333333333333333333333333333333333333
    assert wad_div(2, 3 * WAD) == 1  # 0.666 wei -> 1
    assert wad_div(1, 3 * WAD) == 0  # 0.333 wei -> 0
    with pytest.raises(ZeroDivisionError):
        wad_div(1, 0)


def test_ray_mul_and_div():
    assert ray_mul(RAY, 5) == 5
    assert ray_mul(HALF_RAY, 1) == 1  # exactly half rounds up
    assert ray_mul(HALF_RAY - 1, 1) == 0
    assert ray_div(1, 2 * RAY) == 1  # 0.5 -> 1
    assert ray_div(10**18, 3 * RAY) == 333333333333333333  # 0.333... floor after adding half
    assert ray_div(2 * 10**18, 3 * RAY) == 666666666666666667


def test_conversions():
    assert ray_to_wad(1_500_000_000) == 2  # 1.5 wei -> 2
    assert ray_to_wad(1_499_999_999) == 1
    assert wad_to_ray(7) == 7 * 10**9


def test_percentage_math():
    assert percent_mul(10_000, 5_000) == 5_000
    assert percent_mul(1, 5_000) == 1  # 0.5 -> 1
    assert percent_mul(1, 4_999) == 0
    assert percent_div(1, 20_000) == 1  # 0.5 -> 1
    assert percent_div(100, 10_500) == 95  # 95.238 -> 95
    assert percent_div(2_500, 7_000) == 3_571  # 3571.43


def test_overflow_reverts_like_solidity():
    with pytest.raises(OverflowError):
        wad_mul(UINT256_MAX, 2 * WAD)


@given(st.integers(0, 10**40), st.integers(RAY, 10 * RAY))
def test_ray_div_then_mul_is_within_half_an_index_step(amount, index):
    # one scaled unit is worth index/RAY base units, so rounding can move the balance by half of that
    assert abs(ray_mul(ray_div(amount, index), index) - amount) <= index // (2 * RAY) + 1


@given(st.integers(0, 10**40), st.integers(RAY, 10 * RAY))
def test_scaled_round_trip_is_exact(scaled, index):
    """balanceOf = scaled.rayMul(index); burning balanceOf.rayDiv(index) never exceeds the scaled balance."""
    assert ray_div(ray_mul(scaled, index), index) == scaled
