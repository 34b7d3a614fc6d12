"""US stocks at Charles Schwab through schwab-py (the Trader API). Importing this registers
`kind = "schwab"`; schwab-py itself loads only when a venue is built (`pip install
tui-trader[brokers]`)."""

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
    from tui_trader.secrets import load_credentials, token_saver
    from tui_trader.venues.schwab.imports import quiet_authlib

    quiet_authlib()
    try:
        import schwab  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"venues.{name}: the Schwab adapter needs schwab-py; install it with `pip install 'tui-trader[brokers]'`"
        ) from None
    from tui_trader.venues.schwab.auth import unless_newer_stored
    from tui_trader.venues.schwab.venue import SchwabVenue

    def stored() -> str | None:  # the login in the keyring now (another `keys set` may have replaced ours)
        creds = load_credentials(name, home, prompt=False)
        return creds.token if creds is not None else None

    return SchwabVenue(
        name,
        vs,
        clock,
        credentials=load_credentials(name, home),
        save_token=unless_newer_stored(token_saver(name, home), stored),
        ids_path=None if home is None else home.root / f"{name}_ids.jsonl",
    )


register_kind("schwab", build, takes_keys=True)
