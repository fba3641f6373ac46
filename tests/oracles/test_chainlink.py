"""Chainlink latestRoundData() read through web3 from an in-process EVM, contract compiled at test time."""
import pathlib

import pytest
import vyper
from web3 import EthereumTesterProvider, Web3

from oracles.chainlink import ChainlinkError, read_latest_round

SOURCE = (pathlib.Path(__file__).parent / "contracts" / "MockAggregator.vy").read_text()


@pytest.fixture(scope="module")
def chain():
    out = vyper.compile_code(SOURCE, output_formats=["abi", "bytecode"])
    w3 = Web3(EthereumTesterProvider())
    w3.eth.default_account = w3.eth.accounts[0]

    def deploy(decimals, initial):
        contract = w3.eth.contract(abi=out["abi"], bytecode=out["bytecode"])
        receipt = w3.eth.wait_for_transaction_receipt(contract.constructor(decimals, initial).transact())
        return w3.eth.contract(address=receipt.contractAddress, abi=out["abi"])

    return w3, deploy


def test_reads_and_rescales_to_8_decimals(chain):
    w3, deploy = chain
    feed = deploy(8, 25_012_345_678)
    first = read_latest_round(w3, feed.address)
    assert (first.round_id, first.price) == (1, 25_012_345_678)
    w3.eth.wait_for_transaction_receipt(feed.functions.push(22_500_000_000).transact())
    second = read_latest_round(w3, feed.address)
    assert (second.round_id, second.price) == (2, 22_500_000_000)
    feed18 = deploy(18, 250 * 10**18 + 10**9)
    assert read_latest_round(w3, feed18.address).price == 250 * 10**8


def test_non_positive_answer_is_refused(chain):
    w3, deploy = chain
    feed = deploy(8, 0)
    with pytest.raises(ChainlinkError):
        read_latest_round(w3, feed.address)


def test_wrong_address_is_a_feed_error(chain):
    w3, _ = chain
    with pytest.raises(ChainlinkError):
        read_latest_round(w3, "0x" + "12" * 20)
