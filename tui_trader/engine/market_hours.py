"""When each listed market opens and closes, for the status bar: "NYSE closed, opens Mon
14:30 UTC (in 23h 30m)"; for an FX pair, the forex sessions open now ("London + New York
overlap"). Crypto (24/7) is left out."""

from __future__ import annotations

import asyncio
from typing import Any

from tui_trader.core.clock import Clock
from tui_trader.core.enums import AssetClass
from tui_trader.core.fx_sessions import describe as fx_sessions
from tui_trader.core.hours import NYSE, hours_for
from tui_trader.core.instrument import Instrument
from tui_trader.risk.sessions import session_state


async def preload_calendars(instruments: dict[str, dict[str, Instrument]]) -> None:
    """Load the exchange calendar (about a second, once per process) off the event loop."""
    if any(hours_for(i) is NYSE for insts in instruments.values() for i in insts.values()):
        await asyncio.to_thread(NYSE.preload)


class SessionNotes:
    """A snapshot extra: {"sessions": {symbol: note}}, recomputed once a second."""

    def __init__(self, clock: Clock, instruments: dict[str, dict[str, Instrument]], venues: dict[str, Any]) -> None:
        self.clock = clock
        self.instruments = instruments
        self.venues = venues
        self._cache: tuple[int, dict[str, str]] | None = None

    def __call__(self) -> dict[str, Any]:
        now = self.clock.now()
        second = int(now.timestamp())
        if self._cache is None or self._cache[0] != second:
            notes: dict[str, str] = {}
            for venue_name, insts in self.instruments.items():
                venue = self.venues.get(venue_name)
                for symbol, inst in insts.items():
                    if not inst.always_open and symbol not in notes:
                        state = session_state(inst, now, venue)
                        notes[symbol] = state.describe(now)
                        if inst.asset_class is AssetClass.FOREX and state.is_open:
                            notes[symbol] += f" · {fx_sessions(now)}"
            self._cache = (second, notes)
        return {"sessions": self._cache[1]} if self._cache[1] else {}
