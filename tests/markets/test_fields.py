"""78-digit integers round-trip exactly on PostgreSQL and on SQLite (where DecimalField goes through floats)."""
import pytest
from django.contrib.auth import get_user_model

from lending.models import Account, LedgerEntry
from markets.models import Asset

BIG = [10**78 - 1, 2**256 - 1, 10**77 + 1, 123456789012345678901234567890123456789, 1, 0]


@pytest.mark.django_db(databases=["default", "sqlite"])
@pytest.mark.parametrize("alias", ["default", "sqlite"])
def test_uint_round_trips_78_digits(alias):
    user = get_user_model().objects.db_manager(alias).create_user(username="u", password="x" * 10)
    account = Account.objects.using(alias).create(user=user)
    asset = Asset.objects.using(alias).create(symbol="BIG", name="Big", kind="stablecoin", decimals=18,
                                              issuer_profile="stablecoin")
    ids = [LedgerEntry.objects.using(alias).create(account=account, asset=asset, kind="mint", amount=v,
                                                   scaled_amount=v, index=v).pk for v in BIG]
    got = [LedgerEntry.objects.using(alias).get(pk=i) for i in ids]
    assert [g.amount for g in got] == BIG
    assert all(type(g.amount) is int for g in got)
    assert [g.index for g in got] == BIG


@pytest.mark.django_db(databases=["default", "sqlite"])
@pytest.mark.parametrize("alias", ["default", "sqlite"])
def test_more_than_78_digits_is_refused(alias):
    user = get_user_model().objects.db_manager(alias).create_user(username="u2", password="x" * 10)
    account = Account.objects.using(alias).create(user=user)
    asset = Asset.objects.using(alias).create(symbol="B2", name="B", kind="stablecoin", decimals=6,
                                              issuer_profile="stablecoin")
    with pytest.raises(ValueError):
        LedgerEntry.objects.using(alias).create(account=account, asset=asset, kind="mint", amount=10**78)
