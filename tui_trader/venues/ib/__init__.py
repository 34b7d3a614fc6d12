"""US stocks at Interactive Brokers through ib_async (the TWS API, to TWS or IB Gateway).
Importing this registers `kind = "ib"`; ib_async itself loads only when a venue is built
(`pip install tui-trader[brokers]`)."""

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
    from tui_trader.core.errors import ConfigError

    try:
        import ib_async  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"venues.{name}: the Interactive Brokers adapter needs ib_async; install it with "
            "`pip install 'tui-trader[brokers]'`"
        ) from None
    from tui_trader.venues.ib.venue import IBVenue

    return IBVenue(name, vs, clock)


register_kind("ib", build)
