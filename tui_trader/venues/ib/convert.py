"""ib_async's objects <-> our domain types (Decimal at the boundary, UTC datetimes).

The words are those of IB's TWS API: order types MKT / LMT / STP / STP LMT, actions BUY /
SELL, execution sides BOT / SLD, order statuses (PendingSubmit, PreSubmitted, Submitted,
Filled, Cancelled, ApiCancelled, Inactive), and the trading-hours strings of a contract's
details ('20240102:0930-20240102:1600;20240103:CLOSED', times in its `timeZoneId`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tui_trader.core.enums import AssetClass, Liquidity, OrderType, Side, TimeInForce
from tui_trader.core.errors import UserError
from tui_trader.core.fills import Fill
from tui_trader.core.instrument import Instrument
from tui_trader.core.orders import Order
from tui_trader.venues.base import VenueOrder

TYPES = {OrderType.MARKET: "MKT", OrderType.LIMIT: "LMT", OrderType.STOP: "STP", OrderType.STOP_LIMIT: "STP LMT"}
OUR_TYPE = {v: k for k, v in TYPES.items()}
TIF = {TimeInForce.DAY: "DAY", TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}
OPEN = frozenset({"PendingSubmit", "ApiPending", "PreSubmitted", "Submitted", "PendingCancel", "Inactive"})
# IB's final statuses -> the word reconciliation reads.
FINAL = {"Filled": "filled", "Cancelled": "canceled", "ApiCancelled": "canceled"}
# Bar sizes IB serves for our timeframes, and how far back to ask for `limit` bars.
BAR_SIZES = {"1m": ("1 min", 60), "5m": ("5 mins", 300), "15m": ("15 mins", 900), "30m": ("30 mins", 1800),
             "1h": ("1 hour", 3600), "1d": ("1 day", 86400)}  # fmt: skip


def dec(value: Any) -> Decimal:
    if value in (None, ""):
        return Decimal(0)
    return Decimal(str(value))


def price_or_none(value: Any) -> Decimal | None:
    """IB's prices: an unset double is 1.7976931348623157e308."""
    if value is None or value == "" or float(value) >= 1e300:
        return None
    return Decimal(str(value))


def instrument(venue: str, symbol: str, min_tick: float = 0.01) -> Instrument:
    """A US stock or ETF at IB: whole shares through this adapter (IB's fractional orders are
    limited to some order types and accounts; refused here rather than guessed)."""
    tick = Decimal(str(min_tick)) if min_tick and min_tick > 0 else Decimal("0.01")
    return Instrument(symbol, venue, symbol, "USD", AssetClass.EQUITY, tick, Decimal(1),
                      min_qty=Decimal(1), always_open=False, fractional=False)  # fmt: skip


def order_fields(order: Order, inst: Instrument | None, extended: bool) -> dict[str, Any]:
    """The fields of an ib_async `Order` for one of ours (orderRef carries our client id)."""
    kind = TYPES.get(order.type)
    if kind is None:
        raise UserError(f"{order.type.value} orders are emulated by the engine, not sent to Interactive Brokers")
    qty = inst.round_qty(order.quantity) if inst else order.quantity
    if qty <= 0 or qty != qty.to_integral_value():
        raise UserError(f"this adapter sends whole shares to Interactive Brokers; {order.quantity} is not one")
    fields: dict[str, Any] = {
        "action": "BUY" if order.side is Side.BUY else "SELL",
        "totalQuantity": float(qty),
        "orderType": kind,
        "tif": TIF.get(order.time_in_force, "DAY"),
        "orderRef": order.client_order_id,
        "outsideRth": extended and order.type is OrderType.LIMIT,
    }
    if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        if order.price is None:
            raise UserError(f"a {order.type.value} order needs a limit price")
        fields["lmtPrice"] = float(inst.round_price(order.price) if inst else order.price)
    if order.type in (OrderType.STOP, OrderType.STOP_LIMIT):
        if order.stop_price is None:
            raise UserError(f"a {order.type.value} order needs a stop price")
        fields["auxPrice"] = float(inst.round_price(order.stop_price) if inst else order.stop_price)
    return fields


def cid_of(order: Any, venue: str) -> str:
    """Our client id: the order's orderRef, or a made-up one for an order placed elsewhere."""
    ref = str(getattr(order, "orderRef", "") or "")
    return ref or f"ext-{venue}-{getattr(order, 'permId', 0) or getattr(order, 'orderId', 0)}"


def status_word(status: str, filled: Decimal, quantity: Decimal) -> str:
    if status in FINAL:
        return FINAL[status]
    if quantity and filled >= quantity:
        return "filled"
    return "open"


def venue_order(trade: Any, venue: str) -> VenueOrder:
    o, st = trade.order, trade.orderStatus
    qty = dec(o.totalQuantity)
    filled = dec(st.filled) if st.filled else sum((dec(f.execution.shares) for f in trade.fills), Decimal(0))
    price = price_or_none(o.lmtPrice) if o.orderType in ("LMT", "STP LMT") else None
    ts = trade.log[0].time if trade.log else datetime.now(UTC)
    return VenueOrder(
        cid_of(o, venue), str(o.orderId or o.permId), trade.contract.symbol,
        "buy" if o.action == "BUY" else "sell", OUR_TYPE.get(o.orderType, OrderType.LIMIT).value,
        str(qty), str(filled), None if price is None else str(price), status_word(st.status, filled, qty), ts,
    )  # fmt: skip


def fill(venue: str, trade_order: Any, f: Any) -> Fill:
    """One execution (an ib_async Fill) as ours; its id is IB's execId."""
    ex, report = f.execution, f.commissionReport
    liquidity = {1: Liquidity.MAKER, 2: Liquidity.TAKER, 3: Liquidity.TAKER}.get(int(ex.lastLiquidity or 0),
                                                                               Liquidity.TAKER)  # fmt: skip
    ref = ex.orderRef or (trade_order.orderRef if trade_order is not None else "")
    cid = ref or f"ext-{venue}-{ex.permId or ex.orderId}"
    ts = ex.time if isinstance(ex.time, datetime) else datetime.now(UTC)
    fee = dec(report.commission) if report is not None and report.execId else Decimal(0)
    return Fill(
        ex.execId, cid, venue, f.contract.symbol, Side.BUY if ex.side == "BOT" else Side.SELL, dec(ex.shares),
        dec(ex.price), fee, (report.currency if report is not None and report.currency else "USD"), liquidity,
        ts.astimezone(UTC), str(ex.orderId or ex.permId),
    )  # fmt: skip


def sessions(hours: str, tz_name: str) -> list[tuple[datetime, datetime]]:
    """IB's hours string as UTC (start, end) pairs. Both of IB's formats are read:
    '20240102:0930-20240102:1600' and the older '20240102:0930-1600'; 'CLOSED' days are none."""
    tz = ZoneInfo(tz_name or "US/Eastern")
    out = []
    for part in (hours or "").split(";"):
        part = part.strip()
        if not part or part.endswith("CLOSED") or "-" not in part:
            continue
        start, end = part.split("-", 1)
        day = start.split(":")[0]
        if ":" not in end:
            end = f"{day}:{end}"
        try:
            a = datetime.strptime(start, "%Y%m%d:%H%M").replace(tzinfo=tz)
            b = datetime.strptime(end, "%Y%m%d:%H%M").replace(tzinfo=tz)
        except ValueError:
            continue
        out.append((a.astimezone(UTC), b.astimezone(UTC)))
    return out
