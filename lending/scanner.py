"""Screen fast, execute exactly: one set-based SQL pass over the float shadows finds candidate accounts.

Per-reserve factors are computed in Python (O(reserves)): USD per whole scaled token for collateral (index x
threshold price x LT) and for debt (index x price). The database then sums positions x factors per account
in one GROUP BY. Floats only screen; the keeper re-checks every candidate exactly, under lock.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from core.aave.v3 import normalized_debt, normalized_income
from core.aave.wadray import RAY
from markets.models import Reserve
from markets.services import now_seconds, reserve_state
from oracles.selectors import OracleRead, oracle_reads

# Screen a little above HF 1 so float rounding can never hide an account the exact check would liquidate.
SCREEN_MARGIN = 1.0001
CHUNK = 500


@dataclass(frozen=True)
class Factor:
    reserve_id: int
    collateral: float  # USD x LT per whole scaled token supplied
    debt: float  # USD per whole scaled token borrowed


def reserve_factors(reads: dict[str, OracleRead] | None = None, now: int | None = None,
                    reserves: list[Reserve] | None = None) -> list[Factor]:
    """`reserves` (every reserve with its asset, by pk) when the caller has read them already."""
    now = now_seconds() if now is None else now
    factors = []
    reserves = list(Reserve.objects.select_related("asset").order_by("pk")) if reserves is None else reserves
    reads = reads or oracle_reads([r.asset for r in reserves])
    for reserve in reserves:
        asset = reserve.asset
        read = reads[asset.symbol]
        state = reserve_state(reserve)
        income = normalized_income(state, now) / RAY
        debt_index = normalized_debt(state, now) / RAY
        factors.append(Factor(
            reserve.pk,
            income * read.lt_price / 1e8 * reserve.liquidation_threshold_bps / 1e4,
            debt_index * read.debt_price / 1e8,
        ))
    return factors


def screen_accounts(factors: list[Factor] | None = None) -> list[int]:
    """Account ids whose approximate HF is below 1 (plus a hair), in one SQL statement."""
    factors = factors if factors is not None else reserve_factors()
    if not factors:
        return []
    if connection.vendor == "postgresql":
        return _screen_postgres(factors)
    return _screen_portable(factors)


def _screen_portable(factors: list[Factor]) -> list[int]:
    """Any SQL database (SQLite in the embedded profile): factors as a VALUES table joined in."""
    values = ", ".join(["(%s, %s, %s)"] * len(factors))
    params: list = []
    for f in factors:
        params += [f.reserve_id, f.collateral, f.debt]
    sql = f"""
        WITH f(reserve_id, cf, df) AS (VALUES {values})
        SELECT p.account_id
        FROM lending_position p JOIN f ON f.reserve_id = p.reserve_id
        GROUP BY p.account_id
        HAVING SUM(p.debt_shadow * f.df) > 0
           AND SUM(CASE WHEN p.collateral_enabled THEN p.supply_shadow * f.cf ELSE 0 END)
               < SUM(p.debt_shadow * f.df) * %s
        ORDER BY p.account_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, SCREEN_MARGIN])
        return [row[0] for row in cursor.fetchall()]


def _screen_postgres(factors: list[Factor]) -> list[int]:
    """The factors travel as two float8 arrays indexed by reserve id: no join, one pass, one aggregate."""
    size = max(f.reserve_id for f in factors) + 1
    cf, df = [0.0] * size, [0.0] * size
    for f in factors:
        cf[f.reserve_id], df[f.reserve_id] = f.collateral, f.debt
    sql = """
        SELECT account_id FROM (
            SELECT account_id,
                   SUM(CASE WHEN collateral_enabled THEN supply_shadow * (%s::float8[])[reserve_id + 1] ELSE 0 END)
                       AS collateral,
                   SUM(debt_shadow * (%s::float8[])[reserve_id + 1]) AS debt
            FROM lending_position GROUP BY account_id
        ) per_account
        WHERE debt > 0 AND collateral < debt * %s
        ORDER BY account_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [cf, df, SCREEN_MARGIN])
        return [row[0] for row in cursor.fetchall()]


def chunks(ids: list[int], size: int | None = None) -> list[list[int]]:
    """A chunk is one keeper transaction: big enough to amortise its locks and reads, small enough that a
    killed worker redoes little (at most CHUNK accounts)."""
    size = size or max(10, min(CHUNK, len(ids) // 4 or 1))
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def rank_accounts(factors: list[Factor], *, limit: int, collateral_reserve_id: int | None = None) -> list[int]:
    """The `limit` accounts with debt and the lowest approximate HF, lowest first, in one SQL statement (the
    risk console's list; exact HFs are computed for these only). With `collateral_reserve_id`, only accounts
    using that reserve as collateral."""
    if not factors:
        return []
    values = ", ".join(["(%s, %s, %s)"] * len(factors))
    params: list = []
    for f in factors:
        params += [f.reserve_id, f.collateral, f.debt]
    holding = ""
    if collateral_reserve_id is not None:
        holding = "AND SUM(CASE WHEN p.reserve_id = %s AND p.collateral_enabled AND p.supply_shadow > 0 " \
                  "THEN 1 ELSE 0 END) > 0"
        params_having = [collateral_reserve_id]
    else:
        params_having = []
    sql = f"""
        WITH f(reserve_id, cf, df) AS (VALUES {values})
        SELECT p.account_id
        FROM lending_position p JOIN f ON f.reserve_id = p.reserve_id
        GROUP BY p.account_id
        HAVING SUM(p.debt_shadow * f.df) > 0 {holding}
        ORDER BY SUM(CASE WHEN p.collateral_enabled THEN p.supply_shadow * f.cf ELSE 0 END)
                 / SUM(p.debt_shadow * f.df), p.account_id
        LIMIT %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *params_having, limit])
        return [row[0] for row in cursor.fetchall()]
