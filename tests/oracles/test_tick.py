"""oracles.services.feeds_tick: GBM while open, frozen reference and drifting token while shut, jump at the
open, replay from shipped bars, manual feeds untouched, chainlink via web3."""
import pytest

from markets.models import Asset
from oracles.models import OracleFeed, OracleRound
from oracles.services import feeds_tick, oracle_shock
from tests.factories import make_universe, make_user
from tests.core.test_clock import et

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
    from tests.oracles.test_chainlink import SOURCE

    import vyper
    from web3 import EthereumTesterProvider, Web3

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
