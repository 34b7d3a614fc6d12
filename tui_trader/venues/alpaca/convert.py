"""alpaca-py models -> our domain types (Decimal at the boundary, UTC datetimes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tui_trader.core.enums import AssetClass, Liquidity, OrderStatus, OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.core.fills import Fill
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Candle, OrderBook, Ticker, TradePrint
from tui_trader.venues.base import VenueOrder

# Alpaca's smallest fractional share step (qty has up to 9 decimals).
FRACTIONAL_LOT = Decimal("0.000000001")

# Trade-update events -> our order status; fills are reported with the fill itself.
EVENT_STATUS = {
    "new": OrderStatus.ACCEPTED,
    "accepted": OrderStatus.ACCEPTED,
    "pending_new": OrderStatus.ACCEPTED,
    "canceled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}

# Alpaca order status (REST) -> the string our reconciliation expects ("open" while working).
OPEN_STATUSES = frozenset(
    {"new", "partially_filled", "accepted", "pending_new", "accepted_for_bidding", "held",
     "pending_replace", "pending_cancel", "calculated"}
)

TIMEFRAMES = {"m": "Min", "h": "Hour", "d": "Day", "w": "Week"}


def dec(value: Any, default: str = "0") -> Decimal:
    if value is None or value == "":
        return Decimal(default)
    return Decimal(str(value))


def utc(ts: datetime | None) -> datetime:
    if ts is None:
        return datetime.now(UTC)
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def enum_value(value: Any) -> str:
    """alpaca-py gives enums or plain strings depending on the model: always the wire value."""
    return str(getattr(value, "value", value) or "")


def timeframe(tf: str) -> tuple[Any, timedelta]:
    """"1m" / "5m" / "1h" / "1d" -> alpaca TimeFrame and its length."""
    from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

    unit = tf[-1:].lower()
    try:
        amount = int(tf[:-1] or "1")
    except ValueError:
        amount = 0
    if unit not in TIMEFRAMES or amount <= 0:
        raise UserError(f"timeframe {tf!r} is not one Alpaca serves; use e.g. 1m, 5m, 15m, 1h, 1d")
    length = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
              "w": timedelta(weeks=1)}[unit] * amount
    return TimeFrame(amount, TimeFrameUnit(TIMEFRAMES[unit])), length


def instrument(venue: str, asset: Any) -> Instrument:
    """An Alpaca asset. Stocks trade in cents (sub-penny below $1 is refused by us: rare)."""
    crypto = enum_value(asset.asset_class) == "crypto"
    symbol = asset.symbol
    if crypto:
        base, _, quote = symbol.partition("/")
        tick = dec(asset.price_increment, "0.01")
        lot = dec(asset.min_trade_increment, "0.000000001")
        return Instrument(
            symbol, venue, base, quote or "USD", AssetClass.CRYPTO, tick.normalize(),
            lot.normalize(), min_qty=dec(asset.min_order_size), always_open=True, fractional=True,
        )
    fractional = bool(asset.fractionable)
    return Instrument(
        symbol, venue, symbol, "USD", AssetClass.EQUITY, Decimal("0.01"),
        FRACTIONAL_LOT if fractional else Decimal(1),
        min_qty=FRACTIONAL_LOT if fractional else Decimal(1),
        min_notional=Decimal(1) if fractional else Decimal(0),  # Alpaca's $1 fractional minimum
        always_open=False, fractional=fractional,
    )


def ticker(venue: str, symbol: str, q: Any, last: float) -> Ticker:
    """`last` is the latest trade price (the mid until a trade prints)."""
    bid, ask = float(q.bid_price or 0.0), float(q.ask_price or 0.0)
    if not last and bid and ask:
        last = (bid + ask) / 2
    return Ticker(venue, symbol, utc(q.timestamp), bid or last, ask or last, last,
                  float(q.bid_size or 0.0), float(q.ask_size or 0.0))


def top_of_book(venue: str, symbol: str, q: Any) -> OrderBook:
    bids = ((float(q.bid_price), float(q.bid_size)),) if q.bid_price else ()
    asks = ((float(q.ask_price), float(q.ask_size)),) if q.ask_price else ()
    return OrderBook(venue, symbol, utc(q.timestamp), bids, asks)


def trade_print(venue: str, symbol: str, t: Any, mid: float) -> TradePrint:
    """Stock prints carry no side: at or above the mid counts as a buy (the tick rule)."""
    side = getattr(t, "taker_side", None)
    if side is None:
        aggressor = Side.BUY if not mid or float(t.price) >= mid else Side.SELL
    else:
        aggressor = Side.SELL if enum_value(side).upper().startswith("S") else Side.BUY
    return TradePrint(venue, symbol, utc(t.timestamp), float(t.price), float(t.size), aggressor)


def candle(symbol: str, tf: str, bar: Any, now: datetime, length: timedelta) -> Candle:
    """A bar whose end is still in the future is sent as forming (closed=False)."""
    start = utc(bar.timestamp)
    return Candle(symbol, tf, start, float(bar.open), float(bar.high), float(bar.low),
                  float(bar.close), float(bar.volume or 0.0), closed=start + length <= now)


def order_symbol(raw: str | None, crypto: dict[str, str]) -> str:
    """Alpaca may answer BTCUSD for BTC/USD: map back to the symbol we asked for."""
    raw = raw or ""
    return crypto.get(raw, raw)


def venue_order(o: Any, crypto: dict[str, str]) -> VenueOrder:
    typ = enum_value(o.order_type or o.type) or "limit"
    typ = {"stop_limit": OrderType.STOP_LIMIT.value}.get(typ, typ)
    try:
        typ = OrderType(typ).value
    except ValueError:
        typ = OrderType.LIMIT.value
    status = enum_value(o.status)
    price = o.limit_price if o.limit_price not in (None, "", 0) else None
    return VenueOrder(
        client_order_id=o.client_order_id,
        venue_order_id=str(o.id),
        symbol=order_symbol(o.symbol, crypto),
        side=enum_value(o.side) or "buy",
        type=typ,
        quantity=str(dec(o.qty)),
        filled_quantity=str(dec(o.filled_qty)),
        price=None if price is None else str(dec(price)),
        status="open" if status in OPEN_STATUSES else status,
        ts=utc(o.submitted_at or o.created_at),
    )


def fill_from_update(venue: str, u: Any, crypto: dict[str, str]) -> Fill:
    o = u.order
    return Fill(
        fill_id=str(u.execution_id),
        client_order_id=o.client_order_id,
        venue=venue,
        symbol=order_symbol(o.symbol, crypto),
        side=Side(enum_value(o.side)),
        quantity=dec(u.qty),
        price=dec(u.price),
        fee=Decimal(0),  # equities are commission-free; crypto fees come as separate CFEE activities
        fee_currency="USD",
        liquidity=Liquidity.TAKER,
        ts=utc(u.timestamp),
        venue_order_id=str(o.id),
    )


def fill_id_from_activity(activity_id: str) -> str:
    """A FILL activity's id is "<time>::<execution id>": the same id the trade update carries."""
    return activity_id.rsplit("::", 1)[-1]


def fill_from_activity(venue: str, a: dict[str, Any], cid: str, crypto: dict[str, str]) -> Fill:
    return Fill(
        fill_id=fill_id_from_activity(str(a["id"])),
        client_order_id=cid,
        venue=venue,
        symbol=order_symbol(a.get("symbol"), crypto),
        side=Side(str(a.get("side", "buy")).lower()),
        quantity=dec(a.get("qty")),
        price=dec(a.get("price")),
        fee=Decimal(0),
        fee_currency="USD",
        liquidity=Liquidity.TAKER,
        ts=utc(datetime.fromisoformat(str(a["transaction_time"]).replace("Z", "+00:00"))),
        venue_order_id=str(a.get("order_id")),
    )
