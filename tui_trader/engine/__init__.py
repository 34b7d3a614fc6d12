"""The engine: the composition root the TUI, the daemon and replays share.

`Engine` (root.py) wires venues, the bus, the OMS, risk, strategies and signals; the services
it composes see it only through `EnginePort` (ports.py). The UI reaches it only through an
`EngineClient` (client.py).

The names below load on first use: a client of the daemon (`tui-trader status`, which imports
the event bus) does not pay for importing the whole engine (numpy, pandas, the venues).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_trader.engine.root import Engine
    from tui_trader.engine.snapshot import EngineSnapshot, VenueStatus

__all__ = ["Engine", "EngineSnapshot", "VenueStatus"]


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from tui_trader.engine.root import Engine

        return Engine
    if name in ("EngineSnapshot", "VenueStatus"):
        from tui_trader.engine import snapshot

        return getattr(snapshot, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
