"""The paper instances' markets without a daemon: every `[venues.NAME] kind = "paper"` (and
`paper`) quotes a pure function of its seed and the clock, so `quote --all-venues` and `scan
spreads` can show what a daemon would, less the impact of orders only a daemon's venues know."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tui_trader.routing.market import FeeRates, VenueMarket

if TYPE_CHECKING:
    from tui_trader.config import Settings

SOURCE = "paper market (no daemon running)"


def paper_markets(settings: Settings, extra_symbols: list[str] | None = None) -> list[VenueMarket]:
    """Every market of every paper instance (not those that paper-trade a live feed), now."""
    from tui_trader.config.venues import VenueSettings
    from tui_trader.core.clock import FrozenClock, SystemClock
    from tui_trader.venues.paper import PaperVenue
    from tui_trader.venues.registry import paper_instance

    clock = FrozenClock(SystemClock().now())  # one instant for every venue: a snapshot, not a smear
    tables = {"paper": VenueSettings(kind="paper"), **settings.venues}
    venues: list[PaperVenue] = []
    for name, vs in tables.items():
        if vs.kind != "paper" or vs.data_from:
            continue
        paper, basis = paper_instance(vs, settings.paper)
        symbols = list(dict.fromkeys([*paper.symbols, *(extra_symbols or [])]))
        paper = paper.model_copy(update={"symbols": symbols})
        venues.append(PaperVenue(paper, clock, name=name, run_feed=False, market_seed=settings.paper.seed, basis=basis))

    async def quote() -> list[VenueMarket]:
        out = []
        for v in venues:
            await v.connect(lambda event: None)
            try:
                for symbol, inst in v.instruments.items():
                    maker, taker = v.fee_rates(symbol)
                    out.append(
                        VenueMarket(
                            v.name, "paper", v.state.value, inst, v._tickers.get(symbol), v._books.get(symbol),
                            FeeRates(maker, taker), 0.0,
                        )
                    )
            finally:
                await v.close()
        return out

    return asyncio.run(quote())
