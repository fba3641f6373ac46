"""keeper_liquidate_account: repeats while HF < 1, picks pairs like a rational keeper, records deficits,
and acts once per (account, round, step)."""
import pytest

from lending import services
from lending.models import LiquidationEvent
from lending.selectors import account_health
from markets.models import Reserve
from oracles.models import HaircutPolicy
from tests.factories import fund_and_supply, make_account, make_universe, set_price, set_reserve

pytestmark = pytest.mark.django_db
E6 = 10**6


@pytest.fixture
def underwater():
    make_universe()
    set_price("TSLAx", "250")
    set_price("NVDAx", "130")
    account = make_account()
    fund_and_supply(account, "TSLAx", "40")
    fund_and_supply(account, "NVDAx", "60")
    services.account_borrow(account=account, symbol="USDC", amount=9_000 * E6)
    set_price("TSLAx", "150")
    set_price("NVDAx", "80")
    return account


def test_keeper_restores_health_or_exhausts_collateral(underwater):
    assert account_health(underwater).health_factor < 10**18
    events = services.keeper_liquidate_account(account_id=underwater.pk, round_key="k1")
    assert events and [e.step for e in events] == list(range(1, len(events) + 1))
    hf = account_health(underwater).health_factor
    assert hf is None or hf >= 10**18
    # the first step takes the collateral worth the most (NVDAx: 60 x 80 = 4,800 > 40 x 150 = 6,000? no: TSLAx)
    assert events[0].collateral_asset.symbol == "TSLAx"


def test_redelivery_acts_once(underwater):
    first = services.keeper_liquidate_account(account_id=underwater.pk, round_key="same")
    again = services.keeper_liquidate_account(account_id=underwater.pk, round_key="same")
    assert [e.pk for e in again][:len(first)] == [e.pk for e in first]
    assert LiquidationEvent.objects.filter(round_key="same").count() == len(first)


def test_crash_wipes_collateral_and_records_deficit(underwater):
    set_price("TSLAx", "10")
    set_price("NVDAx", "5")
    services.keeper_liquidate_account(account_id=underwater.pk, round_key="crash")
    assert Reserve.objects.get(asset__symbol="USDC").deficit > 0
    assert account_health(underwater).health_factor is None


def test_policies_are_honoured(underwater):
    set_reserve("TSLAx", paused=True)
    set_reserve("NVDAx", paused=True)
    assert services.keeper_liquidate_account(account_id=underwater.pk, round_key="p") == []
    set_reserve("TSLAx", paused=False)
    set_reserve("NVDAx", paused=False)
    HaircutPolicy.objects.filter(asset__symbol__in=["TSLAx", "NVDAx"]).update(manual_price_liquidations="hold")
    assert services.keeper_liquidate_account(account_id=underwater.pk, round_key="q") == []


def test_healthy_account_untouched():
    make_universe()
    set_price("TSLAx", "250")
    account = make_account()
    fund_and_supply(account, "TSLAx", "10")
    services.account_borrow(account=account, symbol="USDC", amount=100 * E6)
    assert services.keeper_liquidate_account(account_id=account.pk, round_key="h") == []
