"""lending.selectors.account_outlook and account_health_history: what the closed-market policy does to an
account at the next close and open, and its HF over the past days at today's positions."""
from datetime import UTC, datetime

import pytest

from core.amounts import parse_price
from lending import selectors, services
from markets.models import Asset
from oracles.models import HaircutPolicy
from oracles.services import round_publish
from tests.factories import fund_and_supply, make_account, make_universe, set_price

pytestmark = pytest.mark.django_db
E6, WAD = 10**6, 10**18
WEDNESDAY_3PM_ET = datetime(2026, 11, 18, 20, 0, tzinfo=UTC)
FRIDAY_3PM_ET = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


@pytest.fixture
def borrower():
    """10 TSLAx at $250 (LT 65%), 1,000 USDC borrowed: HF 1.625 with no haircut."""
    make_universe()
    HaircutPolicy.objects.filter(asset__symbol="TSLAx").update(
        mode="fixed", fixed_bps={"overnight": 1_000, "weekend": 2_000}, apply_to_liquidation_threshold=True)
    set_price("TSLAx", "250")
    account = make_account()
    fund_and_supply(account, "TSLAx", "10")
    services.account_borrow(account=account, symbol="USDC", amount=1_000 * E6)
    return account


def test_outlook_on_a_weekday_shows_the_overnight_haircut_then_the_reopen(borrower):
    close, reopen = selectors.account_outlook(borrower, now=WEDNESDAY_3PM_ET)
    assert (close["label"], close["at"]) == ("next NYSE close", datetime(2026, 11, 18, 21, 0, tzinfo=UTC))
    assert close["closure_kind"] == "overnight" and close["haircuts"] == {"TSLAx": 1_000}
    assert close["health_factor"] == 1_462_500_000_000_000_000  # 2,500 x 90% x 65% / 1,000
    assert reopen["label"] == "next NYSE open" and reopen["closure_kind"] is None
    assert reopen["health_factor"] == 1_625_000_000_000_000_000 and reopen["haircuts"] == {}


def test_outlook_before_a_weekend_uses_the_weekend_haircut(borrower):
    close, _ = selectors.account_outlook(borrower, now=FRIDAY_3PM_ET)
    assert close["closure_kind"] == "weekend" and close["health_factor"] == 1_300_000_000_000_000_000


def test_no_debt_no_outlook_and_no_history():
    make_universe()
    account = make_account()
    fund_and_supply(account, "TSLAx", "10")
    assert selectors.account_outlook(account) == []
    assert selectors.account_health_history(account)["t"] == []


def test_history_follows_the_rounds_and_the_haircut_of_each_instant(borrower):
    asset = Asset.objects.get(symbol="TSLAx")
    # a price of $200 published Friday 14:00 ET stands through the weekend; the haircut applies from the close
    friday_2pm = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
    round_publish(asset=asset, reference_price=parse_price("200"), source="manual", notify=False, at=friday_2pm)
    round_publish(asset=Asset.objects.get(symbol="USDC"), reference_price=parse_price("1"), source="manual",
                  notify=False, at=friday_2pm)
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # Saturday
    history = selectors.account_health_history(borrower, hours=6, points=6, now=now)
    by_time = dict(zip(history["t"], history["hf"]))
    assert by_time[int(datetime(2026, 11, 21, 6, 0, tzinfo=UTC).timestamp())] == pytest.approx(1.04)
    assert history["closed"] and all(b > a for a, b in history["closed"])
