"""Client order ids: unique across restarts, sortable by creation time.

Letters and digits only, 18 characters: every venue accepts that (OKX allows no dashes,
Kraken's free-text ids stop at 18 characters, Bybit at 36, KuCoin at 40)."""

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
    """`tt` + base36 milliseconds (8) + session (4 hex) + base36 sequence (4, longer after 1.6M)."""

    def __init__(self, clock: Clock, prefix: str = "tt") -> None:
        self.clock = clock
        self.prefix = prefix
        self._seq = itertools.count(1)
        self._session = secrets.token_hex(2)  # distinguishes restarts within one millisecond

    def __call__(self) -> str:
        ms = int(self.clock.now().timestamp() * 1000)
        return f"{self.prefix}{_base36(ms):0>8}{self._session}{_base36(next(self._seq)):0>4}"

    def minted(self, client_order_id: str) -> bool:
        """True for an id this generator made (so it cannot be an old one from the database)."""
        n = len(self.prefix) + 8
        return client_order_id.startswith(self.prefix) and client_order_id[n : n + 4] == self._session
