"""Crypto at Robinhood through its official Crypto Trading API (Ed25519-signed REST, polled).
Importing this registers `kind = "robinhood"`. Robinhood equities have no public API and are
not offered (docs/brokers.md)."""

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
    from tui_trader.venues.robinhood.venue import RobinhoodVenue

    return RobinhoodVenue(
        name, vs, clock, credentials=load_credentials(name, home),
        ids_path=None if home is None else home.root / f"{name}_ids.jsonl",
    )  # fmt: skip


register_kind("robinhood", build, takes_keys=True)
