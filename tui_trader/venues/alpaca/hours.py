"""US stock market hours from Alpaca's clock endpoint, cached so the engine can ask synchronously.

The engine's pre-trade check calls `market_open(symbol, now)` without awaiting; the clock
answer (is_open, next_open, next_close) is enough to know the state until the next boundary,
so we refresh it in the background and at each boundary instead of per order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tui_trader.venues.alpaca.convert import utc


@dataclass(slots=True)
class MarketClock:
    is_open: bool = False
    next_open: datetime | None = None
    next_close: datetime | None = None
    known: bool = False

    def update(self, clock: object) -> None:
        self.is_open = bool(getattr(clock, "is_open", False))
        self.next_open = utc(getattr(clock, "next_open", None))
        self.next_close = utc(getattr(clock, "next_close", None))
        self.known = True

    def open_at(self, now: datetime) -> bool:
        """Regular session open at `now` (extrapolated from the last answer; unknown: closed)."""
        if not self.known:
            return False
        if self.is_open:
            return self.next_close is None or now < self.next_close
        return self.next_open is not None and now >= self.next_open

    def stale_at(self, now: datetime) -> bool:
        """A boundary has passed since the last answer: ask again."""
        boundary = self.next_close if self.is_open else self.next_open
        return not self.known or (boundary is not None and now >= boundary)
