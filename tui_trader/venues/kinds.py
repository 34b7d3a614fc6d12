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


def register_kind(kind: str, factory: Factory) -> None:
    _FACTORIES[kind] = factory


def factory_for(kind: str, where: str) -> Factory:
    """The factory for `kind`, importing its adapter package on first use."""
    if kind not in _FACTORIES:
        try:
            importlib.import_module(f"tui_trader.venues.{kind}")
        except ImportError:
            pass
    factory = _FACTORIES.get(kind)
    if factory is None:
        known = ", ".join(sorted({"paper", "ccxt", "alpaca", *_FACTORIES}))
        raise ConfigError(f"{where}: {kind!r} is not available in this build ({known})")
    return factory
