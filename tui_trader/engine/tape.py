"""Time and sales: the latest trade prints per market, for the tape pane and `market.trades`.

An in-line bus handler (it sees every print, even when screens only get the latest ticker)
appends to a bounded deque per (venue, symbol); reading copies only what is asked for. A span
after an outage the venue's history could not give back (a venue's `holes`) is a row of its
own among the prints (`with_holes`), where the prints are missing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from tui_trader.core.encoding import to_jsonable
from tui_trader.core.events import Event, TradeEvent
from tui_trader.core.market import TradePrint

PRINTS_KEPT = 500


class Hole(Protocol):
    """A span a venue's backfill could not reach (`venues.backfill.Hole`)."""

    symbol: str
    what: str
    start_ms: int
    end_ms: int


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


def with_holes(prints: list[TradePrint], holes: Iterable[Hole]) -> list[dict[str, Any]]:
    """`prints` (newest first) as JSON rows, with a row `{"gap": true, "from", "to", "ts"}` for
    each trades hole of their symbol that ends within them, below the prints after it."""
    rows: list[tuple[datetime, dict[str, Any]]] = [(p.ts, to_jsonable(p)) for p in prints]
    if not prints:
        return []
    oldest = prints[-1].ts
    for hole in holes:
        end = datetime.fromtimestamp(hole.end_ms / 1000, UTC)
        if hole.what == "trades" and hole.symbol == prints[0].symbol and end > oldest:
            start = datetime.fromtimestamp(hole.start_ms / 1000, UTC)
            gap = {"gap": True, "from": to_jsonable(start), "to": to_jsonable(end), "ts": to_jsonable(end)}
            at = next((i for i, (ts, _) in enumerate(rows) if ts < end), len(rows))
            rows.insert(at, (end, gap))
    return [row for _, row in rows]
