"""oracles.services.feeds_tick: GBM while open, frozen reference and drifting token while shut, jump at the
open, replay from shipped bars, manual feeds untouched, chainlink via web3."""
import pytest

from markets.models import Asset
from oracles.models import OracleFeed, OracleRound
from oracles.services import feeds_tick, oracle_shock
from tests.core.test_clock import et
from tests.factories import make_universe, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def feeds():
    make_universe()
    OracleFeed.objects.exclude(asset__kind="stablecoin").update(source="simulated")


def latest(symbol):
    return OracleFeed.objects.select_related("latest_round").get(asset__symbol=symbol).latest_round


def test_open_market_moves_reference_closed_market_freezes_it(feeds):
    feeds_tick(now=et("2024-11-26 10:00"), seed=1)
    feeds_tick(now=et("2024-11-26 10:30"), seed=2)
    assert latest("TSLAx").reference_price != OracleRound.objects.filter(asset__symbol="TSLAx").order_by("id")[0] \
        .reference_price
    feeds_tick(now=et("2024-11-30 12:00"), seed=3)
    saturday = latest("TSLAx")
    feeds_tick(now=et("2024-11-30 13:00"), seed=4)
    later = latest("TSLAx")
    assert later.reference_price == saturday.reference_price
    assert later.token_price != saturday.token_price  # the 24/7 token keeps trading
    assert latest("USDC").source == "manual" and latest("USDC").reference_price == 10**8


def test_next_open_shock_applies_at_the_open(feeds):
    feeds_tick(now=et("2024-11-30 12:00"), seed=5)
    before = latest("NVDAx").reference_price
    oracle_shock(asset=Asset.objects.get(symbol="NVDAx"), percent_bps=-2_000, at="next_open",
                 actor=make_user(staff=True))
    assert latest("NVDAx").reference_price == before
    feeds_tick(now=et("2024-12-02 09:31"), seed=6)
    after = latest("NVDAx").reference_price
    assert after < before * 0.9  # -20% plus a real gap and a minute of GBM


def test_replay_walks_the_shipped_bars(feeds):
    OracleFeed.objects.filter(asset__symbol="SPYx").update(source="replay", config={"ticker": "SPY", "cursor": 0})
    feeds_tick(now=et("2024-11-26 10:00"), seed=1)
    assert latest("SPYx").reference_price == round(float("146.25") * 10**8) or latest("SPYx").reference_price > 0
    feed = OracleFeed.objects.get(asset__symbol="SPYx")
    assert feed.config["cursor"] == 1 and feed.config["label"] == "1999-12-31 open"


def test_chainlink_feed_through_web3(feeds, monkeypatch):
    import vyper
    from web3 import EthereumTesterProvider, Web3

    from tests.oracles.test_chainlink import SOURCE

    out = vyper.compile_code(SOURCE, output_formats=["abi", "bytecode"])
    w3 = Web3(EthereumTesterProvider())
    w3.eth.default_account = w3.eth.accounts[0]
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.contract(abi=out["abi"], bytecode=out["bytecode"]).constructor(8, 41_000_000_000).transact())
    monkeypatch.setattr("oracles.chainlink.web3_for", lambda url: w3)
    OracleFeed.objects.filter(asset__symbol="TSLAx").update(
        source="chainlink", config={"rpc_url": "http://127.0.0.1:8545", "address": receipt.contractAddress})
    feeds_tick(now=et("2024-11-26 10:00"), seed=1)
    assert latest("TSLAx").reference_price == 41_000_000_000
    count = OracleRound.objects.filter(asset__symbol="TSLAx").count()
    feeds_tick(now=et("2024-11-26 10:01"), seed=1)  # same on-chain round: nothing new
    assert OracleRound.objects.filter(asset__symbol="TSLAx").count() == count


@pytest.fixture
def broker(transactional_db, redis_up):
    """Committed data (on_commit runs as live) and an empty Redis broker db whose messages the test counts."""
    import redis

    from config.celery_app import app
    from tests.conftest import reset_broker_connections

    client = redis.Redis.from_url(app.conf.broker_url)
    reset_broker_connections()
    client.flushdb()
    yield client
    reset_broker_connections()
    client.flushdb()


def scans_queued(client) -> list[dict]:
    """The kwargs of every lending.scan_accounts message waiting in the broker (nobody consumes them here)."""
    import base64
    import json

    found = []
    for raw in client.lrange("liquidations", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == "lending.scan_accounts":
            found.append(json.loads(base64.b64decode(message["body"]))[1])
    return found


def test_a_tick_sends_one_scan_and_a_tick_that_moves_nothing_sends_none(broker, monkeypatch):
    from core import profiles
    from oracles.selectors import prices_moved_since

    make_universe()
    OracleFeed.objects.exclude(asset__kind="stablecoin").update(source="simulated")
    feeds_tick(now=et("2024-11-26 10:00"), seed=1)  # each feed starts its clock
    broker.flushdb()
    rounds = OracleRound.objects.count()
    published = feeds_tick(now=et("2024-11-26 10:30"), seed=2)  # open: every stock moves, one round each
    moved = [r for r in OracleRound.objects.order_by("-pk")[:published]
             if r.reference_price != OracleRound.objects.filter(asset=r.asset, pk__lt=r.pk)[0].reference_price]
    assert published >= 5 and len(moved) >= 5
    newest = OracleRound.objects.order_by("-pk").first()
    assert scans_queued(broker) == [{"round_key": f"round-{newest.pk}", "oracle_round_id": newest.pk}]

    monkeypatch.setattr(profiles, "advance", lambda params, st, **kwargs: dict(st))  # a minute, nothing trades
    assert feeds_tick(now=et("2024-11-26 10:31"), seed=3) == published  # heartbeat rounds, still published
    assert OracleRound.objects.count() == rounds + 2 * published
    assert len(scans_queued(broker)) == 1  # and no scan for them
    assert not prices_moved_since(newest.pk)  # so the first tick's scan does not stand aside for them
    feeds_tick(now=et("2024-11-26 10:32"), seed=4)
    assert len(scans_queued(broker)) == 1  # still nothing moved

    monkeypatch.undo()
    feeds_tick(now=et("2024-11-26 10:33"), seed=5)
    assert len(scans_queued(broker)) == 2 and prices_moved_since(newest.pk)


def test_issuer_profiles_drive_the_simulated_feed(feeds):
    for hour in ("2024-11-22 15:00", "2024-11-23 12:00", "2024-11-23 13:00"):  # Friday open, then Saturday
        feeds_tick(now=et(hour), seed=len(hour) + int(hour[-5:-3]))
    rh_fri, rh_sat = list(OracleRound.objects.filter(asset__symbol="AMZNrh").order_by("-id")[:2])[::-1]
    assert rh_sat.token_price == rh_fri.token_price  # 24/5: no token market on a Saturday
    xyz = latest("NVDAxyz")
    assert abs(xyz.token_price - xyz.reference_price) * 10 <= xyz.reference_price  # inside +/- 1/10x
    assert latest("SPACEXpre").token_price == latest("SPACEXpre").reference_price  # Jarsy: 1:1 valuation
    feed = OracleFeed.objects.get(asset__symbol="NVDAxyz")
    assert feed.config["profile_state"]["round"] == xyz.pk  # the profile's state carries over between ticks
