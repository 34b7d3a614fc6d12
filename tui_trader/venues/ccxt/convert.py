"""ccxt's unified structures (dicts of floats) -> our domain types (Decimal at the boundary)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tui_trader.core.enums import AssetClass, InstrumentKind, Liquidity, MarginMode, OrderStatus, OrderType, Side
from tui_trader.core.fills import Fill
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Candle, OrderBook, Ticker, TradePrint
from tui_trader.venues.base import VenueOrder

# ccxt order status -> ours. "closed" is left to the fills (they carry the quantities).
STATUS = {
    "open": OrderStatus.ACCEPTED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
    "expired": OrderStatus.EXPIRED,
}

def dec(value: Any, default: str = "0") -> Decimal:
    """A ccxt number (float, str or None) as Decimal without binary noise."""
    if value is None or value == "":
        return Decimal(default)
    return Decimal(str(value))


def ms_to_dt(ms: Any) -> datetime:
    return datetime.fromtimestamp((ms or 0) / 1000, UTC)


def _step(precision: Any, mode: int) -> Decimal:
    """ccxt precision is a tick size (TICK_SIZE mode, the default now) or a number of decimals."""
    if precision is None:
        return Decimal("0.00000001")
    from ccxt.base.decimal_to_precision import TICK_SIZE

    if mode == TICK_SIZE:
        return dec(precision).normalize()
    return Decimal(1).scaleb(-int(precision))


def instrument(venue: str, market: dict[str, Any], precision_mode: int) -> Instrument:
    """ccxt's market structure as an Instrument: spot, or a swap / future with its contract
    size, settle currency and leverage bounds (ccxt's `type`, `linear`, `inverse`,
    `contractSize`, `settle`, `expiry`, `limits.leverage`)."""
    limits = market.get("limits") or {}
    precision = market.get("precision") or {}
    kind = _kind(market)
    extra: dict[str, Any] = {}
    if kind.margined:
        leverage = limits.get("leverage") or {}
        expiry = market.get("expiry")
        extra = {
            "contract_size": dec(market.get("contractSize"), "1"),
            "settle": market.get("settle") or "",
            "min_leverage": dec(leverage.get("min"), "1"),
            "max_leverage": dec(leverage.get("max"), "1"),
            "margin_modes": (MarginMode.ISOLATED, MarginMode.CROSS),
            "expiry": ms_to_dt(expiry) if expiry else None,
        }
    return Instrument(
        symbol=market["symbol"],
        venue=venue,
        base=market["base"],
        quote=market["quote"],
        asset_class=AssetClass.CRYPTO,
        tick_size=_step(precision.get("price"), precision_mode),
        lot_size=_step(precision.get("amount"), precision_mode),
        min_qty=dec((limits.get("amount") or {}).get("min")),
        min_notional=dec((limits.get("cost") or {}).get("min")),
        always_open=True,
        fractional=True,
        kind=kind,
        **extra,
    )


def _kind(market: dict[str, Any]) -> InstrumentKind:
    kind = market.get("type") or "spot"
    if kind == "swap":
        return InstrumentKind.INVERSE_PERP if market.get("inverse") else InstrumentKind.LINEAR_PERP
    if kind == "future":
        return InstrumentKind.FUTURE
    return InstrumentKind.SPOT


def ticker(venue: str, t: dict[str, Any]) -> Ticker:
    last = t.get("last") or t.get("close") or 0.0
    return Ticker(
        venue,
        t["symbol"],
        ms_to_dt(t.get("timestamp")),
        float(t.get("bid") or last),
        float(t.get("ask") or last),
        float(last),
        float(t.get("bidVolume") or 0.0),
        float(t.get("askVolume") or 0.0),
        float(t.get("open") or 0.0),
        float(t.get("baseVolume") or 0.0),
    )


BOOK_DEPTH = 25  # levels a side a book is shown with


def book(venue: str, symbol: str, b: dict[str, Any], depth: int = BOOK_DEPTH) -> OrderBook:
    bids = tuple((float(p), float(q)) for p, q, *_ in b.get("bids", [])[:depth])
    asks = tuple((float(p), float(q)) for p, q, *_ in b.get("asks", [])[:depth])
    return OrderBook(venue, symbol, ms_to_dt(b.get("timestamp")), bids, asks)


def trade_print(venue: str, t: dict[str, Any]) -> TradePrint:
    return TradePrint(
        venue,
        t["symbol"],
        ms_to_dt(t.get("timestamp")),
        float(t["price"]),
        float(t["amount"]),
        Side.SELL if t.get("side") == "sell" else Side.BUY,
    )


def candle(symbol: str, timeframe: str, row: list[Any], now_ms: int, tf_ms: int) -> Candle:
    """A still-forming bar (its end is in the future) gets closed=False, never merged as closed."""
    open_ms = int(row[0])
    return Candle(
        symbol,
        timeframe,
        ms_to_dt(open_ms),
        float(row[1]),
        float(row[2]),
        float(row[3]),
        float(row[4]),
        float(row[5] or 0.0),
        closed=open_ms + tf_ms <= now_ms,
    )


def fill(venue: str, t: dict[str, Any], client_order_id: str, fee_sign: int = 1) -> Fill:
    fee = t.get("fee") or {}
    fee_cost, fee_ccy = dec(fee.get("cost")) * fee_sign, fee.get("currency") or ""
    return Fill(
        fill_id=str(t["id"]),
        client_order_id=client_order_id,
        venue=venue,
        symbol=t["symbol"],
        side=Side(t["side"]),
        quantity=dec(t["amount"]),
        price=dec(t["price"]),
        fee=fee_cost,
        fee_currency=fee_ccy,
        liquidity=Liquidity.MAKER if t.get("takerOrMaker") == "maker" else Liquidity.TAKER,
        ts=ms_to_dt(t.get("timestamp")),
        venue_order_id=None if t.get("order") is None else str(t["order"]),
    )


def venue_order(o: dict[str, Any]) -> VenueOrder:
    typ = o.get("type") or "limit"
    try:
        typ = OrderType(typ).value
    except ValueError:
        typ = OrderType.LIMIT.value
    cid = o.get("clientOrderId")
    if cid in (None, "", "0", 0):  # none given (kraken says userref 0): the venue's id stands in
        cid = str(o.get("id"))
    return VenueOrder(
        client_order_id=str(cid),
        venue_order_id=None if o.get("id") is None else str(o["id"]),
        symbol=o["symbol"],
        side=o.get("side") or "buy",
        type=typ,
        quantity=str(dec(o.get("amount"))),
        filled_quantity=str(dec(o.get("filled"))),
        price=None if o.get("price") in (None, 0) else str(dec(o["price"])),
        status=o.get("status") or "open",
        ts=ms_to_dt(o.get("timestamp")),
    )
