# pragma version ~=0.4.0
# A Chainlink AggregatorV3Interface stand-in for tests: the owner pushes answers, readers see rounds.

decimals: public(uint8)
description: public(String[64])
version: public(uint256)
round_id: uint80
answer: int256
updated_at: uint256


@deploy
def __init__(_decimals: uint8, _initial: int256):
    self.decimals = _decimals
    self.description = "MOCK / USD"
    self.version = 4
    self.round_id = 1
    self.answer = _initial
    self.updated_at = block.timestamp


@external
def push(_answer: int256):
    self.round_id += 1
    self.answer = _answer
    self.updated_at = block.timestamp


@view
@external
def latestRoundData() -> (uint80, int256, uint256, uint256, uint80):
    return (self.round_id, self.answer, self.updated_at, self.updated_at, self.round_id)
