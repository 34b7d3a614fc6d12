"""What the engine shows: a copy of its state for screens and remote clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tui_trader.core.enums import ConnectionState
from tui_trader.core.fills import Fill
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import OrderBook, Ticker
from tui_trader.core.orders import Order
from tui_trader.core.positions import Position
from tui_trader.core.signals import Signal
from tui_trader.execution.portfolio import AccountSnapshot
from tui_trader.venues.base import StreamStatus, Venue


@dataclass(frozen=True, slots=True)
class HoleStatus:
    """A span of a symbol's history an outage left missing that the venue's history could not
    give back (a backfill said it in a notice): `what` is "trades" or "<timeframe> candles"."""

    symbol: str
    what: str
    start: datetime  # the first missing (a candle's open, a print's time)
    end: datetime  # the first there again
    timeframe: str = ""  # for candles
    detail: str = ""  # the notice's words


@dataclass(frozen=True, slots=True)
class VenueStatus:
    name: str
    kind: str
    state: ConnectionState
    is_live: bool
    detail: str = ""
    last_message_age: float | None = None
    streams: list[StreamStatus] = field(default_factory=list)  # each stream's own state
    rate_limited: str = ""  # the venue asked us to wait: for how long, until when
    holes: list[HoleStatus] = field(default_factory=list)  # what outages left missing, oldest first
    # its balances are not believed (why; "" when they are) and since when: orders adding to a
    # position there are refused (`cash_unknown`) until a read is (`Portfolio.unread`)
    cash_unknown: str = ""
    cash_unknown_since: datetime | None = None
    # a broker holding less than we count (`position_check.Disagreement.as_dict`: symbol, ours,
    # at_venue), as its last account read said
    positions_disagree: list[dict[str, str]] = field(default_factory=list)
    # its own cash per currency (`Portfolio.venue_cash`: its balances as last read, moved by its
    # fills and payments since): what its orders' balance check reads (the account's cash and
    # balances are the sums over venues)
    cash: dict[str, Decimal] = field(default_factory=dict)


@dataclass(slots=True)
class EngineSnapshot:
    """Everything a screen needs, copied so the UI never shares mutable state with the engine.

    Market state is keyed by venue, then symbol: two venues quoting BTC/USDT each keep their
    own instrument, ticker and book. `routes` names the venue an order for a symbol goes to
    when none is given; the accessors below default to it.
    """

    ts: datetime
    mode: str  # "paper" or "live"
    venues: list[VenueStatus]
    instruments: dict[str, dict[str, Instrument]]  # venue -> symbol -> instrument
    tickers: dict[str, dict[str, Ticker]]  # venue -> symbol -> latest quote
    books: dict[str, dict[str, OrderBook]]  # venue -> symbol -> latest book
    positions: list[Position]
    open_orders: list[Order]
    recent_orders: list[Order]
    fills: list[Fill]
    account: AccountSnapshot
    signals: list[Signal] = field(default_factory=list)
    halted: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    routes: dict[str, str] = field(default_factory=dict)  # symbol -> its default venue

    def venue_of(self, symbol: str, venue: str | None = None) -> str:
        """`venue` if given, else the venue orders for `symbol` go to, else the first quoting it."""
        if venue:
            return venue
        if symbol in self.routes:
            return self.routes[symbol]
        return next((v for v, insts in self.instruments.items() if symbol in insts), "")

    def instrument(self, symbol: str, venue: str | None = None) -> Instrument | None:
        return self.instruments.get(self.venue_of(symbol, venue), {}).get(symbol)

    def ticker(self, symbol: str, venue: str | None = None) -> Ticker | None:
        return self.tickers.get(self.venue_of(symbol, venue), {}).get(symbol)

    def book(self, symbol: str, venue: str | None = None) -> OrderBook | None:
        return self.books.get(self.venue_of(symbol, venue), {}).get(symbol)

    def symbols(self) -> list[str]:
        """Every symbol some venue lists, in venue order, each once."""
        return list(dict.fromkeys(s for insts in self.instruments.values() for s in insts))

    def markets(self) -> list[tuple[str, str]]:
        """Every (venue, symbol) pair listed or quoted."""
        pairs = [(v, s) for v, insts in self.instruments.items() for s in insts]
        pairs += [(v, s) for v, quotes in self.tickers.items() for s in quotes]
        return list(dict.fromkeys(pairs))

    def shared(self) -> set[str]:
        """Symbols more than one venue lists or quotes: the UI names the venue beside them."""
        seen: dict[str, int] = {}
        for _, symbol in self.markets():
            seen[symbol] = seen.get(symbol, 0) + 1
        return {s for s, n in seen.items() if n > 1}


def venue_streams(venue: Venue) -> list[StreamStatus]:
    """The venue's streams and their states, where the adapter watches each (ccxt, Alpaca)."""
    board = getattr(venue, "streams", None)
    return board.rows() if board is not None and hasattr(board, "rows") else []


NOT_DELIVERING = ("down", "silent", "stopped")  # a stream's states that make a venue less than connected


def venue_detail(said: str, streams: list[StreamStatus]) -> str:
    """The venue's status line: what its adapter last said (`said`), then each stream not
    delivering that it does not name ("...; book:BTC/USDT down"), whatever the venue's state.
    The adapter speaks when its connection changes, a stream may go down later or stay down
    after a reconnect (a book never back on a venue degraded for its keys): the line says so
    as its row does, from the same rows."""
    names: dict[str, list[str]] = {}
    for s in streams:
        if s.state in NOT_DELIVERING and s.name not in said:
            names.setdefault(s.state, []).append(s.name)
    unsaid = [
        ", ".join(n[:3]) + (f" +{len(n) - 3}" if len(n) > 3 else "") + f" {state}" for state, n in names.items()
    ]
    return "; ".join([said, *unsaid] if said else unsaid)


def venue_holes(venue: Venue) -> list[HoleStatus]:
    """The spans the venue's backfills could not reach (an adapter's `holes`: ccxt's)."""
    out = []
    for h in getattr(venue, "holes", None) or ():
        what = str(h.what)
        text = h.text() if hasattr(h, "text") else ""
        out.append(
            HoleStatus(
                h.symbol,
                what,
                datetime.fromtimestamp(h.start_ms / 1000, UTC),
                datetime.fromtimestamp(h.end_ms / 1000, UTC),
                what.removesuffix(" candles") if what.endswith(" candles") else "",
                text,
            )
        )
    return out


def venue_rate_limited(venue: Venue) -> str:
    """Who asked us to wait and until when, while a venue's rate gate is closed."""
    gate = getattr(venue, "rate_gate", None)
    return gate.describe() if gate is not None and hasattr(gate, "describe") else ""
