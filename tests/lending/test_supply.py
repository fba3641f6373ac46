import pytest

from common.errors import DomainError
from lending import services
from lending.models import LedgerEntry, Position, WalletBalance
from markets.models import Reserve
from tests.factories import make_account, make_universe, set_reserve, units

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    make_universe()
    account = make_account()
    services.account_faucet(account=account, symbol="TSLAx", amount=units("TSLAx", "10"))
    return account


def test_supply_moves_wallet_into_pool_and_enables_collateral(account):
    services.account_supply(account=account, symbol="TSLAx", amount=units("TSLAx", "4"))
    position = Position.objects.get(account=account, reserve__asset__symbol="TSLAx")
    assert position.scaled_supply == 4 * 10**18 and position.collateral_enabled
    assert position.supply_shadow == 4.0
    assert WalletBalance.objects.get(account=account, asset__symbol="TSLAx").amount == 6 * 10**18
    assert Reserve.objects.get(asset__symbol="TSLAx").virtual_balance == 4 * 10**18
    assert LedgerEntry.objects.filter(account=account, kind="supply").count() == 1


def test_second_supply_keeps_collateral_choice(account):
    services.account_supply(account=account, symbol="TSLAx", amount=units("TSLAx", "1"))
    services.account_set_collateral(account=account, symbol="TSLAx", enabled=False)
    services.account_supply(account=account, symbol="TSLAx", amount=units("TSLAx", "1"))
    assert not Position.objects.get(account=account, reserve__asset__symbol="TSLAx").collateral_enabled


@pytest.mark.parametrize("amount, code", [(0, "invalid_amount"), (-1, "invalid_amount"), ("max", "invalid_amount"),
                                          (11 * 10**18, "insufficient_balance")])
def test_bad_amounts_change_nothing(account, amount, code):
    with pytest.raises(DomainError) as err:
        services.account_supply(account=account, symbol="TSLAx", amount=amount)
    assert err.value.code == code
    assert not LedgerEntry.objects.filter(kind="supply", account=account).exists()


def test_unknown_asset(account):
    with pytest.raises(DomainError) as err:
        services.account_supply(account=account, symbol="NOPE", amount=1)
    assert err.value.code == "unknown_asset"


def test_supply_cap(account):
    set_reserve("TSLAx", supply_cap=5)
    services.account_supply(account=account, symbol="TSLAx", amount=units("TSLAx", "5"))
    with pytest.raises(DomainError) as err:
        services.account_supply(account=account, symbol="TSLAx", amount=1)
    assert err.value.code == "supply_cap_exceeded"


@pytest.mark.parametrize("flag, code", [("paused", "reserve_paused"), ("frozen", "reserve_frozen")])
def test_paused_or_frozen_reserve(account, flag, code):
    set_reserve("TSLAx", **{flag: True})
    with pytest.raises(DomainError) as err:
        services.account_supply(account=account, symbol="TSLAx", amount=1)
    assert err.value.code == code
