"""Client order ids: unique across restarts, sortable by creation time."""

from __future__ import annotations

import itertools
import secrets

from tui_trader.core.clock import Clock

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _ALPHABET[r] + out
        if n == 0:
            return out


class ClientOrderIds:
    def __init__(self, clock: Clock, prefix: str = "tt") -> None:
        self.clock = clock
        self.prefix = prefix
        self._seq = itertools.count(1)
        self._session = secrets.token_hex(2)  # distinguishes restarts within one millisecond

    def __call__(self) -> str:
        ms = int(self.clock.now().timestamp() * 1000)
        return f"{self.prefix}-{_base36(ms)}-{self._session}{next(self._seq):04d}"
