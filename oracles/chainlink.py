"""Chainlink AggregatorV3Interface.latestRoundData() over web3 (no Django)."""
from __future__ import annotations

from dataclasses import dataclass

AGGREGATOR_V3_ABI = [
    {"name": "decimals", "type": "function", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "uint8"}]},
    {"name": "latestRoundData", "type": "function", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "roundId", "type": "uint80"}, {"name": "answer", "type": "int256"},
                 {"name": "startedAt", "type": "uint256"}, {"name": "updatedAt", "type": "uint256"},
                 {"name": "answeredInRound", "type": "uint80"}]},
]


@dataclass(frozen=True)
class ChainlinkRound:
    round_id: int
    price: int  # rescaled to 8 decimals
    updated_at: int


class ChainlinkError(Exception):
    pass


def web3_for(rpc_url: str):
    from web3 import Web3

    return Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 5}))


def read_latest_round(w3, address: str) -> ChainlinkRound:
    """Read and sanity-check the latest round (answer > 0, answeredInRound >= roundId)."""
    from web3 import Web3

    try:
        feed = w3.eth.contract(address=Web3.to_checksum_address(address), abi=AGGREGATOR_V3_ABI)
        decimals = feed.functions.decimals().call()
        round_id, answer, _, updated_at, answered_in = feed.functions.latestRoundData().call()
    except Exception as exc:  # noqa: BLE001 - any RPC or ABI failure is a feed failure
        raise ChainlinkError(f"latestRoundData failed: {exc}") from exc
    if answer <= 0 or answered_in < round_id or updated_at == 0:
        raise ChainlinkError("incomplete or non-positive round")
    price = answer * 10**8 // 10**decimals if decimals >= 8 else answer * 10 ** (8 - decimals)
    return ChainlinkRound(round_id=round_id, price=price, updated_at=updated_at)
