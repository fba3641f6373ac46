"""The one writer of positions. Every write keeps the float shadows (whole tokens, what the scanner screens) in
step with the exact scaled balances; they are computed in one place, here.

Callers hold the account's lock: positions belong to a locked account and need no lock of their own."""
from __future__ import annotations

from decimal import Decimal

from django.db import connection

from common.prepared import update_columns

from .models import Position


def shadows(scaled_supply: int, scaled_debt: int, decimals: int) -> tuple[float, float]:
    unit = 10**decimals
    return scaled_supply / unit, scaled_debt / unit


def position_save(position: Position, *, decimals: int | None = None, update_fields: list[str] | None = None) -> None:
    """One position through the ORM (decimals default to its reserve's asset's)."""
    decimals = position.reserve.asset.decimals if decimals is None else decimals
    position.supply_shadow, position.debt_shadow = shadows(position.scaled_supply, position.scaled_debt, decimals)
    if update_fields is None:
        position.save()
    else:
        update_columns(position, [*update_fields, "supply_shadow", "debt_shadow"])


def positions_write(positions) -> None:
    """Many positions at once (the keeper's flush): each has pk, scaled_supply, scaled_debt, collateral_enabled and
    reserve. On PostgreSQL one statement for every row."""
    if not positions:
        return
    rows = [(p, *shadows(p.scaled_supply, p.scaled_debt, p.reserve.asset.decimals)) for p in positions]
    table = Position._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} p SET scaled_supply = v.s, scaled_debt = v.d, collateral_enabled = v.c, "
                "supply_shadow = v.ss, debt_shadow = v.ds FROM unnest(%s::bigint[], %s::numeric[], %s::numeric[], "
                "%s::boolean[], %s::float8[], %s::float8[]) AS v(id, s, d, c, ss, ds) WHERE p.id = v.id",
                [[p.pk for p, _, _ in rows], [Decimal(p.scaled_supply) for p, _, _ in rows],
                 [Decimal(p.scaled_debt) for p, _, _ in rows], [p.collateral_enabled for p, _, _ in rows],
                 [ss for _, ss, _ in rows], [ds for _, _, ds in rows]])
            return
        field = Position._meta.get_field("scaled_supply")
        cursor.executemany(
            f"UPDATE {table} SET scaled_supply = %s, scaled_debt = %s, collateral_enabled = %s, supply_shadow = %s, "
            "debt_shadow = %s WHERE id = %s",
            [(field.get_db_prep_value(p.scaled_supply, connection), field.get_db_prep_value(p.scaled_debt, connection),
              p.collateral_enabled, ss, ds, p.pk) for p, ss, ds in rows])
