"""common.memo.BoundedMemo: keeps what it is given, never more than its size, by emptying itself when full."""
from common.memo import BoundedMemo


def test_keeps_and_returns_values_and_empties_when_full():
    memo = BoundedMemo(3)
    assert [memo.keep(k, k * 10) for k in (1, 2, 3)] == [10, 20, 30]
    assert memo == {1: 10, 2: 20, 3: 30}
    assert memo.keep(4, 40) == 40
    assert memo == {4: 40}  # emptied, then kept
    memo.keep(4, 41)
    assert len(memo) == 1 and memo[4] == 41
