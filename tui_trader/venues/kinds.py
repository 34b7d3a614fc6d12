"""Venue kinds and their factories. Adapters register theirs on import (`tui_trader.venues.ccxt`,
`tui_trader.venues.alpaca`), so their heavy client libraries load only when configured."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.errors import ConfigError
from tui_trader.venues.base import Venue

if TYPE_CHECKING:
    from tui_trader.config import Settings
    from tui_trader.home import Home

# kind -> factory(name, venue settings, all settings, clock, home) -> Venue
Factory = Callable[[str, VenueSettings, "Settings", Clock, "Home | None"], Venue]
_FACTORIES: dict[str, Factory] = {}
_KEYED: set[str] = set()


def register_kind(kind: str, factory: Factory, *, takes_keys: bool = False) -> None:
    """`takes_keys`: a running venue of `kind` reads its keys again from the keyring (`tui-trader
    venue reconnect`), as its class says (`KeyedVenue.takes_keys`; a test holds the two
    together), said here where the CLI can read it without loading the venue's library."""
    _FACTORIES[kind] = factory
    if takes_keys:
        _KEYED.add(kind)


def _load(kind: str) -> None:
    """Import `kind`'s adapter package (it registers itself), once; light: its client library
    loads only when a venue is built."""
    if kind not in _FACTORIES:
        try:
            importlib.import_module(f"tui_trader.venues.{kind}")
        except ImportError:
            pass


def takes_keys(kind: str) -> bool:
    """Whether a running venue of `kind` takes new keys (`keys set`, then `venue reconnect`)."""
    _load(kind)
    return kind in _KEYED


def factory_for(kind: str, where: str) -> Factory:
    """The factory for `kind`, importing its adapter package on first use."""
    _load(kind)
    factory = _FACTORIES.get(kind)
    if factory is None:
        known = ", ".join(sorted({"paper", "ccxt", "alpaca", *_FACTORIES}))
        raise ConfigError(f"{where}: {kind!r} is not available in this build ({known})")
    return factory
