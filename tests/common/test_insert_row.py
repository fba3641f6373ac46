"""common.prepared.insert_row inserts what save() inserts, on PostgreSQL and SQLite: 78-digit integers, JSON, SQL
NULL, auto_now_add; a unique clash is the ORM's IntegrityError; a model with save receivers still has them run."""
import pytest
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.db.models import signals
from django.utils import timezone

from common.models import IdempotencyRecord
from common.prepared import insert_row
from lending.models import LedgerEntry
from tests.factories import bare_account_and_asset

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])
BIG = 10**78 - 1


def _columns(instance, alias):
    fresh = type(instance).objects.using(alias).get(pk=instance.pk)
    return {f.attname: getattr(fresh, f.attname) for f in type(instance)._meta.concrete_fields if f.attname != "id"}


@pytest.mark.parametrize("alias", ["default", "sqlite"])
def test_the_same_row_as_save(alias):
    account, asset = bare_account_and_asset(alias, username="u", symbol="BIG")
    for amount, detail in ((BIG, {"wallet": str(BIG), "list": [1, None]}), (0, {})):
        ours = insert_row(LedgerEntry(account=account, asset=asset, kind="mint", amount=amount, scaled_amount=BIG,
                                      index=7, detail=detail), using=alias)
        theirs = LedgerEntry(account=account, asset=asset, kind="mint", amount=amount, scaled_amount=BIG, index=7,
                             detail=detail)
        theirs.save(using=alias)
        assert ours.pk and ours.pk != theirs.pk and not ours._state.adding and ours._state.db == alias
        mine, orm = _columns(ours, alias), _columns(theirs, alias)
        assert mine.pop("created_at") <= orm.pop("created_at") and ours.created_at is not None  # auto_now_add
        assert mine == orm
    record = insert_row(IdempotencyRecord(user=account.user, key="k", fingerprint="f"), using=alias)
    fresh = IdempotencyRecord.objects.using(alias).get(pk=record.pk)
    assert (fresh.key, fresh.status_code, fresh.body) == ("k", None, None)


@pytest.mark.parametrize("alias", ["default", "sqlite"])
def test_a_unique_clash_is_an_integrity_error_and_the_transaction_goes_on(alias):
    account, _ = bare_account_and_asset(alias, username="c", symbol="CQ")
    insert_row(IdempotencyRecord(user=account.user, key="same", fingerprint="f"), using=alias)
    with transaction.atomic(using=alias):
        with pytest.raises(IntegrityError), transaction.atomic(using=alias):
            insert_row(IdempotencyRecord(user=account.user, key="same", fingerprint="g"), using=alias)
        insert_row(IdempotencyRecord(user=account.user, key="other", fingerprint="g"), using=alias)
    assert IdempotencyRecord.objects.using(alias).filter(user=account.user).count() == 2


def test_a_model_with_save_receivers_is_saved_by_the_orm():
    account, asset = bare_account_and_asset("default", username="r", symbol="RQ")
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.pk, created))

    signals.post_save.connect(receiver, sender=LedgerEntry, weak=False, dispatch_uid="test_insert_row")
    try:
        entry = insert_row(LedgerEntry(account=account, asset=asset, kind="mint", amount=5))
    finally:
        signals.post_save.disconnect(sender=LedgerEntry, dispatch_uid="test_insert_row")
    assert seen == [(entry.pk, True)]


def test_a_model_without_an_auto_primary_key_is_refused():
    with pytest.raises(ValueError, match="auto primary key"):
        insert_row(Session(session_key="s", session_data="", expire_date=timezone.now()))
    assert not Session.objects.exists()
