"""Worker progress posted to the UI at most `hz` times a second (call_from_thread blocks the
worker until the UI has run the callback, so every post costs the search time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class Throttle:
    """Calls `post(value)` for the first value, then at most every 1/hz seconds; `flush` sends
    the last value held back so the final state is always shown."""

    def __init__(self, post: Callable[[Any], object], hz: float = 5.0) -> None:
        self.post = post
        self.interval = 1.0 / hz
        self._last = float("-inf")
        self._pending: Any = None
        self._has_pending = False

    def __call__(self, value: Any) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._has_pending = False
            self.post(value)
        else:
            self._pending, self._has_pending = value, True

    def flush(self) -> None:
        if self._has_pending:
            self._has_pending = False
            self.post(self._pending)
