"""Fixed-point helpers, rounding half-up exactly as Aave v3.3 WadRayMath and PercentageMath.

Pure Python integers: no Django, no floats.
"""

WAD = 10**18
HALF_WAD = WAD // 2
RAY = 10**27
HALF_RAY = RAY // 2
WAD_RAY_RATIO = 10**9
PERCENTAGE_FACTOR = 10**4
HALF_PERCENTAGE_FACTOR = PERCENTAGE_FACTOR // 2
SECONDS_PER_YEAR = 365 * 24 * 3600
UINT256_MAX = 2**256 - 1


def _check(value: int) -> int:
    # Solidity reverts on overflow; so do we.
    if value < 0 or value > UINT256_MAX:
        raise OverflowError("uint256 overflow")
    return value


def wad_mul(a: int, b: int) -> int:
    return _check((a * b + HALF_WAD) // WAD)


def wad_div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("wad_div by zero")
    return _check((a * WAD + b // 2) // b)


def ray_mul(a: int, b: int) -> int:
    return _check((a * b + HALF_RAY) // RAY)


def ray_div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("ray_div by zero")
    return _check((a * RAY + b // 2) // b)


def ray_to_wad(a: int) -> int:
    result, remainder = divmod(a, WAD_RAY_RATIO)
    return result + (1 if remainder >= WAD_RAY_RATIO // 2 else 0)


def wad_to_ray(a: int) -> int:
    return _check(a * WAD_RAY_RATIO)


def percent_mul(value: int, percentage: int) -> int:
    return _check((value * percentage + HALF_PERCENTAGE_FACTOR) // PERCENTAGE_FACTOR)


def percent_div(value: int, percentage: int) -> int:
    if percentage == 0:
        raise ZeroDivisionError("percent_div by zero")
    return _check((value * PERCENTAGE_FACTOR + percentage // 2) // percentage)


def bps_to_ray(bps: int) -> int:
    # DefaultReserveInterestRateStrategyV2._bpsToRay
    return bps * 10**23
