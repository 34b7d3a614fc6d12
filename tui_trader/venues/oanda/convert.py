"""OANDA v20's JSON (instruments, prices, orders, transactions) as our types.

OANDA names an instrument `EUR_USD`; we name it `EUR/USD`. Numbers arrive as strings and stay
Decimal; times are RFC 3339 with nanoseconds. Units are signed (> 0 buy, < 0 sell).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tui_trader.core.cashflows import SWAP, CashFlow
from tui_trader.core.contracts import MarginTier
from tui_trader.core.enums import AssetClass, InstrumentKind, Liquidity, MarginMode, OrderStatus, OrderType, Side
from tui_trader.core.fills import Fill
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Ticker
from tui_trader.venues.base import VenueOrder

ORDER_TYPES = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.STOP: "STOP",
}
_STATES = {"PENDING": "accepted", "FILLED": "filled", "TRIGGERED": "accepted", "CANCELLED": "cancelled"}


def symbol(instrument: str) -> str:
    return instrument.replace("_", "/")


def instrument_name(sym: str) -> str:
    return sym.replace("/", "_")


def ts(text: str | None) -> datetime:
    """RFC 3339 with up to nine decimals ("2026-01-05T14:30:00.123456789Z"), or Unix seconds."""
    if not text:
        return datetime.now(UTC)
    if text.replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(text), UTC)
    main, _, frac = text.rstrip("Z").partition(".")
    micro = int((frac + "000000")[:6]) if frac else 0
    return datetime.fromisoformat(main).replace(microsecond=micro, tzinfo=UTC)


def dec(value: Any, default: str = "0") -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(default)


def instrument(venue: str, data: dict[str, Any]) -> Instrument:
    """An instrument of GET /v3/accounts/{id}/instruments: pipLocation, displayPrecision,
    tradeUnitsPrecision, minimumTradeSize, marginRate (leverage = 1 / marginRate; OANDA closes
    the account out at half the margin used, so maintenance is half the initial rate)."""
    name = symbol(data["name"])
    base, _, quote = name.partition("/")
    pip = Decimal(10) ** int(data.get("pipLocation", -4))
    tick = Decimal(10) ** -int(data.get("displayPrecision", 5))
    lot = Decimal(10) ** -int(data.get("tradeUnitsPrecision", 0))
    rate = dec(data.get("marginRate"), "0.02")
    leverage = (Decimal(1) / rate).quantize(Decimal(1)) if rate > 0 else Decimal(1)
    kind = InstrumentKind.FX if data.get("type", "CURRENCY") in ("CURRENCY", "METAL") else InstrumentKind.CFD
    tier = MarginTier(Decimal(0), Decimal("1e30"), leverage, rate / 2)
    return Instrument(
        name, venue, base, quote, AssetClass.FOREX, tick, lot, dec(data.get("minimumTradeSize"), "1"),
        always_open=False, kind=kind, max_leverage=leverage, margin_modes=(MarginMode.CROSS,), tiers=(tier,), pip=pip,
    )


def ticker(venue: str, price: dict[str, Any]) -> Ticker | None:
    """A PRICE message (the pricing stream or GET pricing): the best bid and ask."""
    bids, asks = price.get("bids") or [], price.get("asks") or []
    if not bids or not asks:
        return None
    bid, ask = float(bids[0]["price"]), float(asks[0]["price"])
    return Ticker(
        venue, symbol(price["instrument"]), ts(price.get("time")), bid, ask, (bid + ask) / 2,
        float(bids[0].get("liquidity", 0)), float(asks[0].get("liquidity", 0)),
    )


def fill(venue: str, tx: dict[str, Any], client_order_id: str) -> Fill:
    """An ORDER_FILL transaction: one fill at its price for its signed units; OANDA's
    commission (usually 0: the spread is the cost) as the fee, in the account currency."""
    units = dec(tx["units"])
    return Fill(
        fill_id=f"oanda-{tx['id']}",
        client_order_id=client_order_id,
        venue=venue,
        symbol=symbol(tx["instrument"]),
        side=Side.BUY if units > 0 else Side.SELL,
        quantity=abs(units),
        price=dec(tx["price"]),
        fee=abs(dec(tx.get("commission"))),
        fee_currency=str(tx.get("accountCurrency") or symbol(tx["instrument"]).partition("/")[2]),
        liquidity=Liquidity.TAKER,
        ts=ts(tx.get("time")),
        venue_order_id=str(tx.get("orderID") or ""),
    )


def financing(venue: str, tx: dict[str, Any], currency: str) -> list[CashFlow]:
    """A DAILY_FINANCING transaction: one swap payment per instrument it names."""
    out = []
    for part in tx.get("positionFinancings") or []:
        amount = dec(part.get("financing"))
        if amount == 0:
            continue
        out.append(
            CashFlow(
                f"{tx['id']}-{part['instrument']}", venue, symbol(part["instrument"]), SWAP, amount,
                str(tx.get("accountCurrency") or currency), ts(tx.get("time")),
            )
        )
    return out


def venue_order(data: dict[str, Any]) -> VenueOrder:
    """An order of GET orders/@{clientID} or pendingOrders."""
    units = dec(data.get("units"))
    filled = abs(units) if data.get("state") == "FILLED" else Decimal(0)
    ext = data.get("clientExtensions") or {}
    return VenueOrder(
        str(ext.get("id") or ""),
        str(data.get("id") or ""),
        symbol(str(data.get("instrument", ""))),
        "buy" if units > 0 else "sell",
        str(data.get("type", "")).lower(),
        str(abs(units)),
        str(filled),
        data.get("price"),
        _STATES.get(str(data.get("state")), "accepted"),
        ts(data.get("createTime")),
    )


def status_of(state: str) -> OrderStatus:
    return OrderStatus(_STATES.get(state, "accepted"))
