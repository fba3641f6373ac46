"""oracles.selectors.oracle_read: haircuts during closures, stale semantics, manual pinning, depeg."""
from datetime import timedelta

import pytest

from markets.models import Asset
from oracles.models import HaircutPolicy, OracleFeed
from oracles.selectors import oracle_read, shocked_read
from oracles.services import round_publish
from tests.core.test_clock import et
from tests.factories import make_universe, set_price

pytestmark = pytest.mark.django_db
SATURDAY = et("2024-11-23 12:00")
TUESDAY_NOON = et("2024-11-26 12:00")


@pytest.fixture
def tsla():
    make_universe(haircuts=True)
    set_price("TSLAx", "250")
    return Asset.objects.get(symbol="TSLAx")


def test_closed_market_haircut_lowers_effective_price(tsla):
    read = oracle_read(tsla, at=SATURDAY)
    assert read.closure_kind == "weekend" and not read.is_open
    assert read.haircut_bps > 0
    assert read.effective_price == read.reference_price * (10_000 - read.haircut_bps) // 10_000
    assert read.ltv_price == read.effective_price
    assert read.lt_price == read.reference_price  # threshold haircut is off by default
    assert oracle_read(tsla, at=TUESDAY_NOON).haircut_bps == 0


def test_fixed_policy_and_threshold_option(tsla):
    HaircutPolicy.objects.filter(asset=tsla).update(mode="fixed", fixed_bps={"weekend": 750},
                                                    apply_to_liquidation_threshold=True)
    read = oracle_read(tsla, at=SATURDAY)
    assert read.haircut_bps == 750
    assert read.lt_price == 250 * 10**8 * 9_250 // 10_000


def test_stale_means_unchanged_price_while_open(tsla):
    OracleFeed.objects.filter(asset=tsla).update(source="simulated", heartbeat_seconds=3600)
    feed = OracleFeed.objects.get(asset=tsla)
    changed = feed.last_changed_at
    # the same price republished keeps its age: a refreshed timestamp is not a fresh price
    round_publish(asset=tsla, reference_price=250 * 10**8, token_price=250 * 10**8, source="simulated",
                  notify=False, at=changed + timedelta(hours=5))
    open_later, closed_later = et("2027-03-02 12:00"), et("2027-03-06 12:00")  # a Tuesday and a Saturday
    assert "stale" in oracle_read(tsla, at=open_later).flags
    assert "stale" not in oracle_read(tsla, at=closed_later).flags  # a closed market's price is not stale


def test_manual_price_is_never_stale_or_depegged(tsla):
    round_publish(asset=tsla, reference_price=250 * 10**8, token_price=200 * 10**8, source="manual", notify=False)
    read = oracle_read(tsla, at=et("2027-03-02 12:00"))
    assert read.flags == () and read.token_price == read.reference_price


def test_depeg_flag_on_simulated_feed(tsla):
    OracleFeed.objects.filter(asset=tsla).update(source="simulated", heartbeat_seconds=10**9)
    round_publish(asset=tsla, reference_price=250 * 10**8, token_price=240 * 10**8, source="simulated",
                  notify=False)
    assert "depeg" in oracle_read(tsla, at=SATURDAY).flags


def test_pause_when_closed_and_reopen_grace(tsla):
    HaircutPolicy.objects.filter(asset=tsla).update(pause_liquidations_when_closed=True, reopen_grace_seconds=900)
    assert oracle_read(tsla, at=SATURDAY).liquidations_paused
    just_opened = et("2024-11-25 09:35")
    read = oracle_read(tsla, at=just_opened)
    assert not read.liquidations_paused and read.grace_until == et("2024-11-25 09:45")
    assert oracle_read(tsla, at=et("2024-11-25 10:00")).grace_until is None


def test_pre_ipo_is_always_closed_with_a_wide_haircut():
    make_universe(haircuts=True)
    read = oracle_read(Asset.objects.get(symbol="SPACEXpre"), at=TUESDAY_NOON)
    assert not read.is_open and read.haircut_bps >= 500


def _simulated(symbol: str, reference: int, token: int) -> Asset:
    asset = Asset.objects.get(symbol=symbol)
    OracleFeed.objects.filter(asset=asset).update(source="simulated", heartbeat_seconds=10**9)
    round_publish(asset=asset, reference_price=reference * 10**8, token_price=token * 10**8, source="simulated",
                  notify=False)
    return asset


def test_a_shocked_read_keeps_a_depeg_relative_to_the_shocked_reference(tsla):
    read = shocked_read(oracle_read(_simulated("TSLAx", 250, 240), at=SATURDAY), -2_000)  # xStocks, 4% under
    assert (read.reference_price, read.token_price) == (200 * 10**8, 192 * 10**8)
    assert "depeg" in read.flags and read.closure_kind == "weekend"
    assert read.effective_price == 200 * 10**8 * (10_000 - read.haircut_bps) // 10_000


def test_a_shocked_own_book_stays_inside_its_band(tsla):
    before = oracle_read(_simulated("NVDAxyz", 100, 91), at=SATURDAY)  # Trade.xyz 10x: band 90..110
    read = shocked_read(before, -2_000)
    assert (read.band_low, read.band_high) == (72 * 10**8, 88 * 10**8)  # +/-10% of the shocked reference
    assert read.band_low <= read.token_price == 7_280_000_000 <= read.band_high
    assert read.effective_price == min(read.token_price, 80 * 10**8 * (10_000 - read.haircut_bps) // 10_000)
    assert read.seize_price == read.token_price  # seized tokens sell into the (shocked) book


def test_a_shocked_24_5_token_still_has_no_market_at_weekends(tsla):
    read = shocked_read(oracle_read(_simulated("AMZNrh", 100, 97), at=SATURDAY), -2_000)
    assert read.live_token_price is None and not read.token_market_open and read.reference_price == 80 * 10**8
    assert read.token_price == 7_760_000_000 and "depeg" not in read.flags  # the last trade, shocked, unused
    assert read.effective_price == 80 * 10**8 * (10_000 - read.haircut_bps) // 10_000
