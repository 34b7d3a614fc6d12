"""What the engine offers the services it composes (strategy host, signal service, candle feed,
reconnection, commands).

They depend on this protocol, never on `Engine` itself, so the composition root can change
without its parts reaching back into it (and the import graph stays acyclic).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tui_trader.config import Settings
    from tui_trader.config.risk import RiskSettings
    from tui_trader.core.clock import Clock
    from tui_trader.core.instrument import Instrument
    from tui_trader.core.market import Candle, OrderBook, Ticker
    from tui_trader.core.orders import Order, OrderRequest
    from tui_trader.core.signals import Signal
    from tui_trader.engine.bus import EventBus
    from tui_trader.execution.ids import ClientOrderIds
    from tui_trader.execution.ledger import SubLedgers
    from tui_trader.execution.oms import OrderManager
    from tui_trader.execution.portfolio import AccountSnapshot, Portfolio
    from tui_trader.home import Home
    from tui_trader.risk.manager import RiskManager
    from tui_trader.store.db import Store
    from tui_trader.venues.base import Venue


class EnginePort(Protocol):
    """The engine as its services see it."""

    settings: Settings
    home: Home | None
    clock: Clock
    bus: EventBus
    store: Store | None
    oms: OrderManager | None
    portfolio: Portfolio
    risk: RiskManager
    ledger: SubLedgers
    venues: dict[str, Venue]
    new_id: ClientOrderIds
    recent_orders: dict[str, Order]
    signals: list[Signal]
    live_armed: bool
    snapshot_extras: list[Callable[[], dict[str, Any]]]
    candles: Any  # marketdata.CandleFeed once started
    strategies: Any  # strategy_host.StrategyHost once started
    stops: Any  # protective_stops.ProtectiveStops once started
    signal_service: Any  # signal_service.SignalService when enabled
    router: Any  # router.Router: `--venue auto`
    scanner: Any  # scanner.SpreadScanner: spreads, the consolidated view
    copy: Any  # copy.desk.CopyDesk when [copy.*] tables follow a leader
    reconciler: Any  # reconnect.Reconciler: after reconnects, while an order's fate is unknown
    derivatives: Any  # derivatives.Derivatives: leverage, funding and swap payments, the guard
    config_file: Path | None
    reloader: Callable[[], Awaitable[dict[str, Any]]] | None

    # -- state -------------------------------------------------------------------------------

    def instrument(self, venue: str, symbol: str) -> Instrument | None: ...

    def symbols(self) -> list[str]: ...

    def ticker(self, symbol: str, venue: str | None = None) -> Ticker | None: ...

    def book(self, symbol: str, venue: str | None = None) -> OrderBook | None: ...

    def mid(self, symbol: str, venue: str | None = None) -> float:
        """The mid of `symbol` on `venue` (default: the venue its orders go to); 0 if unquoted."""

    def venue_for(self, symbol: str, requested: str | None = None) -> str: ...

    def account(self) -> AccountSnapshot: ...

    def risk_state(self) -> dict[str, Any]: ...

    async def fetch_candles(
        self, symbol: str, timeframe: str, limit: int = 300, venue: str | None = None
    ) -> list[Candle]: ...

    # -- commands ----------------------------------------------------------------------------

    async def place(self, req: OrderRequest, actor: str = "user") -> Order: ...

    async def place_oco(self, first: OrderRequest, second: OrderRequest, actor: str = "user") -> list[Order]: ...

    def check(self, req: OrderRequest, actor: str = "user") -> dict[str, Any]: ...

    async def modify(
        self,
        client_order_id: str,
        *,
        price: Decimal | None = None,
        quantity: Decimal | None = None,
        actor: str = "user",
        dry_run: bool = False,
    ) -> Order: ...

    async def reconnect_venue(self, name: str) -> None:
        """Connect a venue again (a stopped paper venue), subscribe it and reconcile it."""

    async def reset_breakers(self, which: str | None = None, actor: str = "user") -> list[str]: ...

    async def cancel(self, client_order_id: str, actor: str = "user") -> Order: ...

    async def apply_risk_settings(self, new: RiskSettings, actor: str = "user") -> dict[str, Any]: ...

    async def audit(self, actor: str, action: str, detail: dict[str, Any]) -> None: ...

    def notify(self, level: str, message: str, source: str = "engine") -> None: ...

    def publish_signal(self, signal: Signal) -> None: ...
