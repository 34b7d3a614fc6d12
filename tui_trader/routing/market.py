"""What routing knows of one venue for one symbol at one moment, and the fees it charges."""

from __future__ import annotations

from dataclasses import dataclass

from tui_trader.core.instrument import Instrument
from tui_trader.core.market import OrderBook, Ticker

Level = tuple[float, float]  # (price, size)


@dataclass(frozen=True, slots=True)
class FeeRates:
    maker: float
    taker: float

    def as_list(self) -> list[float]:
        return [self.maker, self.taker]


@dataclass(frozen=True, slots=True)
class VenueMarket:
    """One venue's market for a symbol: its quote, book, fees and whether it can be used now.

    `problem` says why an order may not go there now (disconnected, a silent stream, a stale
    book, live and not armed ...); empty when it may. `age_s` is how long ago its last book or
    quote for the symbol reached us."""

    venue: str
    kind: str
    state: str
    instrument: Instrument | None
    ticker: Ticker | None
    book: OrderBook | None
    fees: FeeRates
    age_s: float | None = None
    problem: str = ""

    @property
    def usable(self) -> bool:
        return not self.problem

    def bids(self) -> tuple[Level, ...]:
        """Bids best first: the book, else the quote's top as one level."""
        if self.book is not None and self.book.bids:
            return self.book.bids
        t = self.ticker
        return ((t.bid, t.bid_size or 0.0),) if t is not None and t.bid > 0 else ()

    def asks(self) -> tuple[Level, ...]:
        if self.book is not None and self.book.asks:
            return self.book.asks
        t = self.ticker
        return ((t.ask, t.ask_size or 0.0),) if t is not None and t.ask > 0 else ()

    def best_bid(self) -> Level | None:
        levels = self.bids()
        return levels[0] if levels else None

    def best_ask(self) -> Level | None:
        levels = self.asks()
        return levels[0] if levels else None

    @property
    def quote_currency(self) -> str:
        return self.instrument.quote if self.instrument is not None else ""
