"""What differs between exchanges behind ccxt's unified API, as data the adapter reads.

Each entry was found by running the adapter against a loopback fake of that exchange's own
wire format (tests/fakes/<exchange>_exchange.py); an exchange not listed gets ccxt's
unified behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Where each exchange takes our client order id: (on create, on fetch/cancel).
# ccxt's unified `clientOrderId` works for most; these need the venue's own name. An empty
# fetch/cancel name: the exchange finds orders by its own id only (we search its order list).
CLIENT_ID_PARAMS: dict[str, tuple[str, str]] = {
    "coinbase": ("client_order_id", ""),
    "binance": ("newClientOrderId", "origClientOrderId"),
    "binanceus": ("newClientOrderId", "origClientOrderId"),
    "binanceusdm": ("newClientOrderId", "origClientOrderId"),
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
AUTH_ERROR_TEXTS = (
    "EAPI:Invalid signature",  # kraken: the secret does not sign
    "authentication failure",  # coinbase's websocket: the user channel's JWT refused
)

# Answers ccxt reads as bad keys (an AuthenticationError) that refuse a websocket token, not
# the keys: Kraken's "ESession:Invalid session" for a token it no longer takes (a token must be
# used within 15 minutes of GetWebSocketsToken, and Kraken's upgrades have voided live ones;
# Kraken's advice: ask GetWebSocketsToken for a new one). Keys it refuses are refused there.
SESSION_REFUSED_TEXTS = ("ESession:Invalid session",)

# What a trader is told where a venue's refusal says more than "wrong keys" (ccxt: an
# AuthenticationError, so the private streams stop and orders are refused unsent): the
# answer's pattern and the line (`{venue}`: the venue's name; `{again}`: how the running
# venue takes the fix, `venue reconnect`, or at a start that failed, starting again). Elsewhere:
# "authentication failed; run `tui-trader keys set {venue}`" (running: "..., then
# `tui-trader venue reconnect {venue}`"). OKX's 60009 "Login failure" has no cause in its
# docs, beside its own codes for a wrong key (60005), sign (60007), passphrase (60024),
# timestamp (60004, 60006) or an internal error (63999). KuCoin's error code pages: 400007
# "Access Denied" (the key lacks the permission the request needs; ccxt: AuthenticationError),
# 411100 "User are frozen" (the account, not the keys; ccxt: AccountSuspended).
AUTH_REFUSALS: dict[str, tuple[tuple[str, str], ...]] = {
    "okx": (
        (
            r'"code":\s*"60009"',
            'authentication failed; okx refused the login saying only "Login failure" (60009): check that the '
            "API key still exists at okx.com, that its IP whitelist has this machine's address, and that it is "
            "a demo key for sandbox = true (a live key otherwise); then run `tui-trader keys set {venue}` and {again}",
        ),
    ),
    "kucoin": (
        (
            r'"code":\s*"400007"',
            "kucoin refused the key for want of a permission (400007 Access Denied): give it the General and "
            "Spot Trading permissions at kucoin.com (API Management), or run `tui-trader keys set {venue}` "
            "with a key that has them; then {again}",
        ),
        (
            r'"code":\s*"411100"',
            "kucoin has frozen the account (411100 User are frozen): nothing can be traded until KuCoin's "
            "support lifts it (the keys are not the cause); then {again}",
        ),
    ),
}

# Keys refused once they had worked: Binance's -2015 "Invalid API-key, IP, or permissions for
# action.", which ccxt raises as a DDoSProtection after a signed request went through (it reads
# it as a temporary ban; ccxt/binance.py:12640). A revoked key looks the same: ambiguous.
KEYS_REFUSED_CODES = ("-2015",)  # the error body's "code"

def _under(*path: str, tail: str = "") -> Callable[[str, dict[str, Any]], bool]:
    """A ccxt client url that starts with the url at `path` in ccxt's `urls`, plus `tail`."""

    def match(url: str, urls: dict[str, Any]) -> bool:
        node: Any = urls
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        return isinstance(node, str) and url.startswith(node + tail)

    return match


# Which of ccxt's sockets are an exchange's private (user data) ones, told by their url: a
# refused private subscribe renews those alone, market data untouched. Where public and private
# share a socket (coinbase: one for all) or it is not known, the venue reconnects as a whole.
PRIVATE_WS: dict[str, Callable[[str, dict[str, Any]], bool]] = {
    "binance": _under("api", "ws", "ws-api", "spot"),  # the signed user data subscribe
    "okx": _under("api", "ws", tail="/private"),  # login, orders (ccxt adds ?brokerId on demo)
    "bybit": _under("api", "ws", "private", "contract"),  # /v5/private, spot and contracts alike
    "kraken": _under("api", "ws", "private"),  # ws-auth: v1 and v2 (executions)
    "binanceusdm": lambda url, urls: "listenKey=" in url,  # /private/ws?listenKey=...
}

# Where ccxt keeps an exchange's user data listenKey (`options[...]`), reused for 20 minutes
# after it was asked for: forgotten when the venue refuses the user data socket's handshake
# (the key expired, or the API key behind it was revoked), so the next subscribe asks again
# (POST /listenKey: the live key, or a new one; revoked keys: -2015) instead of reconnecting
# with the refused one until ccxt's 20 minutes are up.
LISTEN_KEY_OPTIONS = {"binanceusdm": "linear"}


def forget_refused_listen_key(exchange_id: str, options: dict[str, Any], error: str) -> bool:
    """After a private stream's `error`: a handshake refused (HTTP 400) on the listenKey's
    socket makes ccxt ask for the listenKey again (`LISTEN_KEY_OPTIONS`); True if it was that."""
    bucket = options.get(LISTEN_KEY_OPTIONS.get(exchange_id, ""))
    if not (isinstance(bucket, dict) and error.startswith("400") and "listenKey=" in error):
        return False
    bucket["lastAuthenticatedTime"] = 0
    return True


# Where ccxt.pro keeps an exchange's websocket token negotiation (`options[...]`: per socket
# kind, a future of its url with the token in it), forgotten at each venue-wide reconnect so
# that the new sockets open with fresh tokens. kucoin: a kept token may have expired (the socket
# answers "token is expired", which ccxt.pro raises in its receive loop where no stream hears
# it), and a kept future may be cancelled: the reconnect cancelled the stream awaiting the
# negotiation, and asyncio cancels the awaited future with it; every later watch then raised
# CancelledError at once, the venue reconnecting for ever without market data (found on the
# fake by the keys-revoked test: 1 run in 3 on two workers).
WS_TOKEN_CACHE = {"kucoin": "urls"}


def forget_ws_tokens(exchange_id: str, options: dict[str, Any]) -> None:
    """Before new sockets are opened: ccxt negotiates their tokens again (`WS_TOKEN_CACHE`)."""
    name = WS_TOKEN_CACHE.get(exchange_id)
    if name is not None and isinstance(options.get(name), dict):
        options[name] = {}


# Exchanges whose ccxt.pro raises the venue's answer to a refused subscribe out of its receive
# loop, where no stream hears it and the socket (shared by market data and the user channel)
# goes deaf (`ws_refusals` gives it to the subscription refused): the message hashes of the
# private streams, whose futures get an auth refusal.
WS_REFUSAL_RAISED: dict[str, tuple[str, ...]] = {
    "coinbase": ("user",),  # {"type": "error", "message": "authentication failure"}
}


# Exchanges whose ccxt.pro rejects a refused subscribe by its request id, a future nobody
# awaits (ccxt/pro/kraken.py `handle_error_message`): the watches on that subscription wait for
# ever. They get the refusal instead (`ws_refusals`); their private sockets must be known
# (`PRIVATE_WS`).
WS_REFUSAL_BY_REQUEST_ID = frozenset({"kraken"})  # "ESession:Invalid session", "Currency pair not supported"

# Exchanges whose ccxt.pro sends one subscribe per symbol and stream, past the venue's websocket
# limits for a trader watching many symbols (kucoin: 100 messages per 10 s, 100 topics a
# subscribe, 400 a connection): their public subscribes are batched and paced, and a start that
# would pass the topics a socket holds is refused (`kucoin_ws`).
WS_SUBSCRIBES_BATCHED = frozenset({"kucoin"})


# Exchanges whose ccxt.pro loads the order book's REST snapshot from a signed endpoint when keys
# are set (kucoin: the full depth, GET /api/v3/market/orderbook/level2), and the depth of their
# public one, which ccxt asks for when given it as the limit (kucoin: GET
# /api/v1/market/orderbook/level2_100): the book falls back to it when the keys are refused
# (`book_snapshot.PublicSnapshot`), rather than stopping with the private streams.
PUBLIC_BOOK_DEPTH: dict[str, int] = {"kucoin": 100}


def private_ws_urls(exchange_id: str, urls: dict[str, Any], clients: dict[str, Any]) -> list[str] | None:
    """The urls of ccxt's open private sockets for this exchange (`PRIVATE_WS`); None where
    they are not known to be sockets of their own."""
    private = PRIVATE_WS.get(exchange_id)
    return None if private is None else [url for url in clients if private(url, urls)]


def public_ws_open(exchange_id: str, urls: dict[str, Any], clients: dict[str, Any]) -> bool:
    """One of ccxt's sockets other than the private ones (`PRIVATE_WS`) is open: a private
    socket lost while it reads on was lost alone. False where the private ones are not known."""
    private = PRIVATE_WS.get(exchange_id)
    return private is not None and any(
        not private(url, urls) and not client.closed() for url, client in list(clients.items())
    )


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

# Exchanges whose public trades endpoint for spot answers only its newest prints, at most this
# many, whatever `since` says (ccxt passes the limit as is: more is refused or cut). Bybit v5
# /v5/market/recent-trade: spot [1, 60]; linear / inverse [1, 1000]. KuCoin
# /api/v1/market/histories: its last 100, no limit to ask. Others: 500 a page from `since`.
RECENT_TRADES_ONLY: dict[str, int] = {"bybit": 60, "kucoin": 100}
BACKFILL_LIMIT = 500
BACKFILL_PAGES = 10  # pages of trades from the gap's start, at most, before the rest is said missing


# The most candles one OHLCV request answers, as each venue documents it (ccxt passes our
# limit through, capped at these): Binance spot /api/v3/klines 1000, USD-M / COIN-M futures
# 1500; Bybit v5 /v5/market/kline 1000; OKX /api/v5/market/history-candles 100 (its
# /market/candles 300, the last 1440 bars only: the history answers both ways); KuCoin
# /api/v1/market/candles 1500; Coinbase Advanced Trade candles 300 (ccxt's window; no row for
# a bar without trades); Kraken /0/public/OHLC 720, its newest 720 whatever `since` says.
OHLCV_PAGE: dict[str, int] = {
    "binance": 1000,
    "binanceusdm": 1500,
    "binancecoinm": 1500,
    "bybit": 1000,
    "okx": 100,
    "kucoin": 1500,
    "coinbase": 300,
    "kraken": 720,
}
# Venues with no OHLCV row for a bar without trades (their docs: Coinbase "no data point" for a
# bucket without trades; KuCoin "no data is published for intervals where there are no ticks").
OHLCV_SPARSE = frozenset({"coinbase", "kucoin"})
# Venues whose OHLCV answer with a start and no end is the newest `limit` bars after the start
# (Bybit v5 kline: `start` and `end`, the list newest first): each page asks up to its own end
# (ccxt's `until`), else a gap longer than a page read as its newest page, the rest a hole.
OHLCV_UNTIL = frozenset({"bybit"})
CANDLE_PAGES = 20  # pages of candles read back at most: the newest ones; older than that said missing


def ohlcv_page(exchange_id: str) -> int:
    return OHLCV_PAGE.get(exchange_id, BACKFILL_LIMIT)


def trades_backfill_limit(exchange_id: str, spot: bool) -> tuple[int, bool]:
    """How many public trades one backfill call asks for, and whether the answer is the venue's
    newest prints (not those from `since`)."""
    recent = RECENT_TRADES_ONLY.get(exchange_id) if spot else None
    return (recent, True) if recent else (BACKFILL_LIMIT, False)


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


# Exchanges whose ccxt edit_order changes the order in place (same order id, same client id),
# verified against their fakes. Elsewhere edit_order is a cancel-and-replace under new ids (or
# unverified), so the engine cancels and replaces itself, where it can see every step.
AMEND_IN_PLACE = frozenset({"okx", "bybit"})


# Exchanges whose perpetuals (leverage, margin mode, funding history, the venue's own
# liquidations) were verified against a loopback fake of their futures API. Elsewhere a live
# venue refuses perpetual symbols at start, and funding history is not booked: ccxt's unified
# funding amounts differ in sign between exchanges (ccxt issue #26404), see FUNDING_SIGN.
DERIVATIVES_VERIFIED = frozenset({"binanceusdm", "bybit"})


def wallet_totals(exchange_id: str, info: Any) -> dict[str, Any]:
    """Currency -> the wallet balance, where ccxt's `total` is more than the wallet: Binance
    USDⓈ-M's `total` is the margin balance, the wallet plus the open positions' unrealised P&L,
    which the engine's positions add again (its /fapi account's `walletBalance` per asset, or
    its /fapi/v2/balance rows' `balance`). Empty elsewhere: `total` stands."""
    if exchange_id != "binanceusdm":
        return {}
    rows = info if isinstance(info, list) else (info or {}).get("assets") or []
    return {
        str(r.get("asset")): r.get("walletBalance", r.get("balance"))
        for r in rows
        if isinstance(r, dict) and r.get("asset") and r.get("walletBalance", r.get("balance")) is not None
    }

# ccxt's unified funding amount times this is what the account received (> 0) or paid (< 0):
# bybit passes the `execFee` of Bybit's Funding executions, which is what the account paid.
FUNDING_SIGN: dict[str, int] = {"bybit": -1}

# Fills the venue makes itself that ccxt's fetch_my_trades leaves out (bybit asks execType=Trade
# only): asked for too when the reconcile reads the fill history.
FORCED_EXEC_TYPES: dict[str, tuple[str, ...]] = {"bybit": ("BustTrade", "AdlTrade")}

# Answers to "set the leverage" that mean it is set already (not a refusal).
LEVERAGE_UNCHANGED = ("110043",)  # Bybit: "Set leverage not modified"
