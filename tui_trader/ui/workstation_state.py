"""What every part of the workstation shares: the state the app holds and the methods its parts
call on each other. The app is assembled from mixins (layout, order entry, screens' wiring,
feature actions); each subclasses this so the type checker sees one surface, and none imports
another."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from decimal import Decimal

    from textual.app import App
    from textual.worker import Worker

    from tui_trader.config.ui import UISettings
    from tui_trader.core.instrument import Instrument
    from tui_trader.core.market import Ticker
    from tui_trader.core.orders import Order, OrderRequest
    from tui_trader.engine import EngineSnapshot
    from tui_trader.engine.client import EngineClient
    from tui_trader.ui.palette import PaletteCommand
    from tui_trader.ui.panes import Pane
    from tui_trader.ui.theme import Palette

    _AppBase = App[int]  # the type checker sees the App the mixins are mixed into
else:
    _AppBase = object


class WorkstationState(_AppBase):
    """Declarations only: WorkstationApp sets these in __init__ and implements the methods."""

    client: EngineClient
    settings: Any
    ui: UISettings
    home: Any
    symbol: str
    venue: str | None  # the active symbol's venue (None: the one its orders go to)
    timeframe: str
    layout_choice: str
    layout_mode: str
    snapshot: EngineSnapshot | None
    last_order: Order | None
    command_history: list[str]
    _panes: dict[str, Pane]
    _mine: set[str]

    if TYPE_CHECKING:

        @property
        def palette(self) -> Palette: ...

        def lookup(self, symbol: str, venue: str | None = None) -> tuple[Instrument | None, Ticker | None]: ...
        def symbols(self) -> list[str]: ...
        def refresh_now(self) -> None: ...
        async def refresh_snapshot(self) -> None: ...
        def submit_order(self, request: OrderRequest) -> Worker[Order | None]: ...
        def is_live_armed(self) -> bool: ...
        async def set_layout(self, layout: str) -> None: ...
        def binding_ids(self) -> set[str]: ...
        def show_reject(self, order: Order) -> None: ...
        def action_ticket(self, side: str, order_type: str = "limit") -> None: ...
        def cancel_order(self, client_order_id: str) -> Worker[None]: ...
        def modify_order(
            self, client_order_id: str, price: Decimal | None, quantity: Decimal | None
        ) -> Worker[None]: ...
        def action_cancel_all(self, symbol: str | None = None) -> Worker[None]: ...
        def action_kill_switch(self) -> Worker[None]: ...
        def feature_palette_commands(self) -> list[PaletteCommand]: ...
