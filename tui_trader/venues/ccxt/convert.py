"""ccxt's unified structures (dicts of floats) -> our domain types (Decimal at the boundary)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tui_trader.core.enums import AssetClass, Liquidity, OrderStatus, OrderType, Side
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

# Where each exchange takes our client order id: (on create, on fetch/cancel).
# ccxt's unified `clientOrderId` works for most; these need the venue's own name. An empty
# fetch/cancel name: the exchange finds orders by its own id only (we search its order list).
CLIENT_ID_PARAMS: dict[str, tuple[str, str]] = {
    "coinbase": ("client_order_id", ""),
    "binance": ("newClientOrderId", "origClientOrderId"),
    "binanceus": ("newClientOrderId", "origClientOrderId"),
    "okx": ("clOrdId", "clOrdId"),
    "bybit": ("orderLinkId", "orderLinkId"),
    "kucoin": ("clientOid", "clientOid"),
    # ccxt sends clientOrderId as cl_ord_id (free text, at most 18 characters); cancel takes
    # cl_ord_id; REST orders and ws executions carry it as cl_ord_id
    "kraken": ("clientOrderId", "cl_ord_id"),
}

# Exchanges whose fetch_order cannot find an order by our id (kraken's QueryOrders needs its
# txid): the ccxt listings searched instead, each filtered by {"clientOrderId": our id}.
FIND_BY_CLIENT_ID: dict[str, tuple[str, ...]] = {
    "kraken": ("fetch_open_orders", "fetch_closed_orders"),
}

# Exchanges whose ccxt.pro order stream fills `clientOrderId` from another field (kraken:
# order_userref, 0 when unset): our id is read from the raw message's fetch/cancel name only.
WS_CLIENT_ID_IN_INFO_ONLY = frozenset({"kraken"})

# Error texts ccxt leaves as a plain ExchangeError that mean the key or secret is wrong.
AUTH_ERROR_TEXTS = ("EAPI:Invalid signature",)  # kraken: the secret does not sign


def client_id_params(exchange_id: str) -> tuple[str, str]:
    return CLIENT_ID_PARAMS.get(exchange_id, ("clientOrderId", "clientOrderId"))


# Exchanges whose ccxt market buy spends a quote amount: params that size it in base units
# instead (our quantity), from the base quantity as a string.
MARKET_BUY_IN_BASE: dict[str, Callable[[str], dict[str, Any]]] = {
    # Advanced Trade takes base_size on market_market_ioc buys too; ccxt only sends quote_size
    "coinbase": lambda qty: {
        "createMarketBuyOrderRequiresPrice": False,
        "order_configuration": {"market_market_ioc": {"base_size": qty}},
    },
}

# Exchanges whose fetch_trades refuses a `since` without an `until` (ccxt ArgumentsRequired).
TRADES_SINCE_NEEDS_UNTIL = frozenset({"coinbase"})


# ccxt options an exchange needs for a spot venue (the user's `options.options` win).
CCXT_OPTIONS: dict[str, dict[str, Any]] = {
    # bybit defaults to swap (open orders / fills without a symbol would ask category=linear),
    # and its fetchOrder refuses without acknowledging it only sees the last 500 orders
    "bybit": {"defaultType": "spot", "fetchOrder": {"acknowledged": True}},
}


# How an exchange pages our trade history (fetch_my_trades): the most trades one call returns
# and, where it answers newest first from `since`, the (request param, trade info key) of the
# cursor that asks for older trades. Default: oldest first from `since`, 1000 a page (Binance).
FILLS_PAGING: dict[str, tuple[int, tuple[str, str] | None]] = {
    "okx": (100, ("after", "billId")),  # /trade/fills-history: newest first, max 100
    "kucoin": (100, ("lastId", "id")),  # /hf/fills: newest first, 100 unless `limit` says
    # /v5/execution/list: newest first, 50 a page by default, 7 days from startTime
    "bybit": (50, ("cursor", "nextPageCursor")),
    "kraken": (50, ("ofs", "")),  # TradesHistory: newest first, 50 a call; no key: an offset
}

# Streamed own trades whose fee ccxt.pro passes through with the exchange's sign (negative =
# charged) where its REST trades say a positive cost: multiply by this to agree with REST.
WS_FILL_FEE_SIGN: dict[str, int] = {
    "okx": -1,  # ccxt.pro okx order_to_trade copies `fillFee` as is
}


def fills_paging(exchange_id: str) -> tuple[int, tuple[str, str] | None]:
    return FILLS_PAGING.get(exchange_id, (1000, None))


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
    limits = market.get("limits") or {}
    precision = market.get("precision") or {}
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
    )


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


def book(venue: str, symbol: str, b: dict[str, Any], depth: int = 25) -> OrderBook:
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
    base, _, quote = str(t["symbol"]).partition("/")
    if fee_ccy and fee_ccy == base and quote:
        # a fee in the base coin (bybit's spot buys): the portfolio books fees in the quote
        fee_cost, fee_ccy = fee_cost * dec(t["price"]), quote.split(":")[0]
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
    return VenueOrder(
        client_order_id=o.get("clientOrderId") or str(o.get("id")),
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
