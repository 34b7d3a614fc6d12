"""The engine: the composition root the TUI, the daemon and replays share.

`Engine` (root.py) wires venues, the bus, the OMS, risk, strategies and signals; the services
it composes see it only through `EnginePort` (ports.py). The UI reaches it only through an
`EngineClient` (client.py).
"""

from tui_trader.engine.root import Engine
from tui_trader.engine.snapshot import EngineSnapshot, VenueStatus

__all__ = ["Engine", "EngineSnapshot", "VenueStatus"]
