"""Hypothesis state machine over random actions, price moves and time (DESIGN.md section 7 invariants):
tokens are conserved, scaled totals match positions, indexes never decrease, and no user action leaves
HF < 1."""
import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from common.errors import DomainError
from core.aave.v3 import HEALTH_FACTOR_LIQUIDATION_THRESHOLD
from lending import services
from lending.models import LedgerEntry, Position, WalletBalance
from lending.selectors import account_health
from markets.models import Reserve
from markets.services import now_seconds
from tests.factories import make_account, make_universe, set_price

ASSETS = ["USDC", "TSLAx", "NVDAx"]
UNITS = {"USDC": 10**6, "TSLAx": 10**18, "NVDAx": 10**18}


class LendingMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.savepoint = transaction.savepoint()
        make_universe()
        set_price("TSLAx", "250")
        set_price("NVDAx", "130")
        self.accounts = [make_account() for _ in range(2)]
        self.now = now_seconds() + 1
        self.indexes = {}

    def teardown(self):
        if hasattr(self, "savepoint"):
            transaction.savepoint_rollback(self.savepoint)

    def _try(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except DomainError:
            return None

    def _assert_healthy(self, account):
        hf = account_health(account, now=self.now).health_factor
        assert hf is None or hf >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD, hf

    @rule(who=st.integers(0, 1), asset=st.sampled_from(ASSETS), whole=st.integers(1, 5_000))
    def faucet(self, who, asset, whole):
        whole = whole if asset == "USDC" else min(whole, 1_000)
        self._try(services.account_faucet, account=self.accounts[who], symbol=asset, amount=whole * UNITS[asset])

    @rule(who=st.integers(0, 1), asset=st.sampled_from(ASSETS), frac=st.integers(1, 100))
    def supply(self, who, asset, frac):
        wallet = WalletBalance.objects.filter(account=self.accounts[who], asset__symbol=asset).first()
        amount = (wallet.amount if wallet else 0) * frac // 100
        self._try(services.account_supply, account=self.accounts[who], symbol=asset, amount=amount or 1,
                  now=self.now)

    @rule(who=st.integers(0, 1), asset=st.sampled_from(ASSETS), units=st.integers(1, 10**6),
          all_of_it=st.booleans())
    def withdraw(self, who, asset, units, all_of_it):
        if self._try(services.account_withdraw, account=self.accounts[who], symbol=asset,
                     amount="max" if all_of_it else units * UNITS[asset] // 100, now=self.now):
            self._assert_healthy(self.accounts[who])

    @rule(who=st.integers(0, 1), whole=st.integers(1, 100_000))
    def borrow(self, who, whole):
        if self._try(services.account_borrow, account=self.accounts[who], symbol="USDC", amount=whole * 10**6,
                     now=self.now):
            self._assert_healthy(self.accounts[who])

    @rule(who=st.integers(0, 1), whole=st.integers(1, 100_000), all_of_it=st.booleans())
    def repay(self, who, whole, all_of_it):
        self._try(services.account_repay, account=self.accounts[who], symbol="USDC",
                  amount="max" if all_of_it else whole * 10**6, now=self.now)

    @rule(who=st.integers(0, 1), asset=st.sampled_from(["TSLAx", "NVDAx"]), enabled=st.booleans())
    def collateral(self, who, asset, enabled):
        if self._try(services.account_set_collateral, account=self.accounts[who], symbol=asset, enabled=enabled,
                     now=self.now) and not enabled:
            self._assert_healthy(self.accounts[who])

    @rule(asset=st.sampled_from(["TSLAx", "NVDAx"]), cents=st.integers(1_000, 60_000))
    def move_price(self, asset, cents):
        set_price(asset, f"{cents // 100}.{cents % 100:02d}")

    @rule(seconds=st.integers(1, 90 * 86_400))
    def pass_time(self, seconds):
        self.now += seconds

    @rule(who=st.integers(0, 1), collateral=st.sampled_from(["TSLAx", "NVDAx"]), step=st.integers(1, 10**6))
    def liquidate(self, who, collateral, step):
        try:
            services.account_liquidate(account_id=self.accounts[who].pk, debt_symbol="USDC",
                                       collateral_symbol=collateral, round_key="prop", step=step, now=self.now)
        except DomainError:
            pass

    @invariant()
    def tokens_are_conserved(self):
        if not hasattr(self, "accounts"):
            return
        for reserve in Reserve.objects.select_related("asset").filter(asset__symbol__in=ASSETS):
            minted = sum(e.amount for e in LedgerEntry.objects.filter(asset=reserve.asset, kind__in=["faucet", "mint"]))
            wallets = sum(w.amount for w in WalletBalance.objects.filter(asset=reserve.asset))
            assert wallets + reserve.virtual_balance == minted, reserve.asset.symbol
            positions = list(Position.objects.filter(reserve=reserve))
            assert sum(p.scaled_supply for p in positions) == reserve.total_scaled_supply
            assert sum(p.scaled_debt for p in positions) == reserve.total_scaled_debt

    @invariant()
    def indexes_never_decrease(self):
        if not hasattr(self, "accounts"):
            return
        for reserve in Reserve.objects.select_related("asset").filter(asset__symbol__in=ASSETS):
            prev = self.indexes.get(reserve.pk, (0, 0))
            now = (reserve.liquidity_index, reserve.variable_borrow_index)
            assert now[0] >= prev[0] and now[1] >= prev[1]
            self.indexes[reserve.pk] = now


@pytest.mark.django_db
def test_lending_state_machine():
    LendingMachine.TestCase.settings = settings(
        max_examples=25, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    LendingMachine.TestCase().runTest()
