"""A process's memo of at most `size` entries, emptied when full rather than tracked.

The hot paths keep answers whose keys move on (a market's row and second, an Accept header, a log line): old keys are
rarely asked for again, and clients can choose new ones, so a memo that only grows would be a leak. Emptying it when
full costs one rebuild of what is still in use; an LRU's bookkeeping on every hit would cost more."""


class BoundedMemo(dict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def keep(self, key, value):
        """Store `value` under `key` (emptying the memo first if it is full) and return it."""
        if len(self) >= self.size:
            self.clear()
        self[key] = value
        return value
