"""Signals: a trade idea from a strategy, a model, the news or a chat provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui_trader.core.enums import Direction


@dataclass(frozen=True, slots=True)
class Signal:
    source: str  # "strategy:ema_cross", "ml", "news", "chat:provider"
    symbol: str
    direction: Direction
    strength: float  # 0..1
    ts: datetime
    reason: str = ""
    confidence: float | None = None
    timeframe: str | None = None
    venue: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
