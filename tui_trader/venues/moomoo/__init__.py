"""US stocks at moomoo through OpenD (the gateway the trader runs) with moomoo's own client,
`moomoo-api` (`pip install 'tui-trader[brokers]'`). Importing this registers `kind = "moomoo"`;
moomoo-api itself loads only when a venue is built."""

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
    from tui_trader.secrets import load_credentials

    try:
        import moomoo  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"venues.{name}: the moomoo adapter needs moomoo-api; install it with `pip install 'tui-trader[brokers]'`"
        ) from None
    from tui_trader.venues.moomoo.venue import MoomooVenue

    return MoomooVenue(
        name, vs, clock, credentials=load_credentials(name, home),
        ids_path=None if home is None else home.root / f"{name}_ids.jsonl",
    )  # fmt: skip


register_kind("moomoo", build, takes_keys=True)
