"""Enumerations shared by every layer."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop-limit"
    TRAILING_STOP = "trailing-stop"


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    DAY = "day"


class OrderStatus(StrEnum):
    NEW = "new"  # persisted, not yet acknowledged by the venue
    # sent, and the venue's answer was lost or ambiguous: it may exist there. Settled only by
    # the venue's own answer (looked up by client order id); never sent again.
    UNKNOWN = "unknown"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        return self in _OPEN

    @property
    def is_final(self) -> bool:
        return not self.is_open


_OPEN = frozenset({OrderStatus.NEW, OrderStatus.UNKNOWN, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})


class AssetClass(StrEnum):
    CRYPTO = "crypto"
    EQUITY = "equity"
    FOREX = "forex"


class InstrumentKind(StrEnum):
    """What a symbol is. Spot pays for what it buys; every other kind is traded on margin: the
    position costs a margin, its profit or loss settles in the settle currency."""

    SPOT = "spot"
    LINEAR_PERP = "linear_perpetual"  # BTC/USDT:USDT, settles in the quote currency
    INVERSE_PERP = "inverse_perpetual"  # BTC/USD:BTC, contracts worth a fixed amount of USD, settles in BTC
    FUTURE = "future"  # a dated future: BTC/USDT:USDT-261225
    FX = "fx"  # a currency pair (or a metal) at a forex broker, on margin
    CFD = "cfd"  # a contract for difference (an index or commodity at a broker)

    @property
    def margined(self) -> bool:
        return self is not InstrumentKind.SPOT

    @property
    def perpetual(self) -> bool:
        return self in (InstrumentKind.LINEAR_PERP, InstrumentKind.INVERSE_PERP)


class MarginMode(StrEnum):
    ISOLATED = "isolated"  # each position has its own margin; a liquidation loses that margin only
    CROSS = "cross"  # the account's whole balance backs every position


class PositionSide(StrEnum):
    """Hedge-mode venues hold a long and a short of one symbol apart; one-way venues hold BOTH."""

    BOTH = "both"
    LONG = "long"
    SHORT = "short"


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DEGRADED = "degraded"
    RECONNECTING = "reconnecting"
    DISCONNECTED = "disconnected"


class Direction(StrEnum):
    LONG = "long"
    SHORT = "short"
    FLAT = "flat"
