"""Market data: candles, tickers, trades, order-book snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tui_trader.core.enums import Side


@dataclass(frozen=True, slots=True)
class Candle:
    symbol: str
    timeframe: str  # "1m", "5m", "1h" ...
    open_time: datetime  # UTC, start of the bar
    open: float
    high: float
    low: float
    close: float
    volume: float
    closed: bool = True


@dataclass(frozen=True, slots=True)
class Ticker:
    venue: str
    symbol: str
    ts: datetime
    bid: float
    ask: float
    last: float
    bid_size: float = 0.0
    ask_size: float = 0.0
    open_24h: float = 0.0  # reference for change %
    volume_24h: float = 0.0
    # Derivatives: the venue's mark price (what margin and unrealised P&L use, not the last
    # trade), its index (the spot price it tracks), and the funding rate of the next funding
    # time (perpetuals).
    mark_price: float = 0.0
    index_price: float = 0.0
    funding_rate: float | None = None
    next_funding: datetime | None = None

    @property
    def mark(self) -> float:
        """The price positions are valued at: the venue's mark price when it has one, else the mid."""
        return self.mark_price or self.mid

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2 if self.bid and self.ask else self.last

    @property
    def change_pct(self) -> float:
        return (self.last / self.open_24h - 1.0) if self.open_24h else 0.0


@dataclass(frozen=True, slots=True)
class TradePrint:
    venue: str
    symbol: str
    ts: datetime
    price: float
    size: float
    aggressor: Side


@dataclass(frozen=True, slots=True)
class OrderBook:
    """A snapshot: bids best first (descending), asks best first (ascending)."""

    venue: str
    symbol: str
    ts: datetime
    bids: tuple[tuple[float, float], ...]
    asks: tuple[tuple[float, float], ...]

    @property
    def best_bid(self) -> float | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> float | None:
        return self.asks[0][0] if self.asks else None

    @property
    def mid(self) -> float | None:
        if self.bids and self.asks:
            return (self.bids[0][0] + self.asks[0][0]) / 2
        return None

    @property
    def spread(self) -> float | None:
        if self.bids and self.asks:
            return self.asks[0][0] - self.bids[0][0]
        return None
