"""US equity market hours as Schwab publishes them (GET /marketdata/v1/markets?markets=equity).

The answer gives the day's session intervals (preMarket, regularMarket, postMarket) or
`isOpen: false` on a holiday. The engine asks `open_at(now)` synchronously before each order,
so the answer is cached and refreshed in the background every minute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tui_trader.venues.schwab.convert import parse_time

Interval = tuple[datetime, datetime]


@dataclass(slots=True)
class MarketHours:
    known: bool = False
    day: date | None = None
    regular: list[Interval] = field(default_factory=list)
    extended: list[Interval] = field(default_factory=list)  # pre- and post-market

    def update(self, body: dict[str, Any]) -> None:
        """Read the `equity` part of a markets answer (its one product, usually "EQ")."""
        products = (body.get("equity") or {}).values()
        hours = next(iter(products), None)
        self.regular, self.extended = [], []
        if hours is not None:
            self.day = date.fromisoformat(str(hours.get("date"))) if hours.get("date") else None
            sessions = hours.get("sessionHours") or {}
            if hours.get("isOpen", False):
                self.regular = [_interval(i) for i in sessions.get("regularMarket") or []]
                self.extended = [_interval(i) for k in ("preMarket", "postMarket") for i in sessions.get(k) or []]
        self.known = True

    def open_at(self, now: datetime) -> bool:
        """The regular session is open at `now` (unknown: closed)."""
        return any(start <= now < end for start, end in self.regular)

    def extended_at(self, now: datetime) -> bool:
        return any(start <= now < end for start, end in self.extended)


def _interval(raw: dict[str, Any]) -> Interval:
    return parse_time(raw.get("start")), parse_time(raw.get("end"))
