"""The borrower's preview: limits read by lending.selectors.action_preview, refusals and the after-state from
lending.services.account_action_dry_run, the real action in a transaction that is always rolled back."""
import pytest
from django.db import transaction

from lending import selectors, services
from lending.models import LedgerEntry, Position, WalletBalance
from markets.models import Asset, Reserve
from tests.factories import fund_and_supply, make_account, make_universe, set_price, set_reserve

pytestmark = pytest.mark.django_db


def snapshot():
    """Everything an action may write: wallets, positions, the ledger and every reserve field."""
    return (
        sorted(WalletBalance.objects.values_list("account_id", "asset_id", "amount")),
        sorted(Position.objects.values_list("account_id", "reserve_id", "scaled_supply", "scaled_debt",
                                            "collateral_enabled")),
        LedgerEntry.objects.count(),
        sorted(tuple(sorted(r.items())) for r in Reserve.objects.values()),
    )


@pytest.fixture
def bob():
    """10 TSLAx supplied at $250 (LTV 55%, threshold 65%): $1,375 of borrowing power, no debt."""
    make_universe()
    set_price("TSLAx", "250")
    account = make_account()
    fund_and_supply(account, "TSLAx", "10")
    return account


@pytest.mark.parametrize("action, symbol, amount", [
    ("faucet", "USDC", 5 * 10**6), ("supply", "TSLAx", 10**18), ("borrow", "USDC", 1_000 * 10**6),
    ("withdraw", "TSLAx", "max"),
])
def test_a_dry_run_computes_the_after_state_and_changes_nothing(bob, action, symbol, amount):
    before = snapshot()
    if action == "supply":
        services.mint_to(account=bob, asset=Asset.objects.get(symbol="TSLAx"), amount=10**18, reason="test")
        before = snapshot()
    run = services.account_action_dry_run(account=bob, action=action, symbol=symbol, amount=amount)
    assert run.refusal is None and run.after is not None
    assert snapshot() == before
    if action == "borrow":  # 2,500 x 0.65 / 1,000 and $1,375 - $1,000
        assert run.after.health_factor // 10**16 == 162 and run.after.by_ltv.available_borrows_base == 375 * 10**8
    if action == "supply":  # 11 TSLAx: $1,512.50 of power
        assert run.after.by_ltv.available_borrows_base == 151_250_000_000
    if action == "withdraw":
        assert run.after.by_ltv.total_collateral_base == 0


def test_a_dry_run_inside_an_outer_transaction_rolls_back_only_itself(bob):
    before = snapshot()
    with transaction.atomic():
        run = services.account_action_dry_run(account=bob, action="borrow", symbol="USDC", amount=10 * 10**6)
        assert run.refusal is None and snapshot() == before
        services.account_borrow(account=bob, symbol="USDC", amount=10 * 10**6)  # the outer block still works
    assert LedgerEntry.objects.count() == before[2] + 1


def test_a_refusal_is_the_services_own_error(bob):
    set_reserve("USDC", frozen=True)
    before = snapshot()
    run = services.account_action_dry_run(account=bob, action="borrow", symbol="USDC", amount=10 * 10**6)
    assert run.refusal.code == "reserve_frozen" and run.refusal.field == "asset" and run.after is None
    assert snapshot() == before


def test_max_submits_the_services_max_when_that_is_everything_else_the_limit(bob):
    usdc, tslax = Asset.objects.get(symbol="USDC"), Asset.objects.get(symbol="TSLAx")
    withdraw = selectors.action_preview(account=bob, action="withdraw", asset=tslax, amount="max")
    assert withdraw.submit == "max" and withdraw.limit == 10 * 10**18 and withdraw.all_of_it
    borrow = selectors.action_preview(account=bob, action="borrow", asset=usdc, amount="max")
    assert borrow.submit == borrow.limit == 1_375 * 10**6
    # nothing to borrow: the smallest amount goes to the dry run, which says why
    nothing = selectors.action_preview(account=make_account(), action="borrow", asset=usdc, amount="max")
    assert nothing.limit == 0 and nothing.submit == 1
