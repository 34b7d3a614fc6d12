"""A loopback fake KuCoin spot exchange (REST + websocket) for ccxt / ccxt.pro: the wire layer.

Trading, prices and faults live in `FakeMarket`; this file speaks KuCoin's spot API as ccxt uses
it for a classic (non-UTA) account that has the high-frequency ("hf") trading account:

REST  /api/v2/symbols, /api/v1/market/{allTickers,stats,candles,histories,orderbook/level2_N},
      /api/v3/market/orderbook/level2 (signed), /api/v1/contracts/active (no futures),
      /api/v1/bullet-public, /api/v1/bullet-private (signed): the websocket token + endpoint,
      /api/v1/hf/accounts/opened, /api/ua/v1/account/mode, /api/v3/margin/symbols,
      /api/v1/isolated/symbols, /api/v1/accounts, /api/v1/hf/orders (POST, GET, DELETE by id
      or client-order/{clientOid}), /api/v1/hf/orders/active, /done, /api/v1/hf/fills.
WS    /endpoint?token=..&connectId=..  welcome, ping/pong, subscribe/ack; topics
      /market/snapshot, /market/level2 (deltas with sequences over a REST snapshot),
      /market/match, /market/candles, and private /spotMarket/tradeOrders.

Signed requests are checked as KuCoin does (API key version 2): KC-API-KEY, KC-API-PASSPHRASE =
base64(HMAC-SHA256(secret, passphrase)), KC-API-SIGN = base64(HMAC-SHA256(secret,
timestamp + method + path?query + body)), timestamp within 5 s.

Faults: FakeMarket's switches, plus `expire_tokens` (websocket tokens stop working, as KuCoin's
do after 24 h: a socket opened with one gets an error message and is closed), `refuse_ip` (every
signed call refused 400006, our IP not on the key's list), `refuse_signed` (every signed call
answered with one of KuCoin's codes: `SIGNED_REFUSALS`) and `book_depth` (a book deeper than
the public level2_100 snapshot shows). Refusals are KuCoin's gateway codes: 400003 "KC-API-KEY
not exists", 400004 passphrase, 400002 timestamp, 400005 signature, 400006 IP.

Websocket limits, per connection, from KuCoin's "Rate Limit" page (Websocket Rate Limit) and its
websocket error codes page (answers: {"id": <the message's id>, "type": "error", "code": 509,
"data": ...}, the shape ccxt.pro's kucoin quotes):
- messages sent to the server: 100 per 10 seconds (`ws_messages`, `ws_window_s`). Every message
  counts here (subscribe, unsubscribe, ping: the page says "message limit", not which). Past it
  the fake answers 509 "exceed max permits per second" (the error page lists it, under "other
  error codes", without saying which limit it answers: assumed to be this one) and takes nothing
  from the message. Whether KuCoin also closes the socket is not documented: not modelled;
- topics in one subscribe (`/market/ticker:BTC-USDT,ETH-USDT` is two): at most 100
  (`WS_TOPICS_PER_MESSAGE`); more: 509 "exceed max subscription count limitation of 100 per
  time", nothing subscribed;
- topics on one connection: at most 400 for spot (`WS_TOPICS_PER_SOCKET`; older versions of the
  page, and the error page's text, say 300); a subscribe that would pass it: 509 "exceed max
  subscription count limitation of 400 per session", nothing of it subscribed (all or nothing:
  assumed, not documented).
- a topic KuCoin does not stream (a symbol delisted since the markets were read:
  `refuse_topics`): 404 "topic does not exist" (the error page's code for a subscribe), the
  whole message refused, its other symbols too (assumed: not documented for a subscribe of
  several symbols).
`ws_refused` lists each refusal's text; `ws_sent` every message each socket took, with its time.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from fakes.fake_market import FEE_RATE, FakeMarket, FakeOrder, FakeTrade, OrderRefused

# KuCoin's answers to a signed call, as its error code pages give them (the words of its older
# spot page, which ccxt quotes; HTTP statuses: 401 for the gateway's 4000xx, as the fake's
# checks answer them, otherwise the page's)
SIGNED_REFUSALS = {
    "400002": ("KC-API-TIMESTAMP Invalid -- Time differs from server time.", 401),
    "400003": ("KC-API-KEY not exists", 401),
    "400004": ("Invalid KC-API-PASSPHRASE", 401),
    "400005": ("Invalid KC-API-SIGN", 401),
    "400006": ("The requested ip address is not in the api whitelist", 401),
    "400007": ("Access Denied", 401),
    "411100": ("User are frozen", 400),
    "429000": ("Too many requests. System-level rate limit exceeded.", 429),
    "500000": ("Internal Server Error", 500),
}
TIMEFRAMES = {"1min": 60, "3min": 180, "5min": 300, "15min": 900, "30min": 1800, "1hour": 3600}
FILLS_MAX = 200  # KuCoin's hf/fills page limit (default 100)
WS_MESSAGES = 100  # messages a connection may send per `ws_window_s` (10 s)
WS_TOPICS_PER_MESSAGE = 100  # topics in one subscribe
WS_TOPICS_PER_SOCKET = 400  # topics subscribed on one (spot) connection


def ok(data: Any) -> web.Response:
    return web.json_response({"code": "200000", "data": data})


def fail(code: str, msg: str, status: int = 400) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status)


def sign(secret: str, text: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


class FakeKucoinExchange(FakeMarket):
    def __init__(
        self,
        symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT"),
        *,
        api_key: str = "test-key",
        secret: str = "test-secret-value",
        passphrase: str = "test-passphrase",
        seed: int = 7,
    ) -> None:
        super().__init__(symbols, api_key=api_key, seed=seed)
        self.secret = secret
        self.passphrase = passphrase
        self.ids = {s: s.replace("/", "-") for s in self.symbols}
        self.auth_failures: list[str] = []
        self.token_generation = 1  # KuCoin's websocket tokens expire (after 24 h)
        self.fill_limits: list[int] = []  # `limit` of every hf/fills request, as asked
        self.book_depth = 5  # price levels a side of the (whole) book
        self.refuse_ip = False  # our IP is not on the key's list (any more): signed calls refused
        self.refuse_signed: str | None = None  # a code of SIGNED_REFUSALS: every signed call's answer
        self.ws_messages, self.ws_window_s = WS_MESSAGES, 10.0  # KuCoin's: 100 per 10 s (tests may shorten it)
        self.ws_refused: list[str] = []  # the text of each refusal answered
        self.refused_symbols: set[str] = set()  # listed, but their topics refused (`refuse_topics`)
        self.ws_sent: dict[int, list[float]] = {}  # socket number -> when each message taken
        self._subs: dict[web.WebSocketResponse, set[str]] = {}  # socket -> topics
        self._arrivals: dict[web.WebSocketResponse, list[float]] = {}
        self._private: set[web.WebSocketResponse] = set()
        self._book_seq = dict.fromkeys(self.symbols, 1000)
        self._book: dict[str, dict[str, dict[str, str]]] = {s: {"bids": {}, "asks": {}} for s in self.symbols}

    def ccxt_options(self) -> dict[str, Any]:
        """The `options` table a `[venues.X]` config uses to point ccxt's kucoin here."""
        names = ("public", "private", "futuresPublic", "futuresPrivate", "uta", "utaPrivate",
                 "utaV2", "earn", "broker", "webExchange")  # fmt: skip
        return {"urls": {"api": dict.fromkeys(names, self.url)}}

    def token(self, kind: str) -> str:
        return f"fake-{kind}-token-{self.token_generation}"

    def expire_tokens(self) -> None:
        """Every websocket token handed out so far stops working (KuCoin's 24 h expiry)."""
        self.faults_injected.append("token_expired")
        self.token_generation += 1

    # -- ids ------------------------------------------------------------------------------

    def symbol_of(self, market_id: str | None) -> str | None:
        return next((s for s, i in self.ids.items() if i == market_id), None)

    @staticmethod
    def order_id(order: FakeOrder) -> str:
        return f"{order.order_id:024x}"  # KuCoin ids are 24 hex digits

    def by_kucoin_id(self, order_id: str) -> FakeOrder | None:
        return next((o for o in self.orders.values() if self.order_id(o) == order_id), None)

    # -- routes ---------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{tail:.*}", self._http)
        app.router.add_get("/endpoint", self._ws)

    async def _http(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]  # v1/hf/orders, ua/v1/account/mode ...
        version, _, path = tail.partition("/")
        if version == "ua":
            version, _, path = path.partition("/")
            path = "ua/" + path
        body = await request.text()
        self.requests.append((request.method, "/" + path))
        fault = self.take_fault(request.method, "/" + path)
        if fault is not None and fault.status == 0:  # answered, but after the client gave up
            await asyncio.sleep(fault.delay)
            fault = None
        if fault is not None and fault.status in (429, 418):
            return fail("429000", "Too many requests. System-level rate limit exceeded.", 429)
        if fault is not None:
            return fail("500000", "Internal Server Error", fault.status)
        q = dict(request.query)
        if body:
            q.update(json.loads(body))
        public = await self._public(request.method, path, q)
        if public is not None:
            return public
        refused = self._check_auth(request, body)
        if refused is not None:
            return refused
        return await self._private_route(request.method, path, q)

    def _check_auth(self, request: web.Request, body: str) -> web.Response | None:
        h = request.headers
        if self.refuse_signed is not None:
            self.auth_failures.append(self.refuse_signed)
            msg, status = SIGNED_REFUSALS[self.refuse_signed]
            return fail(self.refuse_signed, msg, status)
        if h.get("KC-API-KEY") != self.api_key:
            self.auth_failures.append("key")
            return fail("400003", "KC-API-KEY not exists", 401)
        if self.refuse_ip:
            self.auth_failures.append("ip")
            return fail("400006", "The requested ip address is not in the api whitelist", 401)
        expected_pass = sign(self.secret, self.passphrase) if h.get("KC-API-KEY-VERSION") == "2" else self.passphrase
        if h.get("KC-API-PASSPHRASE") != expected_pass:
            self.auth_failures.append("passphrase")
            return fail("400004", "Invalid KC-API-PASSPHRASE", 401)
        ts = h.get("KC-API-TIMESTAMP", "")
        if not ts.isdigit() or abs(int(ts) - time.time() * 1000) > 5000:
            self.auth_failures.append("timestamp")
            return fail("400002", "KC-API-TIMESTAMP Invalid -- Time differs from server time.", 401)
        payload = ts + request.method + request.raw_path + body
        if not hmac.compare_digest(h.get("KC-API-SIGN", ""), sign(self.secret, payload)):
            self.auth_failures.append("sign")
            return fail("400005", "Invalid KC-API-SIGN", 401)
        return None

    # -- public REST ----------------------------------------------------------------------

    async def _public(self, method: str, path: str, q: dict[str, Any]) -> web.Response | None:
        if path == "symbols":
            return ok([self._symbol_info(s) for s in self.symbols])
        if path == "market/allTickers":
            return ok({"time": self.now_ms, "ticker": [self._ticker(s) for s in self.symbols]})
        if path == "contracts/active":
            return ok([])  # spot only
        if path == "currencies":
            return ok([])
        if path == "timestamp":  # the server's clock (signatures are checked against it)
            return ok(self.server_time_ms())
        if path == "bullet-public" and method == "POST":
            return ok(self._bullet(self.token("public")))
        if not path.startswith("market/"):
            return None
        symbol = self.symbol_of(q.get("symbol"))
        if symbol is None:
            return fail("400100", "Unsupported trading pair.")
        if path == "market/stats":
            return ok(self._ticker(symbol))
        if path.startswith("market/orderbook/level2_"):  # the public snapshot: 20 or 100 levels
            depth = path.removeprefix("market/orderbook/level2_")
            if depth not in ("20", "100"):
                return fail("404000", f"fake kucoin has no {method} {path}", 404)
            return ok(self._book_snapshot(symbol, int(depth)))
        if path == "market/histories":
            return ok([self._public_trade(symbol, t) for t in self.public_trades[symbol][-100:]])
        if path == "market/candles":
            return ok(self._candles(symbol, q))
        return None

    def _symbol_info(self, symbol: str) -> dict[str, Any]:
        base, quote = symbol.split("/")
        return {
            "symbol": self.ids[symbol],
            "name": self.ids[symbol],
            "baseCurrency": base,
            "quoteCurrency": quote,
            "feeCurrency": quote,
            "market": "USDS",
            "baseMinSize": "0.001",
            "quoteMinSize": "0.1",
            "baseMaxSize": "10000000000",
            "quoteMaxSize": "99999999",
            "baseIncrement": "0.0001",
            "quoteIncrement": "0.000001",
            "priceIncrement": "0.01",
            "priceLimitRate": "0.1",
            "minFunds": "0.1",
            "isMarginEnabled": False,
            "enableTrading": True,
            "feeCategory": 1,
            "makerFeeCoefficient": "1.00",
            "takerFeeCoefficient": "1.00",
            "st": False,
        }

    def _ticker(self, symbol: str) -> dict[str, Any]:
        p = self.prices[symbol]
        bids, asks = self.levels(symbol, 1)
        return {
            "time": self.now_ms,
            "symbol": self.ids[symbol],
            "symbolName": self.ids[symbol],
            "buy": bids[0][0],
            "bestBidSize": bids[0][1],
            "sell": asks[0][0],
            "bestAskSize": asks[0][1],
            "changeRate": "0",
            "changePrice": "0",
            "high": str(p),
            "low": str(p),
            "vol": "100",
            "volValue": str(p * 100),
            "last": str(p),
            "averagePrice": str(p),
            "takerFeeRate": str(FEE_RATE),
            "makerFeeRate": str(FEE_RATE),
            "takerCoefficient": "1",
            "makerCoefficient": "1",
        }

    def _public_trade(self, symbol: str, t: dict[str, Any]) -> dict[str, Any]:
        return {
            "sequence": str(t["id"]),
            "tradeId": str(t["id"]),
            "price": t["price"],
            "size": t["qty"],
            "side": t["side"],
            "time": t["time"] * 1_000_000,  # nanoseconds
        }

    def _candles(self, symbol: str, q: dict[str, Any]) -> list[list[str]]:
        step = TIMEFRAMES.get(q.get("type", "1min"), 60)
        start = int(q.get("startAt") or 0)
        end = int(q.get("endAt") or self.now_ms // 1000)
        rows = [r for r in self._bars(symbol, step) if start <= int(r[0]) <= end]
        return sorted(rows, key=lambda r: -int(r[0]))[:1500]  # newest first, as KuCoin

    def _bars(self, symbol: str, step_s: int) -> list[list[str]]:
        """Candles [start s, open, close, high, low, volume, turnover] from the printed trades."""
        bars: dict[int, list[Decimal]] = {}
        for t in self.public_trades[symbol]:
            start = t["time"] // 1000 // step_s * step_s
            p, v = Decimal(t["price"]), Decimal(t["qty"])
            bar = bars.setdefault(start, [p, p, p, p, Decimal(0), Decimal(0)])
            bar[1], bar[2], bar[3] = p, max(bar[2], p), min(bar[3], p)
            bar[4] += v
            bar[5] += v * p
        return [[str(s), *(str(x) for x in b)] for s, b in sorted(bars.items())]

    def _book_snapshot(self, symbol: str, depth: int | None = None) -> dict[str, Any]:
        """The book at its sequence: whole (the signed v3 level2), or its best `depth` levels a
        side (the public level2_20 / level2_100, aggregated by price as KuCoin's are)."""
        book = self._book[symbol]
        if not book["bids"]:
            self._book_changes(symbol)
        return {
            "time": self.now_ms,
            "sequence": str(self._book_seq[symbol]),
            "bids": sorted(([p, s] for p, s in book["bids"].items()), key=lambda x: -Decimal(x[0]))[:depth],
            "asks": sorted(([p, s] for p, s in book["asks"].items()), key=lambda x: Decimal(x[0]))[:depth],
        }

    def book(self, symbol: str) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """The whole book as it stands (best first), as floats: what a shown book must match."""
        snap = self._book_snapshot(symbol)
        return ([(float(p), float(q)) for p, q in snap["bids"]], [(float(p), float(q)) for p, q in snap["asks"]])

    def _book_changes(self, symbol: str) -> dict[str, Any]:
        """Move the stored book to the current levels; the changes, each with its sequence."""
        bids, asks = self.levels(symbol, self.book_depth)
        start = self._book_seq[symbol] + 1
        changes: dict[str, list[list[str]]] = {"asks": [], "bids": []}
        for side, new in (("bids", dict(bids)), ("asks", dict(asks))):
            old = self._book[symbol][side]
            for price in sorted(set(old) | set(new)):
                size = new.get(price, "0")
                if old.get(price) != size:
                    self._book_seq[symbol] += 1
                    changes[side].append([price, size, str(self._book_seq[symbol])])
            self._book[symbol][side] = new
        return {
            "sequenceStart": start,
            "sequenceEnd": self._book_seq[symbol],
            "symbol": self.ids[symbol],
            "changes": changes,
            "time": self.now_ms,
        }

    def _bullet(self, token: str) -> dict[str, Any]:
        server = {
            "endpoint": self.ws_url + "/endpoint",
            "encrypt": True,
            "protocol": "websocket",
            "pingInterval": 18000,
            "pingTimeout": 10000,
        }
        return {"token": token, "instanceServers": [server]}

    # -- private REST ---------------------------------------------------------------------

    async def _private_route(self, method: str, path: str, q: dict[str, Any]) -> web.Response:
        if path == "bullet-private" and method == "POST":
            return ok(self._bullet(self.token("private")))
        if path == "hf/accounts/opened":
            return ok(True)
        if path == "ua/account/mode":
            return ok({"selfAccountMode": "CLASSIC", "subAccountMode": "CLASSIC"})
        if path == "margin/symbols":
            return ok({"timestamp": self.now_ms, "items": []})
        if path == "isolated/symbols":
            return ok([])
        if path == "market/orderbook/level2":
            symbol = self.symbol_of(q.get("symbol"))
            return ok(self._book_snapshot(symbol)) if symbol else fail("400100", "Unsupported trading pair.")
        if path == "accounts":
            return ok(self._accounts(q.get("type")))
        if path == "hf/orders" and method == "POST":
            return await self._create(q)
        if path in ("hf/orders/active", "hf/orders/done"):
            return self._list_orders(path.endswith("active"), q)
        if path == "hf/fills":
            return ok(self._fills(q))
        if path.startswith("hf/orders/"):
            ref = path.removeprefix("hf/orders/")
            if ref.startswith("client-order/"):
                order = self.orders.get(ref.removeprefix("client-order/"))
            else:
                order = self.by_kucoin_id(ref)
            if order is not None and self.ids[order.symbol] != q.get("symbol"):
                order = None  # hf lookups are per symbol
            if method == "GET":
                return ok(self._order_rest(order)) if order else fail("400100", "order_not_exist")
            if method == "DELETE":
                if order is None or not self.cancel(order):
                    return fail("400100", "order_not_exist_or_not_allow_to_cancel")
                key = "clientOid" if ref.startswith("client-order/") else "orderId"
                value = order.client_order_id if key == "clientOid" else self.order_id(order)
                return ok({key: value})
        return fail("404000", f"fake kucoin has no {method} {path}", 404)

    def _accounts(self, type_: str | None) -> list[dict[str, Any]]:
        if type_ not in (None, "trade_hf"):
            return []
        held: dict[str, Decimal] = {}
        for o in self.open_orders():
            base, quote = o.symbol.split("/")
            if o.side == "buy":
                held[quote] = held.get(quote, Decimal(0)) + o.remaining * (o.price or 0)
            else:
                held[base] = held.get(base, Decimal(0)) + o.remaining
        return [
            {
                "id": str(2_560_047_104 + i),
                "currency": ccy,
                "type": "trade_hf",
                "balance": str(total),
                "available": str(total - held.get(ccy, Decimal(0))),
                "holds": str(held.get(ccy, Decimal(0))),
            }
            for i, (ccy, total) in enumerate(self.balances.items())
        ]

    async def _create(self, q: dict[str, Any]) -> web.Response:
        symbol = self.symbol_of(q.get("symbol"))
        if symbol is None:
            return fail("400100", "Unsupported trading pair.")
        cid = q.get("clientOid")
        if cid is not None and (len(cid) > 40 or not cid.replace("-", "").replace("_", "").isalnum()):
            return fail("400100", "clientOid invalid")
        try:
            order = self.place(
                symbol,
                q["side"],
                q["type"],
                Decimal(q["size"]),
                Decimal(q["price"]) if q.get("price") else None,
                cid,
                tif=q.get("timeInForce", "GTC"),
            )
        except OrderRefused as exc:
            if exc.kind == "duplicate":
                return fail("400100", "validation.createOrder.clientOidDuplicated", 200)
            return fail("200004", "Balance insufficient!", 200)
        delay = self.take_ack_delay()
        if delay:
            await asyncio.sleep(delay)  # created, but the answer comes too late
        return ok({"orderId": self.order_id(order), "clientOid": order.client_order_id})

    def _list_orders(self, active: bool, q: dict[str, Any]) -> web.Response:
        symbol = self.symbol_of(q.get("symbol"))
        if symbol is None:
            return fail("400100", "symbol is required")
        orders = [o for o in self.orders.values() if o.symbol == symbol and o.is_open == active]
        rows = [self._order_rest(o) for o in sorted(orders, key=lambda o: -o.update_ms)]
        return ok(rows if active else {"lastId": 0, "items": rows})

    def _order_rest(self, o: FakeOrder) -> dict[str, Any]:
        fee = sum((t.commission for t in self.trades if t.order is o), Decimal(0))
        return {
            "id": self.order_id(o),
            "symbol": self.ids[o.symbol],
            "opType": "DEAL",
            "type": o.type,
            "side": o.side,
            "price": str(o.price or 0),
            "size": str(o.quantity),
            "funds": "0",
            "dealFunds": str(o.quote),
            "dealSize": str(o.executed),
            "fee": str(fee),
            "feeCurrency": o.symbol.split("/")[1],
            "stp": "",
            "timeInForce": o.tif,
            "postOnly": False,
            "hidden": False,
            "iceberg": False,
            "visibleSize": "0",
            "cancelAfter": 0,
            "channel": "API",
            "clientOid": o.client_order_id,
            "remark": None,
            "tags": "",
            "cancelExist": o.status == "canceled",
            "createdAt": o.time_ms,
            "lastUpdatedAt": o.update_ms,
            "tradeType": "TRADE",
            "inOrderBook": o.is_open and o.type == "limit",
            "cancelledSize": str(o.remaining if o.status == "canceled" else 0),
            "cancelledFunds": "0",
            "remainSize": str(o.remaining if o.is_open else 0),
            "remainFunds": "0",
            "active": o.is_open,
        }

    def _fills(self, q: dict[str, Any]) -> dict[str, Any]:
        """Newest first, at most `limit` (max 200), older than `lastId`, within startAt/endAt."""
        symbol = self.symbol_of(q.get("symbol"))
        asked = int(q.get("limit", 100))
        self.fill_limits.append(asked)
        limit = max(1, min(asked, FILLS_MAX))
        rows = [
            t
            for t in reversed(self.trades)
            if (symbol is None or t.order.symbol == symbol)
            and (not q.get("orderId") or self.order_id(t.order) == q["orderId"])
            and t.time_ms >= int(q.get("startAt", 0))
            and t.time_ms <= int(q.get("endAt", 2**62))
            and t.trade_id < int(q.get("lastId", 2**62))
        ][:limit]
        items = [self._fill_rest(t) for t in rows]
        return {"items": items, "lastId": rows[-1].trade_id if rows else 0}

    def _fill_rest(self, t: FakeTrade) -> dict[str, Any]:
        o = t.order
        return {
            "id": t.trade_id,
            "symbol": self.ids[o.symbol],
            "tradeId": str(t.trade_id),
            "orderId": self.order_id(o),
            "counterOrderId": f"{10**20 + t.trade_id:024x}",
            "side": o.side,
            "liquidity": "maker" if t.is_maker else "taker",
            "forceTaker": False,
            "price": str(t.price),
            "size": str(t.qty),
            "funds": str(t.qty * t.price),
            "fee": str(t.commission),
            "feeRate": str(FEE_RATE),
            "feeCurrency": o.symbol.split("/")[1],
            "stop": "",
            "tradeType": "TRADE",
            "type": o.type,
            "createdAt": t.time_ms,
        }

    # -- websocket ------------------------------------------------------------------------

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("token")
        ws = await self.open_socket(request)
        try:
            if token not in (self.token("public"), self.token("private")):
                await self.send(ws, {"id": request.query.get("connectId"), "type": "error",
                                     "code": 401, "data": "token is expired"})  # fmt: skip
                await ws.close()
                return ws
            if token == self.token("private"):
                self._private.add(ws)
            self._subs[ws] = set()
            await self.send(ws, {"id": request.query.get("connectId", "c1"), "type": "welcome"})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._on_ws_message(ws, json.loads(msg.data))
        finally:
            self._subs.pop(ws, None)
            self._arrivals.pop(ws, None)
            self._private.discard(ws)
            self.forget_socket(ws)
        return ws

    def busiest_window(self) -> int:
        """The most messages one socket sent within any `ws_window_s`."""
        return max(
            (sum(1 for u in times[i:] if u - t < self.ws_window_s) for times in self.ws_sent.values()
             for i, t in enumerate(times)),
            default=0,
        )  # fmt: skip

    def refuse_topics(self, *symbols: str) -> None:
        """Subscribes naming these symbols refused (none: every one taken again)."""
        self.refused_symbols = set(symbols)

    async def _refuse(self, ws: web.WebSocketResponse, m: dict[str, Any], text: str, code: int = 509) -> None:
        self.ws_refused.append(text)
        await self.send(ws, {"id": m.get("id"), "type": "error", "code": code, "data": text})

    async def _over_limits(self, ws: web.WebSocketResponse, m: dict[str, Any], topics: list[str]) -> bool:
        """KuCoin's websocket limits (see the module's doc): True if `m` was refused for one."""
        now = time.monotonic()
        arrived = self._arrivals.setdefault(ws, [])
        if sum(1 for t in arrived if now - t < self.ws_window_s) >= self.ws_messages:
            await self._refuse(ws, m, "exceed max permits per second")
            return True
        arrived.append(now)
        self.ws_sent.setdefault(id(ws), []).append(now)
        if m.get("type") != "subscribe":
            return False
        if any(t.partition(":")[2].split("_")[0] in self.refused_symbols for t in topics):
            await self._refuse(ws, m, "topic does not exist", 404)
            return True
        if len(topics) > WS_TOPICS_PER_MESSAGE:
            await self._refuse(ws, m, f"exceed max subscription count limitation of {WS_TOPICS_PER_MESSAGE} per time")
            return True
        if len(self._subs[ws] | set(topics)) > WS_TOPICS_PER_SOCKET:
            await self._refuse(ws, m, f"exceed max subscription count limitation of {WS_TOPICS_PER_SOCKET} per session")
            return True
        return False

    async def _on_ws_message(self, ws: web.WebSocketResponse, m: dict[str, Any]) -> None:
        kind = m.get("type")
        channel, _, ids = str(m.get("topic", "")).partition(":")
        private = channel.startswith("/spotMarket/")
        topics = [channel] if private else [f"{channel}:{i}" for i in ids.split(",") if i]
        if await self._over_limits(ws, m, topics):
            return
        if kind == "ping":
            await self.send(ws, {"id": m.get("id"), "type": "pong", "timestamp": self.now_ms * 1000})
            return
        if kind not in ("subscribe", "unsubscribe"):
            return
        if private and (ws not in self._private or not m.get("privateChannel")):
            await self.send(ws, {"id": m.get("id"), "type": "error", "code": 401,
                                 "data": "private channel needs a private token"})  # fmt: skip
            return
        if kind == "subscribe":
            self._subs[ws].update(topics)
        else:
            self._subs[ws].difference_update(topics)
        if m.get("response"):
            await self.send(ws, {"id": m.get("id"), "type": "ack"})

    def _subscribers(self, topic: str) -> list[web.WebSocketResponse]:
        return [ws for ws, topics in self._subs.items() if topic in topics]

    async def publish_market(self, symbol: str, trade: dict[str, Any]) -> None:
        mid = self.ids[symbol]
        delta = self._book_changes(symbol)
        ns = self.now_ms * 1_000_000
        ticker = self._ticker(symbol)
        snapshot = {"trading": True, "symbol": mid, "symbolCode": mid, "buy": ticker["buy"],
                    "sell": ticker["sell"], "lastTradedPrice": ticker["last"],
                    "datetime": self.now_ms, "vol": "100", "volValue": ticker["volValue"],
                    "high": ticker["high"], "low": ticker["low"], "changeRate": "0",
                    "changePrice": "0", "baseCurrency": symbol.split("/")[0],
                    "quoteCurrency": symbol.split("/")[1]}  # fmt: skip
        match = {"sequence": str(trade["id"]), "symbol": mid, "side": trade["side"],
                 "size": trade["qty"], "price": trade["price"], "tradeId": str(trade["id"]),
                 "takerOrderId": f"{trade['id']:024x}", "makerOrderId": f"{trade['id'] + 1:024x}",
                 "time": str(ns), "type": "match"}  # fmt: skip
        out: list[tuple[str, dict[str, Any]]] = [
            (f"/market/snapshot:{mid}",
             {"type": "message", "topic": f"/market/snapshot:{mid}", "subject": "trade.snapshot",
              "data": {"sequence": str(trade["id"]), "data": snapshot}}),
            (f"/market/level2:{mid}",
             {"type": "message", "topic": f"/market/level2:{mid}", "subject": "trade.l2update",
              "data": delta}),
            (f"/market/match:{mid}",
             {"type": "message", "topic": f"/market/match:{mid}", "subject": "trade.l3match",
              "data": match}),
        ]  # fmt: skip
        for name, step in TIMEFRAMES.items():
            topic = f"/market/candles:{mid}_{name}"
            if any(topic in t for t in self._subs.values()):
                bar = self._bars(symbol, step)[-1]
                out.append((topic, {"type": "message", "topic": topic,
                                    "subject": "trade.candles.update",
                                    "data": {"symbol": mid, "candles": bar, "time": ns}}))  # fmt: skip
        for topic, payload in out:
            for ws in self._subscribers(topic):
                await self.send_public(ws, payload)

    def publish_order(self, order: FakeOrder, trade: FakeTrade | None) -> None:
        """KuCoin's /spotMarket/tradeOrders: received + open, match (+ filled), canceled."""
        base = {
            "symbol": self.ids[order.symbol],
            "orderType": order.type,
            "side": order.side,
            "orderId": self.order_id(order),
            "orderTime": order.time_ms * 1_000_000,
            "size": str(order.quantity),
            "filledSize": str(order.executed),
            "price": str(order.price or 0),
            "clientOid": order.client_order_id,
            "remainSize": str(order.remaining),
            "ts": order.update_ms * 1_000_000,
        }
        events: list[dict[str, Any]] = []
        if trade is not None:
            events.append({**base, "type": "match", "status": "match",
                           "liquidity": "maker" if trade.is_maker else "taker",
                           "feeType": "makerFee" if trade.is_maker else "takerFee",
                           "matchPrice": str(trade.price), "matchSize": str(trade.qty),
                           "tradeId": str(trade.trade_id)})  # fmt: skip
            if order.status == "filled":
                events.append({**base, "type": "filled", "status": "done", "remainSize": "0"})
        elif order.status == "canceled":
            events.append({**base, "type": "canceled", "status": "done", "remainSize": "0"})
        elif order.status == "new" and order.executed == 0:
            events.append({**base, "type": "received", "status": "new"})
            events.append({**base, "type": "open", "status": "open"})
        else:
            events.append({**base, "type": "update", "status": "open"})
        topic = "/spotMarket/tradeOrders"
        messages = [{"type": "message", "topic": topic, "subject": "orderChange",
                     "channelType": "private", "data": e} for e in events]  # fmt: skip
        self.push_private(self._subscribers(topic), messages)
