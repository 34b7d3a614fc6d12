"""Market data commands: `market.quote` (bid, ask, last and the top of the book) for
`tui-trader quote` through a running daemon; `market.trades` (time and sales) for the tape."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UsageError
from tui_trader.core.quote import quote_document
from tui_trader.engine import params as P
from tui_trader.engine.commands import command
from tui_trader.engine.tape import with_holes
from tui_trader.risk.sessions import session_state

if TYPE_CHECKING:
    from tui_trader.engine.ports import EnginePort


@command("market.quote")
async def _quote(engine: EnginePort, params: dict[str, Any], actor: str) -> dict[str, Any]:
    symbol = str(params.get("symbol") or "").strip().upper()
    if not symbol:
        raise UsageError("market.quote needs a symbol")
    venue = engine.venue_for(symbol, params.get("venue") or None)
    if venue not in engine.venues:
        raise UsageError(f"unknown venue {venue!r}; configured: {', '.join(engine.venues)}")
    inst = engine.instrument(venue, symbol)
    if inst is None:
        raise UsageError(f"{venue} does not list {symbol}; the watchlist shows what it quotes")
    ticker = engine.ticker(symbol, venue)
    if ticker is None:
        raise UsageError(f"no quote for {symbol} on {venue} yet; try again in a moment")
    now = engine.clock.now()
    market = None if inst.always_open else session_state(inst, now, engine.venues[venue]).describe(now)
    return quote_document(venue, ticker, engine.book(symbol, venue), market=market)


@command("market.trades")
async def _trades(engine: EnginePort, params: dict[str, Any], actor: str) -> list[dict[str, Any]]:
    """The latest trade prints of `symbol` (on `venue`), newest first: params {"symbol",
    "venue"?, "limit"? (1-500, default 100)}."""
    symbol = (P.text(params, "symbol", required=True, max_len=64) or "").strip().upper()
    venue = engine.venue_for(symbol, P.text(params, "venue", max_len=64))
    limit = P.integer(params, "limit", 100, low=1, high=500)
    tape = getattr(engine, "tape", None)
    prints = tape.recent(venue, symbol, limit) if tape is not None else []
    # a span after an outage the venue could not give back: a row where its prints are missing
    return with_holes(prints, getattr(engine.venues.get(venue), "holes", ()))
