"""78-digit integers round-trip exactly on PostgreSQL and on SQLite (where DecimalField goes through floats)."""
import pytest

from lending.models import LedgerEntry
from tests.factories import bare_account_and_asset

BIG = [10**78 - 1, 2**256 - 1, 10**77 + 1, 123456789012345678901234567890123456789, 1, 0]


@pytest.mark.django_db(databases=["default", "sqlite"])
@pytest.mark.parametrize("alias", ["default", "sqlite"])
def test_uint_round_trips_78_digits(alias):
    account, asset = bare_account_and_asset(alias, username="u", symbol="BIG")
    ids = [LedgerEntry.objects.using(alias).create(account=account, asset=asset, kind="mint", amount=v,
                                                   scaled_amount=v, index=v).pk for v in BIG]
    got = [LedgerEntry.objects.using(alias).get(pk=i) for i in ids]
    assert [g.amount for g in got] == BIG
    assert all(type(g.amount) is int for g in got)
    assert [g.index for g in got] == BIG


@pytest.mark.django_db(databases=["default", "sqlite"])
@pytest.mark.parametrize("alias", ["default", "sqlite"])
def test_more_than_78_digits_is_refused(alias):
    account, asset = bare_account_and_asset(alias, username="u2", symbol="B2", decimals=6)
    with pytest.raises(ValueError):
        LedgerEntry.objects.using(alias).create(account=account, asset=asset, kind="mint", amount=10**78)
