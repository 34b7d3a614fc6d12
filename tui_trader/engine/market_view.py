"""Each venue's market for a symbol as routing sees it: quote, book, fees, and whether an order
may go there now (connected, every stream it needs delivering, a fresh quote, live armed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from tui_trader.core.enums import ConnectionState
from tui_trader.routing.market import FeeRates, VenueMarket

if TYPE_CHECKING:
    from tui_trader.config import Settings
    from tui_trader.core.clock import Clock
    from tui_trader.core.instrument import Instrument
    from tui_trader.core.market import OrderBook, Ticker
    from tui_trader.venues.base import Venue

# Stream states (venues/streams.py) in which a venue's data or order reports cannot be trusted.
_BAD_STREAMS = frozenset({"silent", "down", "stopped"})
DEFAULT_MAKER = 0.0002


class MarketState(Protocol):
    settings: Settings
    clock: Clock
    venues: dict[str, Venue]
    instruments: dict[str, dict[str, Instrument]]
    tickers: dict[tuple[str, str], Ticker]
    books: dict[tuple[str, str], OrderBook]
    market_seen: dict[tuple[str, str], float]  # (venue, symbol) -> monotonic time of its last quote or book
    live_armed: bool


def fee_rates(state: MarketState, venue: str, symbol: str) -> FeeRates:
    """The venue's maker and taker rates for `symbol`: `[venues.NAME]` maker_fee / taker_fee
    where set, else what the adapter knows (the paper instance's own, ccxt's market, Alpaca's
    schedule), else the fee the order confirmation assumes."""
    vs = state.settings.venues.get(venue)
    adapter = state.venues.get(venue)
    known = getattr(adapter, "fee_rates", None)
    rates = known(symbol) if callable(known) else None
    maker, taker = rates if rates is not None else (DEFAULT_MAKER, state.settings.ui.fee_estimate)
    if vs is not None and vs.maker_fee is not None:
        maker = vs.maker_fee
    if vs is not None and vs.taker_fee is not None:
        taker = vs.taker_fee
    return FeeRates(float(maker), float(taker))


def problem(state: MarketState, venue: str, symbol: str) -> str:
    """Why an order for `symbol` may not go to `venue` now; empty when it may."""
    v = state.venues.get(venue)
    if v is None:
        return "not configured"
    if v.state is not ConnectionState.CONNECTED:
        return f"{v.state.value}"
    if v.is_live and not state.live_armed:
        return "live and not armed"
    board = getattr(v, "streams", None)
    rows = board.rows() if board is not None and hasattr(board, "rows") else []
    for row in rows:
        wanted = getattr(row, "private", False) or str(getattr(row, "name", "")).endswith(f":{symbol}")
        if wanted and getattr(row, "state", "") in _BAD_STREAMS:
            return f"stream {row.name} {row.state}"
    gate = getattr(v, "rate_gate", None)
    limited = gate.describe() if gate is not None and hasattr(gate, "describe") else ""
    if limited:
        return f"rate limited ({limited})"
    seen = state.market_seen.get((venue, symbol))
    if seen is None:
        return "no quote yet"
    age = state.clock.monotonic() - seen
    if age > state.settings.routing.stale_after_s:
        return f"stale: nothing for {age:.0f} s"
    return ""


def venue_market(state: MarketState, venue: str, symbol: str) -> VenueMarket:
    seen = state.market_seen.get((venue, symbol))
    v = state.venues.get(venue)
    return VenueMarket(
        venue,
        getattr(v, "kind", "?"),
        v.state.value if v is not None else "missing",
        state.instruments.get(venue, {}).get(symbol),
        state.tickers.get((venue, symbol)),
        state.books.get((venue, symbol)),
        fee_rates(state, venue, symbol),
        None if seen is None else state.clock.monotonic() - seen,
        problem(state, venue, symbol),
    )


def listing(state: MarketState, symbol: str) -> list[str]:
    """The venues that list `symbol`."""
    return [name for name, insts in state.instruments.items() if symbol in insts and name in state.venues]


def markets_for(state: MarketState, symbol: str) -> list[VenueMarket]:
    return [venue_market(state, name, symbol) for name in listing(state, symbol)]


def shared_symbols(state: MarketState) -> dict[str, list[VenueMarket]]:
    """Every symbol two or more venues list, with each venue's market."""
    count: dict[str, int] = {}
    for name, insts in state.instruments.items():
        if name in state.venues:
            for s in insts:
                count[s] = count.get(s, 0) + 1
    return {s: markets_for(state, s) for s, n in count.items() if n > 1}


def all_markets(state: MarketState) -> list[VenueMarket]:
    """Every quoted market of every venue (the triangle scan)."""
    return [venue_market(state, venue, symbol) for (venue, symbol) in list(state.tickers) if venue in state.venues]
