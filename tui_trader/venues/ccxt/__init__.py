"""Crypto exchanges through ccxt (REST) and ccxt.pro (websockets). Importing this registers
`kind = "ccxt"`; ccxt itself loads only when a venue is built."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.venues.kinds import register_kind

if TYPE_CHECKING:
    from tui_trader.config import Settings
    from tui_trader.home import Home
    from tui_trader.venues.base import Venue


def build(
    name: str, vs: VenueSettings, settings: Settings, clock: Clock, home: Home | None
) -> Venue:
    from tui_trader.secrets import load_credentials
    from tui_trader.venues.ccxt.venue import CcxtVenue

    return CcxtVenue(name, vs, clock, credentials=load_credentials(name, home))


register_kind("ccxt", build, takes_keys=True)
