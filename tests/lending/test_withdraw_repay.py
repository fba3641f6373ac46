import pytest

from common.errors import DomainError
from lending import services
from lending.models import Position, WalletBalance
from tests.factories import fund_and_supply, make_account, make_universe, set_price, set_reserve

pytestmark = pytest.mark.django_db
E6, E18 = 10**6, 10**18


@pytest.fixture
def account():
    make_universe()
    set_price("TSLAx", "250")
    account = make_account()
    fund_and_supply(account, "TSLAx", "100")
    services.account_borrow(account=account, symbol="USDC", amount=10_000 * E6)
    return account


def test_withdraw_that_would_drop_hf_below_one_is_refused(account):
    # LT 65%: 10,000 of debt needs 61.54 TSLAx at $250
    with pytest.raises(DomainError) as err:
        services.account_withdraw(account=account, symbol="TSLAx", amount=39 * E18)
    assert err.value.code == "health_factor_too_low"
    assert Position.objects.get(account=account, reserve__asset__symbol="TSLAx").scaled_supply == 100 * E18
    services.account_withdraw(account=account, symbol="TSLAx", amount=38 * E18)


def test_withdraw_more_than_supplied(account):
    with pytest.raises(DomainError) as err:
        services.account_withdraw(account=account, symbol="TSLAx", amount=101 * E18)
    assert err.value.code == "insufficient_balance"


def test_repay_max_clears_debt_and_then_withdraw_max(account):
    services.account_faucet(account=account, symbol="USDC", amount=100 * E6)  # interest headroom
    services.account_repay(account=account, symbol="USDC", amount="max")
    assert Position.objects.get(account=account, reserve__asset__symbol="USDC").scaled_debt == 0
    services.account_withdraw(account=account, symbol="TSLAx", amount="max")
    position = Position.objects.get(account=account, reserve__asset__symbol="TSLAx")
    assert position.scaled_supply == 0 and not position.collateral_enabled
    assert WalletBalance.objects.get(account=account, asset__symbol="TSLAx").amount == 100 * E18


def test_repay_more_than_debt_repays_only_the_debt(account):
    services.account_faucet(account=account, symbol="USDC", amount=1_000 * E6)
    services.account_repay(account=account, symbol="USDC", amount=10_500 * E6)
    assert Position.objects.get(account=account, reserve__asset__symbol="USDC").scaled_debt == 0


def test_repay_without_debt():
    make_universe()
    with pytest.raises(DomainError) as err:
        services.account_repay(account=make_account(), symbol="USDC", amount=E6)
    assert err.value.code == "no_debt"


@pytest.mark.parametrize("action", ["withdraw", "repay"])
def test_paused_reserve(account, action):
    symbol = "TSLAx" if action == "withdraw" else "USDC"
    set_reserve(symbol, paused=True)
    with pytest.raises(DomainError) as err:
        getattr(services, f"account_{action}")(account=account, symbol=symbol, amount=E6)
    assert err.value.code == "reserve_paused"


def test_turning_collateral_off_under_debt_is_refused(account):
    with pytest.raises(DomainError) as err:
        services.account_set_collateral(account=account, symbol="TSLAx", enabled=False)
    assert err.value.code == "health_factor_too_low"


def test_faucet_daily_limit():
    make_universe()
    account = make_account()
    services.account_faucet(account=account, symbol="TSLAx", amount=1_000 * E18)
    with pytest.raises(DomainError) as err:
        services.account_faucet(account=account, symbol="TSLAx", amount=1)
    assert err.value.code == "faucet_limit_exceeded"
    services.account_faucet(account=account, symbol="USDC", amount=100_000 * E6)
    assert WalletBalance.objects.get(account=account, asset__symbol="TSLAx").amount == 1_000 * E18
