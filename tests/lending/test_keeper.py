"""The keeper (lending.keeper.keeper_run): repeats while HF < 1, picks the pair a rational keeper
would, honours the pause, grace and haircut policies, records deficits, acts once per (account, round, step),
and stays exact when another transaction moves a reserve under it or a second keeper runs beside it."""
import dataclasses
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from core.aave.wadray import percent_div, percent_mul
from lending import liquidation, services
from lending.keeper import keeper_run
from lending.models import LedgerEntry, LiquidationEvent, Position
from lending.selectors import account_health
from markets.models import Asset, Reserve
from oracles.selectors import oracle_reads
from tests.factories import fund_and_supply, ledger_mismatches, make_account, make_universe, set_price, set_reserve

pytestmark = pytest.mark.django_db
E6, E18, WAD = 10**6, 10**18, 10**18


def keep(account, round_key, **kwargs):
    return keeper_run(account_ids=[account.pk], round_key=round_key, **kwargs)


def reads_with(**changes):
    """Oracle reads for every asset, with some fields replaced (a policy state, independent of the clock)."""
    reads = oracle_reads(Asset.objects.all())
    symbols = changes.pop("symbols", None) or list(reads)
    return {s: dataclasses.replace(r, **changes) if s in symbols else r for s, r in reads.items()}


def assert_aave_amounts(event):
    """LiquidationLogic._calculateAvailableCollateralToLiquidate, from the debt the event repaid: collateral =
    percentMul(debt x debt price / collateral price, bonus); fee = percentMul(bonus part, protocol fee)."""
    reserve = Reserve.objects.get(asset=event.collateral_asset)
    c_unit, d_unit = 10**event.collateral_asset.decimals, 10**event.debt_asset.decimals
    base = event.debt_price * event.debt_repaid * c_unit // (event.collateral_price * d_unit)
    seized = percent_mul(base, reserve.liquidation_bonus_bps)
    assert event.collateral_seized == seized
    assert event.protocol_fee == percent_mul(seized - percent_div(seized, reserve.liquidation_bonus_bps),
                                             reserve.liquidation_protocol_fee_bps)


@pytest.fixture
def underwater():
    make_universe()
    set_price("TSLAx", "250")
    set_price("NVDAx", "130")
    account = make_account()
    fund_and_supply(account, "TSLAx", "40")
    fund_and_supply(account, "NVDAx", "60")
    services.account_borrow(account=account, symbol="USDC", amount=9_000 * E6)
    set_price("TSLAx", "150")  # collateral $6,000 + $4,800 at LT 65% vs $9,000: HF 0.78, close factor 100%
    set_price("NVDAx", "80")
    return account


def test_keeper_repeats_until_healthy(underwater):
    assert account_health(underwater).health_factor < WAD
    events = keep(underwater, "k1")
    # step 1 seizes all the TSLAx (its bonus pays most), step 2 repays the rest of the debt against NVDAx
    assert [(e.step, e.collateral_asset.symbol) for e in events] == [(1, "TSLAx"), (2, "NVDAx")]
    assert events[0].collateral_seized == 40 * E18
    assert events[0].debt_repaid == percent_div(6_000 * E6, 10_750)  # all the collateral: debt = value / bonus
    assert events[0].health_factor_after == events[1].health_factor_before < WAD
    assert_aave_amounts(events[1])
    assert events[1].health_factor_after is None  # no debt left
    assert account_health(underwater).health_factor is None
    assert not ledger_mismatches()


def test_rational_keeper_takes_the_most_profitable_pair():
    """SPYx is worth more, but HOODx pays a 10% bonus against SPYx's 5%: a rational keeper seizes HOODx."""
    make_universe()
    set_price("SPYx", "580")
    set_price("HOODx", "37")
    account = make_account()
    fund_and_supply(account, "SPYx", "30")
    fund_and_supply(account, "HOODx", "400")
    services.account_borrow(account=account, symbol="USDC", amount=16_000 * E6)
    set_price("SPYx", "500")
    set_price("HOODx", "27")  # HF 0.973: close factor 50% (both sides >= $2,000, HF > 0.95)
    events = keep(account, "r")
    assert [e.collateral_asset.symbol for e in events] == ["HOODx"]
    event = events[0]
    assert abs(event.debt_repaid - 8_000 * E6) < E6  # half the debt (plus a few seconds of interest)
    assert_aave_amounts(event)
    assert event.health_factor_before < WAD <= event.health_factor_after


def test_redelivery_acts_once(underwater):
    first = keep(underwater, "same")
    again = keep(underwater, "same")
    assert [e.pk for e in again] == [e.pk for e in first]
    assert LiquidationEvent.objects.filter(round_key="same").count() == len(first)


def test_crash_burns_bad_debt_on_every_reserve(underwater):
    set_price("TSLAx", "10")
    set_price("NVDAx", "5")  # $700 of collateral against $9,000
    events = keep(underwater, "crash")
    assert events[-1].deficit > 0
    usdc = Reserve.objects.get(asset__symbol="USDC")
    assert usdc.deficit == sum(e.deficit for e in events)
    assert LedgerEntry.objects.filter(account=underwater, kind="deficit").count() == 1
    assert account_health(underwater).health_factor is None
    assert not ledger_mismatches()


def test_deficit_covers_every_debt_when_collateral_runs_out():
    make_universe()
    set_price("TSLAx", "250")
    account = make_account()
    fund_and_supply(account, "TSLAx", "40")  # $10,000, LTV 55%: $5,500 of power
    services.account_borrow(account=account, symbol="USDC", amount=3_000 * E6)
    services.account_borrow(account=account, symbol="USDT", amount=2_000 * E6)
    set_price("TSLAx", "20")  # $800 of collateral against $5,000
    events = keep(account, "two-debts")
    assert len(events) == 1  # one step takes all the collateral; _burnBadDebt clears the other debt
    usdc, usdt = (Reserve.objects.get(asset__symbol=s) for s in ("USDC", "USDT"))
    assert usdc.deficit > 0 and usdt.deficit > 0
    assert events[0].deficit == usdc.deficit + usdt.deficit
    assert not Position.objects.filter(account=account, scaled_debt__gt=0).exists()
    assert set(LedgerEntry.objects.filter(account=account, kind="deficit").values_list("asset__symbol", flat=True)) \
        == {"USDC", "USDT"}
    assert not ledger_mismatches()


def test_paused_reserve_is_skipped_not_blocking(underwater):
    set_reserve("TSLAx", paused=True)
    events = keep(underwater, "p")
    assert [e.collateral_asset.symbol for e in events] == ["NVDAx"]  # the other collateral is still fair game
    set_reserve("NVDAx", paused=True)
    assert keep(underwater, "p2") == []


def test_reserve_grace_period_holds_liquidations(underwater):
    later = timezone.now() + timedelta(hours=1)
    set_reserve("TSLAx", grace_until=later)
    set_reserve("NVDAx", grace_until=later)
    assert keep(underwater, "g") == []
    set_reserve("TSLAx", grace_until=timezone.now() - timedelta(seconds=1))
    assert [e.collateral_asset.symbol for e in keep(underwater, "g2")] == ["TSLAx"]


@pytest.mark.parametrize("policy", [
    dict(liquidations_paused=True),  # pause_liquidations_when_closed while the market is shut
    dict(grace_until=timezone.now() + timedelta(hours=1)),  # the reopen grace period
    dict(flags=("halted",)),  # no liquidation on a price the keeper cannot trust
])
def test_oracle_policies_hold_liquidations(underwater, policy):
    assert keep(underwater, "o", reads=reads_with(symbols=["TSLAx", "NVDAx"], **policy)) == []
    assert keep(underwater, "o2")  # the same account, once the policy no longer applies


def test_haircut_on_the_threshold_only_when_the_policy_says_so():
    make_universe()
    set_price("TSLAx", "250")
    account = make_account()
    fund_and_supply(account, "TSLAx", "40")
    services.account_borrow(account=account, symbol="USDC", amount=5_400 * E6)  # HF 1.2037
    haircut = dict(symbols=["TSLAx"], haircut_bps=2_000, session="closed", is_open=False)
    assert keep(account, "h1", reads=reads_with(apply_to_liquidation_threshold=False, **haircut)) == []
    events = keep(account, "h2", reads=reads_with(apply_to_liquidation_threshold=True, **haircut))
    # The haircut ($250 less 20% = $200) made it liquidatable (HF 0.963 at $200); the collateral is seized at the
    # reference $250, never at the cut price (DESIGN.md s2, "Which prices a liquidation uses").
    assert events and events[0].health_factor_before < WAD
    assert events[0].collateral_price == 250 * 10**8
    assert events[0].session == "closed"
    assert_aave_amounts(events[0])


def test_healthy_account_untouched():
    make_universe()
    set_price("TSLAx", "250")
    account = make_account()
    fund_and_supply(account, "TSLAx", "10")
    services.account_borrow(account=account, symbol="USDC", amount=100 * E6)
    assert keep(account, "h") == []
    assert not LiquidationEvent.objects.exists()


def test_a_reserve_moved_under_the_book_is_recomputed_with_its_new_state(underwater, monkeypatch):
    """An admin raises TSLAx's bonus between the keeper's unlocked read and its flush: the flush notices and the
    book is recomputed with the reserves locked, so the event carries the bonus in force when it commits."""
    calls = []
    flush = liquidation.LiquidationBook.flush

    def flush_after_a_change(book):
        calls.append(book.locked_reserves)
        if len(calls) == 1:
            set_reserve("TSLAx", liquidation_bonus_bps=10_800)
        return flush(book)

    monkeypatch.setattr(liquidation.LiquidationBook, "flush", flush_after_a_change)
    events = keep(underwater, "moved")
    assert calls == [False, True]
    assert events[0].collateral_asset.symbol == "TSLAx"
    assert events[0].debt_repaid == percent_div(6_000 * E6, 10_800)
    assert not ledger_mismatches()


def test_interest_rate_change_under_the_book_is_caught(underwater, monkeypatch):
    """Another second's accrual with a different rate gives other indexes at `now`: recompute, never mix."""
    calls = []
    flush = liquidation.LiquidationBook.flush

    def flush_after_a_rate_change(book):
        calls.append(book.locked_reserves)
        if len(calls) == 1:
            usdc = Reserve.objects.get(asset__symbol="USDC")
            set_reserve("USDC", variable_borrow_rate=usdc.variable_borrow_rate + 10**25,
                        last_update=min(usdc.last_update, book.now - 60))
        return flush(book)

    monkeypatch.setattr(liquidation.LiquidationBook, "flush", flush_after_a_rate_change)
    assert keep(underwater, "rate")
    assert calls == [False, True]
    assert not ledger_mismatches()


@pytest.mark.django_db(transaction=True)
def test_two_keepers_at_once_keep_the_books_exact():
    make_universe()
    set_price("TSLAx", "250")
    accounts = []
    for _ in range(24):
        account = make_account()
        fund_and_supply(account, "TSLAx", "10")
        services.account_borrow(account=account, symbol="USDC", amount=1_300 * E6)
        accounts.append(account.pk)
    set_price("TSLAx", "190")
    errors = []

    def keeper(ids):
        try:
            for i in range(0, len(ids), 4):
                keeper_run(account_ids=ids[i:i + 4], round_key="pair")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=keeper, args=(accounts[w::2],)) for w in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert set(LiquidationEvent.objects.values_list("account_id", flat=True)) == set(accounts)
    assert LiquidationEvent.objects.count() == len(accounts)  # one step each: the whole debt is repaid
    assert not ledger_mismatches()
