"""Schwab Trader API JSON <-> our domain types (Decimal at the boundary, UTC datetimes).

Shapes are those of Schwab's published OpenAPI documents (Trader API: `Order`,
`OrderActivity`, `ExecutionLeg`, `SecuritiesAccount`; Market Data: `Hours`, `CandleList`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tui_trader.core.enums import AssetClass, Liquidity, OrderType, Side, TimeInForce
from tui_trader.core.errors import UserError
from tui_trader.core.fills import Fill
from tui_trader.core.instrument import Instrument
from tui_trader.core.orders import Order
from tui_trader.venues.base import VenueOrder
from tui_trader.venues.idmap import Candidate, Fingerprint

# Schwab's order status -> the word our reconciliation reads ("open" while it may still trade).
FINAL = {"FILLED": "filled", "CANCELED": "canceled", "REJECTED": "rejected", "EXPIRED": "expired",
         "REPLACED": "canceled"}  # fmt: skip
TYPES = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.STOP: "STOP",
    OrderType.STOP_LIMIT: "STOP_LIMIT",
}
OUR_TYPE = {v: k for k, v in TYPES.items()}
DURATION = {TimeInForce.DAY: "DAY", TimeInForce.GTC: "GOOD_TILL_CANCEL", TimeInForce.FOK: "FILL_OR_KILL",
            TimeInForce.IOC: "IMMEDIATE_OR_CANCEL"}  # fmt: skip
# Price history: our timeframe -> (frequencyType, frequency, periodType) Schwab serves.
TIMEFRAMES = {
    "1m": ("minute", 1, "day"), "5m": ("minute", 5, "day"), "10m": ("minute", 10, "day"),
    "15m": ("minute", 15, "day"), "30m": ("minute", 30, "day"), "1d": ("daily", 1, "year"),
    "1w": ("weekly", 1, "year"),
}  # fmt: skip


def dec(value: Any, default: str = "0") -> Decimal:
    if value is None or value == "":
        return Decimal(default)
    return Decimal(str(value))


def parse_time(raw: Any) -> datetime:
    """Schwab writes `2024-03-29T13:30:00+0000` (no colon in the offset) or ISO with one."""
    if raw in (None, ""):
        return datetime.now(UTC)
    text = str(raw).replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    ts = datetime.fromisoformat(text)
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def iso(ts: datetime) -> str:
    """The query format Schwab's order and transaction endpoints take (yyyy-MM-dd'T'HH:mm:ss.SSSZ)."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def instrument(venue: str, symbol: str) -> Instrument:
    """A US stock or ETF at Schwab: cents, whole shares (the Trader API takes no fractions)."""
    return Instrument(symbol, venue, symbol, "USD", AssetClass.EQUITY, Decimal("0.01"), Decimal(1),
                      min_qty=Decimal(1), always_open=False, fractional=False)  # fmt: skip


def order_request(order: Order, inst: Instrument | None, extended: bool) -> dict[str, Any]:
    """The JSON Schwab's place-order endpoint takes for one equity order."""
    kind = TYPES.get(order.type)
    if kind is None:
        raise UserError(f"{order.type.value} orders are emulated by the engine, not sent to Schwab")
    qty = inst.round_qty(order.quantity) if inst else order.quantity
    if qty <= 0 or qty != qty.to_integral_value():
        raise UserError(f"Schwab's API trades whole shares only; {order.quantity} is not one")
    duration = DURATION.get(order.time_in_force, "DAY")
    if order.type is OrderType.MARKET and duration == "GOOD_TILL_CANCEL":
        duration = "DAY"  # Schwab takes market orders for the day only
    body: dict[str, Any] = {
        "orderType": kind,
        "session": "SEAMLESS" if extended else "NORMAL",
        "duration": duration,
        "orderStrategyType": "SINGLE",
        "orderLegCollection": [
            {
                "instruction": "BUY" if order.side is Side.BUY else "SELL",
                "quantity": int(qty),
                "instrument": {"symbol": order.symbol, "assetType": "EQUITY"},
            }
        ],
    }

    def px(value: Decimal | None) -> str:
        assert value is not None, "a limit or stop order carries its price"
        return str(inst.round_price(value) if inst else value)

    if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        body["price"] = px(order.price)
    if order.type in (OrderType.STOP, OrderType.STOP_LIMIT):
        body["stopPrice"] = px(order.stop_price)
    return body


def fingerprint_of_request(body: dict[str, Any]) -> Fingerprint:
    leg = body["orderLegCollection"][0]
    return Fingerprint.of(leg["instrument"]["symbol"], _side(leg["instruction"]).value, leg["quantity"],
                          _type(body["orderType"]), body.get("price"), body.get("stopPrice"))  # fmt: skip


def _side(instruction: str) -> Side:
    return Side.BUY if str(instruction).upper().startswith("BUY") else Side.SELL


def _type(kind: str) -> str:
    return OUR_TYPE.get(str(kind).upper(), OrderType.LIMIT).value


def order_id(o: dict[str, Any]) -> str:
    return str(o.get("orderId", ""))


def symbol_of(o: dict[str, Any]) -> str:
    legs = o.get("orderLegCollection") or [{}]
    return str((legs[0].get("instrument") or {}).get("symbol", ""))


def candidate(o: dict[str, Any]) -> Candidate:
    legs = o.get("orderLegCollection") or [{}]
    fp = Fingerprint.of(symbol_of(o), _side(legs[0].get("instruction", "BUY")).value, o.get("quantity"),
                        _type(o.get("orderType", "")), o.get("price"), o.get("stopPrice"))  # fmt: skip
    return Candidate(order_id(o), fp, parse_time(o.get("enteredTime")))


def status_word(o: dict[str, Any]) -> str:
    return FINAL.get(str(o.get("status", "")).upper(), "open")


def venue_order(o: dict[str, Any], cid: str) -> VenueOrder:
    legs = o.get("orderLegCollection") or [{}]
    price = o.get("price")
    return VenueOrder(
        client_order_id=cid,
        venue_order_id=order_id(o),
        symbol=symbol_of(o),
        side=_side(legs[0].get("instruction", "BUY")).value,
        type=_type(o.get("orderType", "")),
        quantity=str(dec(o.get("quantity"))),
        filled_quantity=str(dec(o.get("filledQuantity"))),
        price=None if price in (None, "", 0) else str(dec(price)),
        status=status_word(o),
        ts=parse_time(o.get("enteredTime")),
    )


def executions(o: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each execution leg of the order, numbered in the order Schwab lists them (n = 0, 1 ...)."""
    n = 0
    for activity in o.get("orderActivityCollection") or []:
        if str(activity.get("activityType", "")).upper() != "EXECUTION":
            continue
        for leg in activity.get("executionLegs") or []:
            yield n, leg
            n += 1


def fills(venue: str, o: dict[str, Any], cid: str) -> list[Fill]:
    """The order's executions as fills. A fill's id is `<order id>:<n>`: the same whether it is
    read after a stream message or by reconciliation, so it counts once."""
    legs = o.get("orderLegCollection") or [{}]
    side = _side(legs[0].get("instruction", "BUY"))
    vid = order_id(o)
    return [
        Fill(
            fill_id=f"{vid}:{n}",
            client_order_id=cid,
            venue=venue,
            symbol=symbol_of(o),
            side=side,
            quantity=dec(leg.get("quantity")),
            price=dec(leg.get("price")),
            fee=Decimal(0),  # Schwab charges no commission on online US stock trades
            fee_currency="USD",
            liquidity=Liquidity.MAKER if str(o.get("orderType")) == "LIMIT" else Liquidity.TAKER,
            ts=parse_time(leg.get("time")),
            venue_order_id=vid,
        )
        for n, leg in executions(o)
    ]
