"""Paper trading on live data: the paper matching engine fed by a real venue's stream.

`[venues.dry] kind = "paper", data_from = "binance"` builds the `binance` adapter as a
private data feed (its orders are never used) and runs the paper exchange on its books,
trades and quotes: the realistic dry run.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import BookEvent, Event, TickerEvent, TradeEvent
from tui_trader.venues.base import Venue
from tui_trader.venues.kinds import factory_for
from tui_trader.venues.paper.feeds import MarketSink

if TYPE_CHECKING:
    from tui_trader.config import Settings
    from tui_trader.home import Home
    from tui_trader.venues.paper import PaperVenue


class LiveSource:
    """A `PriceSource` that relays another venue's market data, renamed to the paper venue."""

    def __init__(self, data_venue: Venue, symbols: list[str], paper_name: str) -> None:
        self.data_venue = data_venue
        self.symbols = symbols
        self.paper_name = paper_name

    def step(self, sink: MarketSink) -> bool:
        return True  # live data cannot be stepped; it arrives in `run`

    async def run(self, sink: MarketSink) -> None:
        def relay(event: Event) -> None:
            if isinstance(event, TickerEvent):
                sink.on_ticker(dataclasses.replace(event.ticker, venue=self.paper_name))
            elif isinstance(event, BookEvent):
                sink.on_book(dataclasses.replace(event.book, venue=self.paper_name))
            elif isinstance(event, TradeEvent):
                sink.on_trade(dataclasses.replace(event.trade, venue=self.paper_name))

        await self.data_venue.connect(relay)
        try:
            markets = await self.data_venue.load_markets()
            instruments = getattr(sink, "instruments", None)
            if isinstance(instruments, dict):  # real tick and lot sizes replace the placeholders
                for symbol in self.symbols:
                    if symbol in markets:
                        instruments[symbol] = dataclasses.replace(
                            markets[symbol], venue=self.paper_name
                        )
            await self.data_venue.subscribe(self.symbols)
            await asyncio.Event().wait()
        finally:
            await self.data_venue.close()


def live_paper_venue(
    name: str, vs: VenueSettings, settings: Settings, clock: Clock, home: Home | None
) -> PaperVenue:
    from tui_trader.venues.paper import PaperVenue

    source_name = vs.data_from or ""
    source = settings.venues.get(source_name)
    if source is None or source.kind == "paper":
        raise ConfigError(
            f"venues.{name}.data_from: {source_name!r} must name a ccxt or alpaca venue in [venues]"
        )
    symbols = vs.symbols or source.symbols
    if not symbols:
        raise ConfigError(
            f"venues.{name}.symbols: list the symbols to paper-trade on {source_name}'s data"
        )
    data_venue = factory_for(source.kind, f"venues.{source_name}.kind")(source_name, source, settings, clock, home)
    paper = settings.paper.model_copy(update={"symbols": symbols})
    journal = None if home is None else home.root / f"{name}_venue.jsonl"
    return PaperVenue(
        paper, clock, name=name, journal_path=journal, source=LiveSource(data_venue, symbols, name)
    )
