"""Engine events. Market data may be coalesced (latest wins); everything else is never dropped."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from tui_trader.core.cashflows import CashFlow
from tui_trader.core.enums import ConnectionState, OrderStatus
from tui_trader.core.fills import Fill
from tui_trader.core.market import Candle, OrderBook, Ticker, TradePrint
from tui_trader.core.orders import Order
from tui_trader.core.positions import Position
from tui_trader.core.signals import Signal


class EventSink(Protocol):
    """The engine's bus as the layers below it see it: publish, and in-line handlers."""

    def publish(self, event: Event) -> None: ...

    def on(self, handler: Callable[[Event], None], kinds: Iterable[str] | None = None, name: str = "") -> None: ...

    def off(self, handler: Callable[[Event], None]) -> None: ...


@dataclass(frozen=True, slots=True)
class Event:
    # Market data sets `coalescable`: a slow consumer sees only the latest per key.
    coalescable: ClassVar[bool] = False
    kind: ClassVar[str] = "event"

    @property
    def key(self) -> tuple[str, ...]:
        return (self.kind,)


@dataclass(frozen=True, slots=True)
class TickerEvent(Event):
    ticker: Ticker
    coalescable: ClassVar[bool] = True
    kind: ClassVar[str] = "ticker"

    @property
    def key(self) -> tuple[str, ...]:
        return (self.kind, self.ticker.venue, self.ticker.symbol)


@dataclass(frozen=True, slots=True)
class BookEvent(Event):
    book: OrderBook
    coalescable: ClassVar[bool] = True
    kind: ClassVar[str] = "book"

    @property
    def key(self) -> tuple[str, ...]:
        return (self.kind, self.book.venue, self.book.symbol)


@dataclass(frozen=True, slots=True)
class TradeEvent(Event):
    """A public trade print. Coalesced for display; the candle builder subscribes reliably."""

    trade: TradePrint
    coalescable: ClassVar[bool] = True
    kind: ClassVar[str] = "trade"

    @property
    def key(self) -> tuple[str, ...]:
        return (self.kind, self.trade.venue, self.trade.symbol)


@dataclass(frozen=True, slots=True)
class CandleEvent(Event):
    venue: str
    candle: Candle
    kind: ClassVar[str] = "candle"

    @property
    def coalesce_forming(self) -> bool:
        return not self.candle.closed


@dataclass(frozen=True, slots=True)
class OrderEvent(Event):
    order: Order  # a copy; consumers must not mutate it
    kind: ClassVar[str] = "order"


@dataclass(frozen=True, slots=True)
class FillEvent(Event):
    fill: Fill
    kind: ClassVar[str] = "fill"


@dataclass(frozen=True, slots=True)
class PositionEvent(Event):
    position: Position  # a copy
    kind: ClassVar[str] = "position"


@dataclass(frozen=True, slots=True)
class CashFlowEvent(Event):
    """Funding or swap paid or received on a position. A venue emits it; the engine books it
    (cash, the position's funding, the database) and publishes it again. Never dropped."""

    flow: CashFlow
    kind: ClassVar[str] = "cash_flow"


@dataclass(frozen=True, slots=True)
class AccountEvent(Event):
    """Equity and cash after a change (fills, marks)."""

    ts: datetime
    equity: float
    cash: float
    kind: ClassVar[str] = "account"


@dataclass(frozen=True, slots=True)
class RiskEvent(Event):
    """A rejection, a breaker trip or reset, a kill switch."""

    ts: datetime
    code: str  # e.g. "max_order_notional", "breaker:daily_loss", "kill_switch"
    message: str
    client_order_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "risk"


@dataclass(frozen=True, slots=True)
class SignalEvent(Event):
    signal: Signal
    kind: ClassVar[str] = "signal"


@dataclass(frozen=True, slots=True)
class ConnectionEvent(Event):
    venue: str
    state: ConnectionState
    ts: datetime
    detail: str = ""
    attempt: int = 0
    kind: ClassVar[str] = "connection"


@dataclass(frozen=True, slots=True)
class ExecutionReport(Event):
    """What a venue says about one of our orders: a status change and/or a fill.

    Venues emit these; only the OMS consumes them (it then publishes OrderEvent/FillEvent).
    """

    venue: str
    client_order_id: str
    status: OrderStatus | None
    ts: datetime
    venue_order_id: str | None = None
    reason: str | None = None
    fill: Fill | None = None
    # An order the venue made itself (a liquidation, an auto-deleverage): the OMS takes it in
    # when it does not know it, so this report and the order's fills apply to it.
    order: Order | None = None
    kind: ClassVar[str] = "execution"


@dataclass(frozen=True, slots=True)
class NoticeEvent(Event):
    """Something to tell the user: level is info, warning or error."""

    ts: datetime
    level: str
    message: str
    source: str = "engine"
    kind: ClassVar[str] = "notice"
