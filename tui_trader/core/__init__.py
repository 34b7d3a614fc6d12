"""Domain types: no I/O, no asyncio, no pandas."""

from tui_trader.core.clock import Clock, FrozenClock, SystemClock, utc
from tui_trader.core.enums import (
    AssetClass,
    ConnectionState,
    Direction,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from tui_trader.core.errors import ConfigError, DataError, UsageError, UserError
from tui_trader.core.events import (
    AccountEvent,
    BookEvent,
    CandleEvent,
    CashFlowEvent,
    ConnectionEvent,
    Event,
    ExecutionReport,
    FillEvent,
    NoticeEvent,
    OrderEvent,
    PositionEvent,
    RiskEvent,
    SignalEvent,
    TickerEvent,
    TradeEvent,
)
from tui_trader.core.fills import Fill
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Candle, OrderBook, Ticker, TradePrint
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.core.positions import Balance, Position
from tui_trader.core.signals import Signal

__all__ = [
    "AccountEvent",
    "AssetClass",
    "Balance",
    "BookEvent",
    "Candle",
    "CandleEvent",
    "CashFlowEvent",
    "Clock",
    "ConfigError",
    "ConnectionEvent",
    "ConnectionState",
    "DataError",
    "Direction",
    "Event",
    "ExecutionReport",
    "Fill",
    "FillEvent",
    "FrozenClock",
    "Instrument",
    "Liquidity",
    "NoticeEvent",
    "Order",
    "OrderBook",
    "OrderEvent",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "Position",
    "PositionEvent",
    "RiskEvent",
    "Side",
    "Signal",
    "SignalEvent",
    "SystemClock",
    "Ticker",
    "TickerEvent",
    "TimeInForce",
    "TradeEvent",
    "TradePrint",
    "UsageError",
    "UserError",
    "utc",
]
