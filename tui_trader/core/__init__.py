"""Domain types: no I/O, no asyncio, no pandas.

Names resolve on first use (module ``__getattr__``): importing one module of the package
(``tui_trader.core.errors``, as every command does) does not load the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.lazy import lazy_exports

if TYPE_CHECKING:
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

_LAZY = {
    "AccountEvent": "tui_trader.core.events",
    "AssetClass": "tui_trader.core.enums",
    "Balance": "tui_trader.core.positions",
    "BookEvent": "tui_trader.core.events",
    "Candle": "tui_trader.core.market",
    "CandleEvent": "tui_trader.core.events",
    "CashFlowEvent": "tui_trader.core.events",
    "Clock": "tui_trader.core.clock",
    "ConfigError": "tui_trader.core.errors",
    "ConnectionEvent": "tui_trader.core.events",
    "ConnectionState": "tui_trader.core.enums",
    "DataError": "tui_trader.core.errors",
    "Direction": "tui_trader.core.enums",
    "Event": "tui_trader.core.events",
    "ExecutionReport": "tui_trader.core.events",
    "Fill": "tui_trader.core.fills",
    "FillEvent": "tui_trader.core.events",
    "FrozenClock": "tui_trader.core.clock",
    "Instrument": "tui_trader.core.instrument",
    "Liquidity": "tui_trader.core.enums",
    "NoticeEvent": "tui_trader.core.events",
    "Order": "tui_trader.core.orders",
    "OrderBook": "tui_trader.core.market",
    "OrderEvent": "tui_trader.core.events",
    "OrderRequest": "tui_trader.core.orders",
    "OrderStatus": "tui_trader.core.enums",
    "OrderType": "tui_trader.core.enums",
    "Position": "tui_trader.core.positions",
    "PositionEvent": "tui_trader.core.events",
    "RiskEvent": "tui_trader.core.events",
    "Side": "tui_trader.core.enums",
    "Signal": "tui_trader.core.signals",
    "SignalEvent": "tui_trader.core.events",
    "SystemClock": "tui_trader.core.clock",
    "Ticker": "tui_trader.core.market",
    "TickerEvent": "tui_trader.core.events",
    "TimeInForce": "tui_trader.core.enums",
    "TradeEvent": "tui_trader.core.events",
    "TradePrint": "tui_trader.core.market",
    "UsageError": "tui_trader.core.errors",
    "UserError": "tui_trader.core.errors",
    "utc": "tui_trader.core.clock",
}

__getattr__ = lazy_exports(__name__, _LAZY)
