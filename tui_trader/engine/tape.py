"""Time and sales: the latest trade prints per market, for the tape pane and `market.trades`.

An in-line bus handler (it sees every print, even when screens only get the latest ticker)
appends to a bounded deque per (venue, symbol); reading copies only what is asked for.
"""

from __future__ import annotations

from collections import deque

from tui_trader.core.events import Event, TradeEvent
from tui_trader.core.market import TradePrint

PRINTS_KEPT = 500


class TradeTape:
    def __init__(self, size: int = PRINTS_KEPT) -> None:
        self.size = size
        self._prints: dict[tuple[str, str], deque[TradePrint]] = {}

    def on_event(self, event: Event) -> None:
        if isinstance(event, TradeEvent):
            t = event.trade
            prints = self._prints.get((t.venue, t.symbol))
            if prints is None:
                prints = self._prints[(t.venue, t.symbol)] = deque(maxlen=self.size)
            prints.append(t)

    def recent(self, venue: str, symbol: str, limit: int = 100) -> list[TradePrint]:
        """The latest `limit` prints, newest first."""
        prints = self._prints.get((venue, symbol))
        if not prints:
            return []
        n = min(limit, len(prints))
        return [prints[-1 - i] for i in range(n)]
