"""What the engine shows: a copy of its state for screens and remote clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui_trader.core.enums import ConnectionState
from tui_trader.core.fills import Fill
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import OrderBook, Ticker
from tui_trader.core.orders import Order
from tui_trader.core.positions import Position
from tui_trader.core.signals import Signal
from tui_trader.execution.portfolio import AccountSnapshot


@dataclass(frozen=True, slots=True)
class VenueStatus:
    name: str
    kind: str
    state: ConnectionState
    is_live: bool
    detail: str = ""
    last_message_age: float | None = None


@dataclass(slots=True)
class EngineSnapshot:
    """Everything a screen needs, copied so the UI never shares mutable state with the engine."""

    ts: datetime
    mode: str  # "paper" or "live"
    venues: list[VenueStatus]
    instruments: dict[str, Instrument]
    tickers: dict[str, Ticker]
    books: dict[str, OrderBook]
    positions: list[Position]
    open_orders: list[Order]
    recent_orders: list[Order]
    fills: list[Fill]
    account: AccountSnapshot
    signals: list[Signal] = field(default_factory=list)
    halted: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
