"""Fill ids already reported, so a fill read twice (a stream and a reconcile, a duplicate
message) is reported once. The newest `limit` ids are kept."""

from __future__ import annotations

from collections import deque

SEEN_FILLS = 10_000


class SeenIds:
    def __init__(self, limit: int = SEEN_FILLS) -> None:
        self.limit = limit
        self._ids: set[str] = set()
        self._order: deque[str] = deque()
        self.repeats = 0

    def first(self, key: str) -> bool:
        """True the first time `key` is seen (it is remembered), False after (counted)."""
        if key in self._ids:
            self.repeats += 1
            return False
        self._ids.add(key)
        self._order.append(key)
        if len(self._order) > self.limit:
            self._ids.discard(self._order.popleft())
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._ids
