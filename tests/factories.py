"""Factories for tests: users, API clients, the default universe, prices, funded positions."""
from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.amounts import parse_price
from lending import services as lending
from lending.models import Account
from markets.models import Asset, Reserve
from markets.services import universe_load
from oracles.models import HaircutPolicy, OracleFeed
from oracles.services import feeds_ensure, round_publish

_seq = itertools.count(1)


def make_universe(*, haircuts: bool = False, seed: bool = True) -> None:
    """The default universe; haircuts off by default so results don't depend on the time of day."""
    universe_load()
    feeds_ensure()
    if not haircuts:
        HaircutPolicy.objects.update(mode=HaircutPolicy.Mode.NONE)
    # Deterministic engine tests: every price is manual (never stale, no depeg).
    OracleFeed.objects.update(source=OracleFeed.Source.MANUAL)
    if seed:
        lending.treasury_seed_liquidity()


def make_user(username: str | None = None, *, staff: bool = False, password: str = "correct-horse-9"):
    username = username or f"user{next(_seq)}"
    user = get_user_model().objects.create_user(username=username, password=password, is_staff=staff)
    lending.account_for_user(user)
    return user


def bare_account_and_asset(alias: str, *, username: str, symbol: str, decimals: int = 18) -> tuple[Account, Asset]:
    """A user's account and a stablecoin on database `alias` ("default" or "sqlite"), nothing else: for the
    tests that prove exactness on both databases."""
    user = get_user_model().objects.db_manager(alias).create_user(username=username, password="x" * 10)
    account = Account.objects.using(alias).create(user=user)
    asset = Asset.objects.using(alias).create(symbol=symbol, name=symbol, kind="stablecoin", decimals=decimals,
                                              issuer_profile="stablecoin")
    return account, asset


def make_account(**kwargs) -> Account:
    return lending.account_for_user(make_user(**kwargs))


def api_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def set_price(symbol: str, usd: str) -> None:
    asset = Asset.objects.get(symbol=symbol)
    price = parse_price(usd)
    round_publish(asset=asset, reference_price=price, token_price=price, source="manual", notify=False)


def units(symbol: str, amount: str) -> int:
    from core.amounts import parse_amount

    return parse_amount(amount, Asset.objects.get(symbol=symbol).decimals)


def fund_and_supply(account: Account, symbol: str, amount: str) -> None:
    lending.mint_to(account=account, asset=Asset.objects.get(symbol=symbol), amount=units(symbol, amount),
                    reason="test")
    lending.account_supply(account=account, symbol=symbol, amount=units(symbol, amount))


def set_reserve(symbol: str, **fields) -> Reserve:
    Reserve.objects.filter(asset__symbol=symbol).update(**fields)
    return Reserve.objects.get(asset__symbol=symbol)


def ledger_mismatches() -> list[str]:
    """Broken bookkeeping, per reserve (lending.books: tokens conserved, scaled totals equal to the positions).
    Empty when balanced."""
    from lending.books import ledger_problems

    return ledger_problems()


def make_borrower():
    """A borrower with 100 TSLAx supplied at $250 and 1,000 USDC of debt (the universe made first)."""
    from lending import services

    make_universe()
    set_price("TSLAx", "250")
    user = make_user()
    account = services.account_for_user(user)
    fund_and_supply(account, "TSLAx", "100")
    services.account_borrow(account=account, symbol="USDC", amount=1_000 * 10**6)
    return user


def superuser_page_client():
    """A browser-session client logged in as a superuser (the universe made first), for Django admin pages."""
    from django.test import Client

    make_universe()
    user = make_user(staff=True)
    user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def small_gap_sampler():
    """Empirical gaps from one ticker's file (TSLA), so a Monte Carlo test needs not load every ticker's."""
    from core.clock import MarketClock
    from core.haircut import calibrated as haircut
    from core.simulation.paths import GapSampler

    rows = haircut.closures("TSLA", *haircut.read_bars(haircut.PRICES_DIR / "TSLA.csv"),
                            MarketClock.get("XNYS").gap_kind)
    return GapSampler.from_closures(rows)


def make_montecarlo_run(**overrides):
    """A small queued Monte Carlo run (the universe made first); its chunk tasks are not sent (no commit)."""
    from risklab.services import montecarlo_create

    if not Asset.objects.exists():
        make_universe(seed=False)
    args = dict(assets=["TSLAx", "SPYx"], engines=["v3.3", "v4"], policy="calibrated", paths="simulated", n_paths=5,
                hours=24 * 9, accounts=60, seed=4, chunk_size=2)
    args.update(overrides)
    return montecarlo_create(**args)
