"""Which liquidation rules a pool runs: Aave v3.3 (close factor, fixed bonus) or Aave v4 (target health factor,
variable bonus). One call site for the keeper, the what-if and the backtests (no Django)."""
from __future__ import annotations

from . import v3, v4
from .v3 import LiquidationQuote
from .v4 import PoolParameters

V3_3, V4 = "v3.3", "v4"
ENGINES = (V3_3, V4)


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise ValueError(f"unknown liquidation engine {engine!r}; expected one of {', '.join(ENGINES)}")
    return engine


def quote(engine: str, *, pool: PoolParameters | None = None, liquidation_bonus_bps: int,
          liquidation_threshold_bps: int, **kwargs) -> LiquidationQuote:
    """A liquidation quote under `engine`. `kwargs` are v3.quote_liquidation's other keyword arguments
    (seize_price included). Under v4 the reserve's bonus is B_max and its liquidation threshold the collateral
    factor; `pool` defaults to the simulator's v4 defaults."""
    if check_engine(engine) == V3_3:
        return v3.quote_liquidation(liquidation_bonus_bps=liquidation_bonus_bps, **kwargs)
    return v4.quote_liquidation(max_bonus_bps=liquidation_bonus_bps, collateral_factor_bps=liquidation_threshold_bps,
                                pool=pool if pool is not None else PoolParameters(), **kwargs)
