"""common.prepared: a queryset compiled once and run again with new arguments gives what the queryset gives, on
PostgreSQL and on SQLite, related objects and 78-digit integers included."""
import pytest
from django.db import OperationalError, connection, connections, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from common.prepared import prepared
from lending.models import LedgerEntry, Position
from markets.models import Asset, Reserve
from tests.factories import bare_account_and_asset, fund_and_supply, make_account, make_universe

pytestmark = pytest.mark.django_db
BIG = [10**78 - 1, 2**256 - 1, 1, 0]


def same(a, b):
    """Two lists of model instances with equal field values, their select_related objects too."""
    assert [type(x) for x in a] == [type(y) for y in b]
    for x, y in zip(a, b, strict=True):
        fields = [f.attname for f in type(x)._meta.concrete_fields]
        assert [getattr(x, f) for f in fields] == [getattr(y, f) for f in fields]
        assert [type(getattr(x, f)) for f in fields] == [type(getattr(y, f)) for f in fields]


def test_positions_with_reserve_and_asset_as_the_orm_reads_them():
    make_universe()
    first, second = make_account(), make_account()
    fund_and_supply(first, "TSLAx", "2")
    fund_and_supply(first, "USDC", "100")
    fund_and_supply(second, "AAPLx", "1")
    read = prepared(lambda account_id: Position.objects.filter(account_id=account_id)
                    .select_related("reserve__asset").order_by("reserve_id"))
    for account in (first, second, first):
        orm = list(Position.objects.filter(account=account).select_related("reserve__asset").order_by("reserve_id"))
        ours = read(account.pk)
        same(ours, orm)
        same([p.reserve for p in ours], [p.reserve for p in orm])
        same([p.reserve.asset for p in ours], [p.reserve.asset for p in orm])
        with CaptureQueriesContext(connection) as queries:
            [p.reserve.asset.symbol for p in ours]
        assert not queries.captured_queries  # loaded, not lazily fetched
    assert read(10**9) == []


def test_no_arguments_a_text_argument_and_a_reverse_one_to_one():
    make_universe()
    reserves = prepared(lambda: Reserve.objects.select_related("asset").order_by("asset_id"))
    same(reserves(), list(Reserve.objects.select_related("asset").order_by("asset_id")))
    named = prepared(lambda symbol: Asset.objects.select_related("reserve").filter(symbol=symbol))
    for symbol in ("TSLAx", "USDC"):
        ours, orm = named(symbol), list(Asset.objects.select_related("reserve").filter(symbol=symbol))
        same(ours, orm)
        same([ours[0].reserve], [orm[0].reserve])
    assert named("NOPE") == [] and named("x' OR '1'='1") == []


def test_list_arguments_compiled_per_length_with_single_values_beside_them():
    make_universe()
    symbols = list(Asset.objects.order_by("id").values_list("symbol", flat=True))
    ids = list(Asset.objects.order_by("id").values_list("id", flat=True))
    by_ids = prepared(lambda asset_ids: Reserve.objects.select_related("asset").filter(asset_id__in=asset_ids)
                      .order_by("pk"))
    mixed = prepared(lambda names, kind: Asset.objects.filter(symbol__in=names, kind=kind).order_by("id"))
    for chosen in ([ids[0]], ids[:3], ids[2:5], ids[:3], [ids[4], ids[4], ids[1]], ids):
        same(by_ids(chosen), list(Reserve.objects.select_related("asset").filter(asset_id__in=chosen)
                                  .order_by("pk")))
    kinds = set(Asset.objects.values_list("kind", flat=True))
    for names in (symbols[:2], symbols[3:], ("NOPE", symbols[0]), symbols[1:2]):
        for kind in kinds:
            same(mixed(list(names), kind), list(Asset.objects.filter(symbol__in=names, kind=kind).order_by("id")))
    assert {shape for _, shape in by_ids._compiled} == {(1,), (3,), (len(ids),)}  # one SQL a length
    with pytest.raises(ValueError, match="empty list"):
        by_ids([])


@pytest.mark.django_db(databases=["default", "sqlite"])
@pytest.mark.parametrize("alias", ["default", "sqlite"])
def test_78_digit_integers_on_both_databases(alias):
    account, asset = bare_account_and_asset(alias, username="p", symbol="BIG")
    for v in BIG:
        LedgerEntry.objects.using(alias).create(account=account, asset=asset, kind="mint", amount=v,
                                                scaled_amount=v, index=v)
    read = prepared(lambda account_id: LedgerEntry.objects.filter(account_id=account_id).select_related("asset")
                    .order_by("id"))
    ours = read(account.pk, using=alias)
    same(ours, list(LedgerEntry.objects.using(alias).filter(account=account).select_related("asset").order_by("id")))
    assert [e.amount for e in ours] == BIG and all(type(e.index) is int for e in ours)


def test_what_it_cannot_prepare_is_refused_at_once():
    make_universe()
    with pytest.raises(ValueError, match="unchanged"):
        prepared(lambda symbol: Asset.objects.filter(symbol__icontains=symbol))("TSLA")  # the SQL gets %TSLA%


@pytest.mark.django_db(transaction=True)
def test_a_prepared_lock_runs_in_a_transaction_only_and_holds_the_row_until_it_ends():
    make_universe(seed=False)
    usdc = Asset.objects.get(symbol="USDC")
    lock = prepared(lambda pk: Asset.objects.select_for_update().filter(pk=pk))
    with pytest.raises(TransactionManagementError):
        lock(usdc.pk)  # not compiled outside a transaction...
    with transaction.atomic():
        assert lock(usdc.pk)[0].symbol == "USDC" and "FOR UPDATE" in lock._columns["default"].sql
    with pytest.raises(TransactionManagementError):
        lock(usdc.pk)  # ...nor run outside one
    with transaction.atomic():
        lock(usdc.pk)
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SET lock_timeout = '200ms'")
                with pytest.raises(OperationalError):
                    cursor.execute("SELECT id FROM markets_asset WHERE id = %s FOR UPDATE", [usdc.pk])
        finally:
            other.close()
