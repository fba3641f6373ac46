"""Oracle faults: a feed that goes stale, one that jumps 50%, one that reads zero. Reads keep being served,
what must be refused is refused with a clear error, the feed recovers by itself with its next good price, and
the books stay balanced (no liquidation lost or doubled)."""
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from lending import services
from lending.keeper import keeper_run
from lending.models import LedgerEntry, LiquidationEvent
from markets.models import Asset, Reserve
from oracles.models import OracleFeed, OracleRound
from oracles.services import feeds_tick, round_publish
from tests.core.test_clock import et
from tests.factories import (
    api_client,
    fund_and_supply,
    ledger_mismatches,
    make_account,
    make_universe,
    make_user,
    set_price,
)

pytestmark = [pytest.mark.django_db, pytest.mark.fault]
E6 = 10**6
TUESDAY_NOON = et("2027-03-02 12:00")  # NYSE open: a price that does not move for an hour is stale


def borrowers(n: int, debt_usd: int):
    """n accounts with 10 TSLAx at $250 supplied and debt_usd of USDC borrowed."""
    make_universe()
    set_price("TSLAx", "250")
    out = []
    for _ in range(n):
        account = make_account()
        fund_and_supply(account, "TSLAx", "10")
        services.account_borrow(account=account, symbol="USDC", amount=debt_usd * E6)
        out.append(account)
    return out


def test_a_stale_feed_refuses_borrowing_serves_reads_and_recovers():
    (account,) = borrowers(1, 500)
    client = api_client(account.user)
    tsla = Asset.objects.get(symbol="TSLAx")
    OracleFeed.objects.filter(asset=tsla).update(source="chainlink", heartbeat_seconds=3600,
                                                 last_changed_at=TUESDAY_NOON - timedelta(hours=3))
    ledger_before = LedgerEntry.objects.count()
    with mock.patch("django.utils.timezone.now", return_value=TUESDAY_NOON):
        price = client.get("/api/v1/oracle/prices/TSLAx/")
        assert price.status_code == 200 and "stale" in price.json()["flags"]
        assert client.get("/api/v1/account/").status_code == 200
        refused = client.post("/api/v1/account/borrow/", {"asset": "USDC", "amount": "10"}, format="json")
        assert refused.status_code in (409, 422) and "stale" in refused.json()["error"]["message"].lower()
        assert LedgerEntry.objects.count() == ledger_before  # nothing changed
        metrics = api_client(make_user(staff=True)).get("/metrics").content.decode()
        assert 'oracle_feed_flag{asset="TSLAx",flag="stale"} 1.0' in metrics
        # the feed's next good price: borrowing works again, nobody had to intervene
        round_publish(asset=tsla, reference_price=251 * 10**8, token_price=251 * 10**8, source="chainlink",
                      notify=False, at=TUESDAY_NOON)
        assert "stale" not in client.get("/api/v1/oracle/prices/TSLAx/").json()["flags"]
        ok = client.post("/api/v1/account/borrow/", {"asset": "USDC", "amount": "10"}, format="json")
        assert ok.status_code == 200, ok.content
    assert not ledger_mismatches()


def test_a_50_percent_jump_liquidates_each_account_once_and_books_the_bad_debt():
    accounts = borrowers(4, 1_300)  # $2,500 of collateral each: at $125 it no longer covers the $1,300 debt
    staff = api_client(make_user(staff=True))
    r = staff.post("/api/v1/admin/oracle/TSLAx/price/", {"price": "125", "reason": "feed jumped -50%"},
                   format="json")
    assert r.status_code in (200, 201, 202)  # within 10x of the last price: no confirmation needed
    ids = [a.pk for a in accounts]
    rnd = OracleRound.objects.filter(asset__symbol="TSLAx").order_by("-id").first()
    keeper_run(account_ids=ids, round_key=str(rnd.pk), oracle_round_id=rnd.pk)
    keeper_run(account_ids=ids, round_key=str(rnd.pk), oracle_round_id=rnd.pk)  # delivered twice: acts once
    counts = Counter(LiquidationEvent.objects.values_list("account_id", flat=True))
    assert set(counts) == set(ids) and set(counts.values()) == {1}
    deficit = Reserve.objects.get(asset__symbol="USDC").deficit
    assert deficit > 0  # the collateral ran out: the rest of the debt is the reserve's deficit, not lost
    assert api_client().get("/api/v1/markets/USDC/").json()["deficit"] not in ("0", 0)
    assert not ledger_mismatches()


def test_a_feed_reading_zero_is_refused_and_the_other_feeds_keep_ticking():
    (account,) = borrowers(1, 500)
    tsla, aapl = Asset.objects.get(symbol="TSLAx"), Asset.objects.get(symbol="AAPLx")
    OracleFeed.objects.filter(asset__in=[tsla, aapl]).update(source="replay", config={})
    before = {a.symbol: OracleFeed.objects.get(asset=a).latest_round_id for a in (tsla, aapl)}

    def series(ticker):
        return [("2024-01-02 open", 0)] if ticker == "TSLA" else [("2024-01-02 open", 187 * 10**8)]

    with mock.patch("oracles.sources.replay_prices", side_effect=series):
        feeds_tick(now=timezone.now())
    after = {a.symbol: OracleFeed.objects.get(asset=a).latest_round_id for a in (tsla, aapl)}
    assert after["TSLAx"] == before["TSLAx"]  # the zero never became a round
    assert after["AAPLx"] != before["AAPLx"]  # one bad feed does not stop the others
    assert not OracleRound.objects.filter(reference_price__lte=0).exists()
    assert api_client(account.user).get("/api/v1/account/").status_code == 200
    staff = api_client(make_user(staff=True))
    zero = staff.post("/api/v1/admin/oracle/TSLAx/price/", {"price": "0", "reason": "typo"}, format="json")
    assert zero.status_code == 400 and zero.json()["error"]["field"] == "price"
    assert not LiquidationEvent.objects.exists() and not ledger_mismatches()
