"""The faucet is a simulator convenience: it works at any hour for every issuer profile (issue #12), whatever the
profile's mint window or token hours, with the simulated feeds ticking at that hour."""
from datetime import UTC, datetime
from unittest import mock

import pytest

from core import profiles
from core.clock import MarketClock
from lending.models import LedgerEntry, WalletBalance
from markets.models import Asset
from oracles.models import OracleFeed
from oracles.services import feeds_tick
from tests.factories import api_client, make_universe, make_user

pytestmark = pytest.mark.django_db

HOURS = {  # UTC instants; the XNYS session each one falls in is asserted below
    "regular": datetime(2026, 1, 13, 16, tzinfo=UTC),  # Tuesday 11:00 ET
    "overnight": datetime(2026, 1, 14, 7, tzinfo=UTC),  # Wednesday 02:00 ET (Robinhood's overnight session)
    "saturday": datetime(2026, 1, 17, 17, tzinfo=UTC),  # no Robinhood, no Bybit 24/5 session, no mint anywhere
    "sunday_evening": datetime(2026, 1, 19, 2, tzinfo=UTC),  # Sunday 21:00 ET: the 24/5 venues reopen
    "holiday": datetime(2026, 1, 19, 17, tzinfo=UTC),  # Martin Luther King Jr. Day, 12:00 ET
    "early_close": datetime(2026, 11, 27, 20, tzinfo=UTC),  # day after Thanksgiving, 15:00 ET: shut since 13:00
}


def test_faucet_works_at_any_hour_for_every_profile():
    make_universe(haircuts=True)
    OracleFeed.objects.exclude(asset__kind="stablecoin").update(source="simulated")
    one_of_each = {}
    for asset in Asset.objects.order_by("id"):
        one_of_each.setdefault(asset.issuer_profile, asset)
    assert set(one_of_each) == set(profiles.NAMES)  # the default universe has every profile
    user = make_user()
    client = api_client(user)
    sessions = {}
    for name, at in HOURS.items():
        state = MarketClock.get("XNYS").state(at)
        sessions[name] = state.session
        assert name != "regular" or state.is_open
        assert name == "regular" or not state.is_open
        with mock.patch("django.utils.timezone.now", return_value=at):
            feeds_tick(now=at, seed=1)  # the oracle at that hour, under each profile
            for profile, asset in one_of_each.items():
                before = WalletBalance.objects.filter(account__user=user, asset=asset).values_list(
                    "amount", flat=True).first() or 0
                response = client.post("/api/v1/account/faucet/", {"asset": asset.symbol, "amount": "1"},
                                       format="json")
                assert response.status_code in (200, 201), (name, profile, response.content[:300])
                after = WalletBalance.objects.get(account__user=user, asset=asset).amount
                assert after - before == asset.unit, (name, profile)
    assert sessions["overnight"] == "overnight" and sessions["saturday"] == "closed"
    assert sessions["holiday"] == "closed" and sessions["early_close"] != "regular"
    assert LedgerEntry.objects.filter(kind="faucet").count() == len(HOURS) * len(profiles.NAMES)
