import pytest

from common.errors import DomainError
from lending import services
from lending.models import LedgerEntry, WalletBalance
from markets.models import Reserve
from oracles.models import OracleFeed
from tests.factories import fund_and_supply, make_account, make_universe, set_price, set_reserve

pytestmark = pytest.mark.django_db
E6 = 10**6


@pytest.fixture
def account():
    make_universe()
    set_price("TSLAx", "250")
    account = make_account()
    fund_and_supply(account, "TSLAx", "100")  # $25,000, LTV 55% -> $13,750
    return account


def borrow(account, amount):
    return services.account_borrow(account=account, symbol="USDC", amount=amount)


def test_borrow_up_to_power(account):
    borrow(account, 13_750 * E6)
    assert WalletBalance.objects.get(account=account, asset__symbol="USDC").amount == 13_750 * E6


def test_borrow_past_power_is_refused_with_what_is_possible(account):
    with pytest.raises(DomainError) as err:
        borrow(account, 13_750 * E6 + 1)
    assert err.value.code == "borrowing_power_exceeded"
    assert "13750" in err.value.message
    assert not LedgerEntry.objects.filter(kind="borrow").exists()


def test_borrow_cap(account):
    usdc = Reserve.objects.get(asset__symbol="USDC")
    set_reserve("USDC", borrow_cap=1_000)
    borrow(account, 1_000 * E6)
    with pytest.raises(DomainError) as err:
        borrow(account, 1)
    assert err.value.code == "borrow_cap_exceeded"
    assert usdc.pk


@pytest.mark.parametrize("fields, code", [({"paused": True}, "reserve_paused"), ({"frozen": True}, "reserve_frozen"),
                                          ({"borrowing_enabled": False}, "borrowing_disabled")])
def test_reserve_state_blocks_borrow(account, fields, code):
    set_reserve("USDC", **fields)
    with pytest.raises(DomainError) as err:
        borrow(account, E6)
    assert err.value.code == code


def test_no_collateral():
    make_universe()
    with pytest.raises(DomainError) as err:
        borrow(make_account(), E6)
    assert err.value.code == "no_collateral"


def test_stale_collateral_price_blocks_borrow(account, monkeypatch):
    OracleFeed.objects.filter(asset__symbol="TSLAx").update(source="simulated", heartbeat_seconds=1)
    from oracles import selectors

    real = selectors.oracle_read

    def stale(asset, *, at=None):
        read = real(asset, at=at)
        if asset.symbol == "TSLAx":
            from dataclasses import replace
            return replace(read, flags=("stale",))
        return read

    def stale_many(assets, *, at=None):
        return {a.symbol: stale(a, at=at) for a in assets}

    monkeypatch.setattr("lending.services.oracle_reads", stale_many)
    monkeypatch.setattr("lending.selectors.oracle_reads", stale_many)
    with pytest.raises(DomainError) as err:
        borrow(account, E6)
    assert err.value.code == "price_stale"


def test_not_enough_liquidity(account):
    set_reserve("USDC", virtual_balance=10)
    with pytest.raises(DomainError) as err:
        borrow(account, 11)
    assert err.value.code == "insufficient_liquidity"
