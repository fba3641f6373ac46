"""common.prepared.update_columns writes what save(update_fields=...) writes, on PostgreSQL and SQLite: 78-digit
integers, floats, booleans, JSON and SQL NULL; a missing row is an error, as with save()."""
import pytest
from django.db import DatabaseError

from common.fields import UIntField
from common.models import IdempotencyRecord
from common.prepared import update_columns
from lending.models import LedgerEntry, Position, WalletBalance
from markets.models import Reserve
from markets.services import RESERVE_STATE_FIELDS
from tests.factories import bare_account_and_asset, make_universe

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])
BIG = 10**78 - 1


def _row(instance, alias):
    fresh = type(instance).objects.using(alias).get(pk=instance.pk)
    return [getattr(fresh, f.attname) for f in type(instance)._meta.concrete_fields]


@pytest.mark.parametrize("alias", ["default", "sqlite"])
def test_the_same_row_as_save_with_update_fields(alias):
    account, asset = bare_account_and_asset(alias, username="u", symbol="BIG")
    ours = WalletBalance.objects.using(alias).create(account=account, asset=asset, amount=1)
    theirs = WalletBalance.objects.using(alias).get(pk=ours.pk)
    for amount in (BIG, 0, 12_345):
        ours.amount = theirs.amount = amount
        update_columns(ours, ["amount"], using=alias)
        assert _row(ours, alias)[-1] == amount
        theirs.save(update_fields=["amount"], using=alias)
        assert _row(ours, alias) == _row(theirs, alias)
    record = IdempotencyRecord.objects.using(alias).create(user=account.user, key="k", fingerprint="f")
    for status, body in ((200, {"wallet": {"BIG": str(BIG)}, "list": [1, None]}), (200, None), (422, [])):
        record.status_code, record.body = status, body
        update_columns(record, ["status_code", "body"], using=alias)
        fresh = IdempotencyRecord.objects.using(alias).get(pk=record.pk)
        assert (fresh.status_code, fresh.body) == (status, body)
    assert IdempotencyRecord.objects.using(alias).filter(pk=record.pk, body__isnull=False).exists()


def test_a_position_and_a_reserve_state_as_the_orm_writes_them():
    make_universe(seed=False)
    reserve = Reserve.objects.select_related("asset").get(asset__symbol="USDC")
    for name in RESERVE_STATE_FIELDS:  # the 78-digit columns at their largest
        if isinstance(Reserve._meta.get_field(name), UIntField):
            setattr(reserve, name, BIG)
    update_columns(reserve, RESERVE_STATE_FIELDS)
    assert _row(reserve, "default") == [getattr(reserve, f.attname) for f in Reserve._meta.concrete_fields]
    account, _ = bare_account_and_asset("default", username="p", symbol="PQ")
    position = Position.objects.create(account=account, reserve=reserve)
    position.scaled_supply, position.scaled_debt, position.collateral_enabled = BIG, 7, True
    position.supply_shadow, position.debt_shadow = 1.5, 0.25
    update_columns(position, ["scaled_supply", "scaled_debt", "collateral_enabled", "supply_shadow", "debt_shadow"])
    assert _row(position, "default") == [getattr(position, f.attname) for f in Position._meta.concrete_fields]


def test_a_missing_row_and_columns_save_would_compute_are_refused():
    account, asset = bare_account_and_asset("default", username="m", symbol="MQ")
    gone = WalletBalance.objects.create(account=account, asset=asset, amount=1)
    WalletBalance.objects.filter(pk=gone.pk).delete()
    with pytest.raises(DatabaseError):
        update_columns(gone, ["amount"])
    with pytest.raises(ValueError, match="plain columns"):
        update_columns(LedgerEntry(pk=1, account=account, asset=asset, kind="mint", amount=1), ["id"])
