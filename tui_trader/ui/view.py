"""What the app hands every visible pane on each refresh tick."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui_trader.ui.theme import Palette

if TYPE_CHECKING:
    from tui_trader.engine import EngineSnapshot


@dataclass(frozen=True, slots=True)
class View:
    snapshot: EngineSnapshot
    symbol: str  # the active symbol
    timeframe: str  # the chart timeframe
    palette: Palette
    now: float  # UI monotonic seconds (flashes, chart cadence); never shown
    venue: str | None = None  # the active symbol's venue; None: the one its orders go to
    indicators: tuple[str, ...] = ("ema", "bb")  # chart overlays
