"""Forex and metals at OANDA (v20 REST and streams over aiohttp). Importing this registers
`kind = "oanda"`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.venues.kinds import register_kind

if TYPE_CHECKING:
    from tui_trader.config import Settings
    from tui_trader.home import Home
    from tui_trader.venues.base import Venue


def build(name: str, vs: VenueSettings, settings: Settings, clock: Clock, home: Home | None) -> Venue:
    from tui_trader.secrets import load_credentials
    from tui_trader.venues.oanda.venue import OandaVenue

    return OandaVenue(name, vs, clock, credentials=load_credentials(name, home))


register_kind("oanda", build, takes_keys=True)
