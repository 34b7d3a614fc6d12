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
        self._issued = 0
        self._session = secrets.token_hex(2)  # distinguishes restarts within one millisecond
        self._floor = ""  # the newest stored id's milliseconds (`after`): a minted id is later

    def __call__(self) -> str:
        ms = int(self.clock.now().timestamp() * 1000)
        self._issued = next(self._seq)
        return f"{self.prefix}{_base36(ms):0>8}{self._session}{_base36(self._issued):0>4}"

    def after(self, newest: str | None) -> None:
        """The newest id with our prefix the database held at start (None: none). An id made
        in a millisecond after its own cannot be in the database from before (`minted`),
        whatever the clock did between two runs (a clock set back, a frozen test clock)."""
        n = len(self.prefix)
        self._floor = newest[n : n + 8] if newest and newest.startswith(self.prefix) else ""

    def minted(self, client_order_id: str) -> bool:
        """True for an id this generator made, in a millisecond after every id stored before it
        started (`after`): no order of an earlier run can have it, and this run's orders have
        only the ids it made (a caller's own id is looked up before it is used), so it is new
        unless this run has an order with it. The database need not be asked."""
        n = len(self.prefix)
        if not (client_order_id.startswith(self.prefix) and client_order_id[n + 8 : n + 12] == self._session):
            return False
        try:
            seq = int(client_order_id[n + 12 :], 36)
        except ValueError:  # not one of ours after all
            return False
        return client_order_id[n : n + 8] > self._floor and 0 < seq <= self._issued
