"""Selector: do the books balance? Shared by tests, `manage.py ledger_check` and the load run (bench/load).

Per reserve:
- tokens are conserved: every wallet (users', the keeper's and the treasury's) plus what the pool holds (its
  virtual balance, Aave v3.1 virtual accounting) equals everything ever minted (ledger kinds faucet and mint);
  supplied and borrowed amounts live inside the pool's balance, so nothing is counted twice;
- the reserve's scaled totals equal the sums of its positions' scaled balances (supply and debt).
On PostgreSQL the sums run in SQL over numeric(78,0); SQLite keeps these columns as text, so it sums in Python."""
from django.db import connection
from django.db.models import Sum

from markets.models import Reserve

from .models import LedgerEntry, Position, WalletBalance


def _sums(queryset, group: str, fields: tuple[str, ...]) -> dict[int, tuple[int, ...]]:
    if connection.vendor == "postgresql":
        rows = queryset.values(group).annotate(**{f"s_{f}": Sum(f) for f in fields}).order_by()
        return {r[group]: tuple(int(r[f"s_{f}"] or 0) for f in fields) for r in rows}
    totals: dict[int, list[int]] = {}
    for row in queryset.values_list(group, *fields):
        acc = totals.setdefault(row[0], [0] * len(fields))
        for i, value in enumerate(row[1:]):
            acc[i] += int(value)
    return {k: tuple(v) for k, v in totals.items()}


def ledger_problems() -> list[str]:
    """What does not balance, one line per problem; empty when the books balance."""
    minted = _sums(LedgerEntry.objects.filter(kind__in=[LedgerEntry.Kind.FAUCET, LedgerEntry.Kind.MINT]),
                   "asset_id", ("amount",))
    wallets = _sums(WalletBalance.objects.all(), "asset_id", ("amount",))
    positions = _sums(Position.objects.all(), "reserve_id", ("scaled_supply", "scaled_debt"))
    problems = []
    for reserve in Reserve.objects.select_related("asset").order_by("pk"):
        symbol = reserve.asset.symbol
        made, held = minted.get(reserve.asset_id, (0,))[0], wallets.get(reserve.asset_id, (0,))[0]
        if held + reserve.virtual_balance != made:
            problems.append(f"{symbol}: wallets {held} + pool {reserve.virtual_balance} != minted {made}")
        supply, debt = positions.get(reserve.pk, (0, 0))
        if (supply, debt) != (reserve.total_scaled_supply, reserve.total_scaled_debt):
            problems.append(f"{symbol}: positions ({supply}, {debt}) != totals "
                            f"({reserve.total_scaled_supply}, {reserve.total_scaled_debt})")
    return problems
