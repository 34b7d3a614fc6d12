"""A loopback fake Bybit (v5 API, spot category, unified trading account) for ccxt / ccxt.pro.

Only Bybit's wire format lives here; prices, orders, matching and faults are `FakeMarket`'s.

REST (every private call signed as Bybit v5: X-BAPI-API-KEY / -TIMESTAMP / -RECV-WINDOW / -SIGN,
      SIGN = hex HMAC-SHA256(secret, timestamp + key + recvWindow + queryString | jsonBody))
  public   /v5/market/instruments-info, tickers, orderbook, recent-trade, kline, time
  private  /v5/asset/coin/query-info, /v5/user/query-api, /v5/account/info,
           /v5/account/wallet-balance, /v5/order/create, cancel, amend, realtime,
           /v5/execution/list
WS   /v5/public/spot   subscribe tickers.X, orderbook.50.X, publicTrade.X, kline.1.X
     /v5/private       op auth (HMAC of "GET/realtime" + expires), then order and execution

Answers are HTTP 200 with `retCode` / `retMsg` as Bybit does; an injected 429 answers
HTTP 429 with retCode 10006 ("Too many visits!").
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from fakes.fake_market import FakeMarket, FakeOrder, FakeTrade, OrderRefused

RECV_WINDOW_MS = 5000
# per symbol: tick size, base precision (lot), min order qty, min order value (quote)
SPECS = {
    "BTC/USDT": ("0.01", "0.000001", "0.000048", "5"),
    "ETH/USDT": ("0.01", "0.00001", "0.00062", "5"),
}
DEFAULT_SPEC = ("0.01", "0.0001", "0.001", "1")
STATUS = {
    "new": "New",
    "partially_filled": "PartiallyFilled",
    "filled": "Filled",
    "canceled": "Cancelled",
}
WEEK_MS = 7 * 86_400_000


def _sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


class FakeBybitExchange(FakeMarket):
    def __init__(
        self,
        symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT"),
        *,
        api_key: str = "test-key",
        secret: str = "test-secret-value",
        seed: int = 7,
    ) -> None:
        super().__init__(symbols, api_key=api_key, seed=seed)
        self.secret = secret
        self.ids = {s: s.replace("/", "") for s in self.symbols}
        self.by_id = {i: s for s, i in self.ids.items()}
        self.auth_failures: list[str] = []  # retMsg of every refused private call
        self.recent_trade_limits: list[int] = []  # the `limit` of each recent-trade request
        self._right_at_next_auth = False
        self.logins = 0  # private websocket auths asked for
        self.private_subscribe_lag_s = 0.0  # how long a private subscribe takes to land (a busy venue)
        self._subscribes_land = asyncio.Event()  # ... unless landed at once (`land_private_subscribes`)
        self.market_unit: dict[str, str] = {}  # client id -> marketUnit the order was sent with
        self._public: dict[web.WebSocketResponse, set[str]] = {}
        self._private: dict[web.WebSocketResponse, set[str]] = {}
        self._books_sent: dict[tuple[web.WebSocketResponse, str], dict[str, dict[str, str]]] = {}
        self._seq = 1

    def ccxt_options(self) -> dict[str, Any]:
        """The `options` table a `[venues.X]` config uses to point ccxt's bybit here."""
        rest = self.url
        ws = self.ws_url
        return {
            "urls": {
                "api": {
                    "spot": rest,
                    "futures": rest,
                    "v2": rest,
                    "public": rest,
                    "private": rest,
                    "ws": {
                        "public": {
                            "spot": ws + "/v5/public/spot",
                            "linear": ws + "/v5/public/linear",
                            "inverse": ws + "/v5/public/inverse",
                            "option": ws + "/v5/public/option",
                        },
                        "private": {
                            "spot": {"unified": ws + "/v5/private", "nonUnified": ws + "/v5/private"},
                            "contract": ws + "/v5/private",
                            "usdc": ws + "/v5/private",
                            "trade": ws + "/v5/trade",
                        },
                    },
                }
            },
        }

    # -- wiring ---------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v5/public/spot", self._ws_public)
        app.router.add_get("/v5/private", self._ws_private)
        app.router.add_route("*", "/v5/{tail:.*}", self._http)

    # -- REST -----------------------------------------------------------------------------

    def _ok(self, result: Any) -> web.Response:
        return web.json_response(
            {
                "retCode": 0,
                "retMsg": "OK",
                "result": result,
                "retExtInfo": {},
                "time": self.server_time_ms(),  # Bybit's clock (ccxt's fetch_time reads it)
            }
        )

    @staticmethod
    def _err(code: int, msg: str, status: int = 200) -> web.Response:
        return web.json_response(
            {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": 0},
            status=status,
        )

    async def _http(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        self.requests.append((request.method, path))
        body = await request.text() if request.method == "POST" else ""
        status = self.take_http_fault()
        if status is not None:
            if status == 429:
                return self._err(10006, "Too many visits!", status=429)
            return web.Response(status=status, text="access too frequent")
        q: dict[str, Any] = dict(request.query)
        public = {
            "/market/instruments-info": self._instruments,
            "/market/tickers": self._tickers,
            "/market/orderbook": self._orderbook,
            "/market/recent-trade": self._recent_trades,
            "/market/kline": self._klines,
            "/market/time": lambda q: {  # the server's clock, not the simulated market's
                "timeSecond": str(self.server_time_ms() // 1000),
                "timeNano": str(self.server_time_ms() * 1_000_000),
            },
        }
        if path in public:
            return self._ok(public[path](q))
        refused = self._check_auth(request, body)
        if refused is not None:
            self.auth_failures.append(refused[1])
            return self._err(*refused)
        if request.method == "POST":
            q = json.loads(body or "{}")
        if path == "/order/create":
            return await self._create(q)
        if path == "/order/cancel":
            return self._cancel(q)
        if path == "/order/amend":
            return self._amend(q)
        if path == "/order/realtime":
            return self._realtime(q)
        if path == "/execution/list":
            return self._executions(q)
        if path == "/account/wallet-balance":
            return self._ok({"list": [self._wallet()]})
        if path == "/asset/coin/query-info":
            coins = sorted({c for s in self.symbols for c in s.split("/")})
            return self._ok({"rows": [{"name": c, "coin": c, "remainAmount": "1000000", "chains": []} for c in coins]})
        if path == "/user/query-api":
            return self._ok({"apiKey": self.api_key, "readOnly": 0, "unified": 0, "uta": 1, "isMaster": True})
        if path == "/account/info":
            return self._ok({"marginMode": "REGULAR_MARGIN", "unifiedMarginStatus": 5})
        return self._err(10001, f"fake bybit has no {path}", status=404)

    def _check_auth(self, request: web.Request, body: str) -> tuple[int, str] | None:
        """Bybit v5 HMAC: the key must exist, the timestamp be inside recvWindow, the sign match."""
        h = request.headers
        if "X-BAPI-API-KEY" not in h:
            return 10007, "api_key not found in your request parameters"
        if h["X-BAPI-API-KEY"] != self.api_key:
            return 10003, "API key is invalid."
        ts, window = h.get("X-BAPI-TIMESTAMP", ""), h.get("X-BAPI-RECV-WINDOW", str(RECV_WINDOW_MS))
        now = self.server_time_ms()
        if not ts.isdigit() or not (now - int(window) <= int(ts) < now + 1000):
            return 10002, "invalid request, please check your server timestamp or recv_window param"
        payload = body if request.method == "POST" else request.rel_url.raw_query_string
        if not hmac.compare_digest(h.get("X-BAPI-SIGN", ""), _sign(self.secret, ts + self.api_key + window + payload)):
            return 10004, "error sign! origin_string[...]"
        return None

    def _instruments(self, q: dict[str, Any]) -> dict[str, Any]:
        if q.get("category") != "spot":  # the fake lists spot markets only
            return {"category": q.get("category"), "list": [], "nextPageCursor": ""}
        rows = []
        for s in self.symbols:
            tick, lot, min_qty, min_amt = SPECS.get(s, DEFAULT_SPEC)
            base, quote = s.split("/")
            rows.append(
                {
                    "symbol": self.ids[s],
                    "baseCoin": base,
                    "quoteCoin": quote,
                    "innovation": "0",
                    "status": "Trading",
                    "marginTrading": "utaOnly",
                    "lotSizeFilter": {
                        "basePrecision": lot,
                        "quotePrecision": "0.00000001",
                        "minOrderQty": min_qty,
                        "maxOrderQty": "10000",
                        "minOrderAmt": min_amt,
                        "maxOrderAmt": "10000000",
                    },
                    "priceFilter": {"tickSize": tick},
                }
            )
        return {"category": "spot", "list": rows}

    def _ticker(self, symbol: str) -> dict[str, Any]:
        p = self.prices[symbol]
        return {
            "symbol": self.ids[symbol],
            "bid1Price": str(p - Decimal("0.01")),
            "bid1Size": "1.0",
            "ask1Price": str(p + Decimal("0.01")),
            "ask1Size": "1.0",
            "lastPrice": str(p),
            "prevPrice24h": str(p),
            "price24hPcnt": "0",
            "highPrice24h": str(p),
            "lowPrice24h": str(p),
            "turnover24h": str(p * 1000),
            "volume24h": "1000",
            "usdIndexPrice": str(p),
        }

    def _symbol(self, q: dict[str, Any]) -> str:
        return self.by_id[q["symbol"]]

    def _tickers(self, q: dict[str, Any]) -> dict[str, Any]:
        syms = [self._symbol(q)] if q.get("symbol") else self.symbols
        return {"category": "spot", "list": [self._ticker(s) for s in syms]}

    def _orderbook(self, q: dict[str, Any]) -> dict[str, Any]:
        bids, asks = self.levels(self._symbol(q))
        return {"s": q["symbol"], "b": bids, "a": asks, "ts": self.now_ms, "u": self._seq, "seq": self._seq}

    def _recent_trades(self, q: dict[str, Any]) -> dict[str, Any]:
        self.recent_trade_limits.append(int(q.get("limit", 60)))
        limit = min(int(q.get("limit", 60)), 60)  # spot: [1, 60]
        rows = self.public_trades[self._symbol(q)][-limit:]
        return {
            "category": "spot",
            "list": [
                {
                    "execId": str(t["id"]),
                    "symbol": q["symbol"],
                    "price": t["price"],
                    "size": t["qty"],
                    "side": t["side"].capitalize(),
                    "time": str(t["time"]),
                    "isBlockTrade": False,
                }
                for t in reversed(rows)  # newest first
            ],
        }

    def _klines(self, q: dict[str, Any]) -> dict[str, Any]:
        step = {"1": 60_000, "5": 300_000, "60": 3_600_000}.get(q.get("interval", "1"), 60_000)
        limit = min(int(q.get("limit", 200)), 1000)
        end = min(self.candle_start(step), int(q.get("end", self.now_ms)))  # `end`: ms, the newest
        start = int(q.get("start", end - (limit - 1) * step))
        p = str(self.prices[self._symbol(q)])
        rows = [[str(t), p, p, p, p, "1", p] for t in range(start - start % step, end + 1, step)][-limit:]
        return {"category": "spot", "symbol": q["symbol"], "list": list(reversed(rows))}

    # -- orders ---------------------------------------------------------------------------

    def order_json(self, o: FakeOrder) -> dict[str, Any]:
        unit = self.market_unit.get(o.client_order_id, "")
        return {
            "orderId": str(o.order_id),
            "orderLinkId": o.client_order_id,
            "blockTradeId": "",
            "symbol": self.ids[o.symbol],
            "price": str(o.price or 0),
            "qty": str(o.quantity),
            "side": o.side.capitalize(),
            "isLeverage": "0",
            "positionIdx": 0,
            "orderStatus": STATUS[o.status],
            "cancelType": "UNKNOWN",
            "rejectReason": "EC_NoError",
            "avgPrice": str(o.average) if o.executed else "",
            "leavesQty": str(o.remaining if o.is_open else 0),
            "leavesValue": str(o.remaining * (o.price or 0) if o.is_open else 0),
            "cumExecQty": str(o.executed),
            "cumExecValue": str(o.quote),
            "cumExecFee": "0",
            "timeInForce": "IOC" if o.type == "market" else o.tif,
            "orderType": o.type.capitalize(),
            "stopOrderType": "",
            "orderIv": "",
            "marketUnit": unit,
            "triggerPrice": "0.00",
            "takeProfit": "0.00",
            "stopLoss": "0.00",
            "triggerBy": "",
            "orderFilter": "Order",
            "createdTime": str(o.time_ms),
            "updatedTime": str(o.update_ms),
        }

    async def _create(self, q: dict[str, Any]) -> web.Response:
        if q.get("category") != "spot":
            return self._err(10001, "params error: category only spot in the fake")
        cid = q.get("orderLinkId") or ""
        if cid and (len(cid) > 36 or not cid.replace("-", "").replace("_", "").isalnum()):
            return self._err(10001, "params error: orderLinkId")
        symbol = self._symbol(q)
        side, type_ = q["side"].lower(), q["orderType"].lower()
        qty = Decimal(q["qty"])
        unit = q.get("marketUnit") or ("quoteCoin" if (type_, side) == ("market", "buy") else "baseCoin")
        if type_ == "market" and unit == "quoteCoin":  # Bybit spot: a market buy's qty is quote
            lot = Decimal(SPECS.get(symbol, DEFAULT_SPEC)[1])
            qty = (qty / self.prices[symbol]).quantize(lot)
        tif = "GTC" if q.get("timeInForce") in (None, "PostOnly") else q["timeInForce"]
        delay = self.take_ack_delay()
        try:
            if cid and cid not in self.orders:
                self.market_unit[cid] = unit if type_ == "market" else ""
            order = self.place(
                symbol,
                side,
                type_,
                qty,
                Decimal(q["price"]) if type_ == "limit" else None,
                cid or None,
                tif=tif,
            )
        except OrderRefused as exc:
            if exc.kind == "duplicate":
                return self._err(110072, "OrderLinkedID is duplicate")
            self.market_unit.pop(cid, None)
            return self._err(170131, "Insufficient balance.")
        if delay:
            await asyncio.sleep(delay)
        return self._ok({"orderId": str(order.order_id), "orderLinkId": order.client_order_id})

    def _find(self, q: dict[str, Any]) -> FakeOrder | None:
        if q.get("orderLinkId"):
            return self.orders.get(q["orderLinkId"])
        if q.get("orderId"):
            return self.by_order_id(q["orderId"])
        return None

    def _cancel(self, q: dict[str, Any]) -> web.Response:
        order = self._find(q)
        if order is None or not self.cancel(order):
            return self._err(170213, "Order does not exist.")
        return self._ok({"orderId": str(order.order_id), "orderLinkId": order.client_order_id})

    def _amend(self, q: dict[str, Any]) -> web.Response:
        order = self._find(q)
        if order is None or not order.is_open:
            return self._err(170213, "Order does not exist.")
        self.amend(
            order,
            Decimal(q["qty"]) if q.get("qty") else None,
            Decimal(q["price"]) if q.get("price") else None,
        )
        return self._ok({"orderId": str(order.order_id), "orderLinkId": order.client_order_id})

    def _realtime(self, q: dict[str, Any]) -> web.Response:
        """Open orders; asked by id, also a recent closed one (Bybit keeps the last 500)."""
        if q.get("category") != "spot":  # linear / inverse / option: the fake has none
            return self._ok({"category": q.get("category"), "list": [], "nextPageCursor": ""})
        if q.get("orderId") or q.get("orderLinkId"):
            found = self._find(q)
            rows = [found] if found else []
        else:
            rows = [o for o in self.open_orders(self.by_id.get(q.get("symbol", "")) if q.get("symbol") else None)]
        rows = rows[: min(int(q.get("limit", 20)), 50)]
        return self._ok({"category": "spot", "list": [self.order_json(o) for o in rows], "nextPageCursor": ""})

    def fee_of(self, t: FakeTrade) -> tuple[Decimal, str]:
        """Bybit spot fees: a buy pays in the base coin, a sell in the quote coin."""
        base, quote = t.order.symbol.split("/")
        if t.order.side == "buy":
            return (t.qty * Decimal("0.001")).normalize(), base
        return t.commission, quote

    def execution_json(self, t: FakeTrade) -> dict[str, Any]:
        fee, fee_coin = self.fee_of(t)
        o = t.order
        return {
            "category": "spot",
            "symbol": self.ids[o.symbol],
            "orderId": str(o.order_id),
            "orderLinkId": o.client_order_id,
            "side": o.side.capitalize(),
            "orderPrice": str(o.price or 0),
            "orderQty": str(o.quantity),
            "leavesQty": str(o.remaining),
            "orderType": o.type.capitalize(),
            "stopOrderType": "",
            "execFee": str(fee),
            "feeCurrency": fee_coin,
            "execId": str(t.trade_id),
            "execPrice": str(t.price),
            "execQty": str(t.qty),
            "execType": "Trade",
            "execValue": str(t.qty * t.price),
            "execTime": str(t.time_ms),
            "isMaker": t.is_maker,
            "feeRate": "0.001",
            "markPrice": "",
            "indexPrice": "",
            "blockTradeId": "",
            "closedSize": "",
            "seq": t.trade_id,
        }

    def _executions(self, q: dict[str, Any]) -> web.Response:
        """As Bybit: newest first, at most 100 a page, a window of at most 7 days
        (startTime alone: the 7 days from it; neither: the last 7 days)."""
        if q.get("category") != "spot":
            return self._ok({"category": q.get("category"), "list": [], "nextPageCursor": ""})
        limit = int(q.get("limit", 50))
        if not 1 <= limit <= 100:
            return self._err(10001, "params error: limit must be in [1, 100]")
        start, end = q.get("startTime"), q.get("endTime")
        if start is None and end is None:
            end_ms = self.now_ms
            start_ms = end_ms - WEEK_MS
        else:
            start_ms = int(start) if start is not None else int(end) - WEEK_MS
            end_ms = int(end) if end is not None else start_ms + WEEK_MS
        if end_ms - start_ms > WEEK_MS:
            return self._err(10001, "params error: the time range must be within 7 days")
        symbol = self.by_id.get(q.get("symbol", "")) if q.get("symbol") else None
        rows = [
            t
            for t in self.trades_for(symbol)
            if start_ms <= t.time_ms <= end_ms
            and q.get("orderLinkId", t.order.client_order_id) == t.order.client_order_id
        ]
        rows.sort(key=lambda t: (t.time_ms, t.trade_id), reverse=True)
        offset = int(q["cursor"].removeprefix("page:")) if q.get("cursor") else 0
        page = rows[offset : offset + limit]
        more = offset + limit < len(rows)
        return self._ok(
            {
                "category": "spot",
                "list": [self.execution_json(t) for t in page],
                "nextPageCursor": f"page%3A{offset + limit}" if more else "",
            }
        )

    def _wallet(self) -> dict[str, Any]:
        locked: dict[str, Decimal] = {}
        for o in self.open_orders():
            base, quote = o.symbol.split("/")
            if o.side == "buy":
                locked[quote] = locked.get(quote, Decimal(0)) + o.remaining * (o.price or 0)
            else:
                locked[base] = locked.get(base, Decimal(0)) + o.remaining
        return {
            "accountType": "UNIFIED",
            "totalEquity": "0",
            "coin": [
                {
                    "coin": c,
                    "walletBalance": str(v),
                    "equity": str(v),
                    "locked": str(locked.get(c, Decimal(0))),
                    "availableToWithdraw": "",  # deprecated by Bybit for UTA: always empty
                    "borrowAmount": "0",
                    "accruedInterest": "0",
                    "totalOrderIM": "0",
                    "totalPositionIM": "0",
                    "unrealisedPnl": "0",
                }
                for c, v in self.balances.items()
            ],
        }

    # -- websockets -----------------------------------------------------------------------

    async def _ws_public(self, request: web.Request) -> web.WebSocketResponse:
        ws = await self.open_socket(request)
        self._public[ws] = set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if await self._common_op(ws, data):
                    continue
                if data.get("op") == "subscribe":
                    topics = list(data.get("args", []))
                    self._public[ws].update(topics)
                    await self.send(ws, self._op_ack(data, "subscribe"))
                    for topic in topics:  # order books start with a snapshot
                        if topic.startswith("orderbook."):
                            await self._send_book(ws, topic, self.by_id[topic.split(".")[2]])
        finally:
            self._public.pop(ws, None)
            self.forget_socket(ws)
        return ws

    def private_topics(self) -> set[str]:
        """The private topics a logged-in socket is subscribed to (a login comes first: a test
        that waits for one alone can act while the subscribe is still on its way)."""
        return set().union(*self._private.values())

    def land_private_subscribes(self) -> None:
        """The private subscribes held by `private_subscribe_lag_s` land now."""
        self.private_subscribe_lag_s = 0.0
        self._subscribes_land.set()

    def clock_set_right_at_next_auth(self) -> None:
        """The clocks are set right (the skew back to 0) just as the next private login
        arrives: it is judged by the skewed clock, every request after it by the right one."""
        self._right_at_next_auth = True

    async def _ws_private(self, request: web.Request) -> web.WebSocketResponse:
        ws = await self.open_socket(request)
        authed = False
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if await self._common_op(ws, data):
                    continue
                if data.get("op") == "auth":
                    self.logins += 1
                    key, expires, signature = [*(data.get("args") or []), "", "", ""][:3]
                    authed = (
                        key == self.api_key
                        and str(expires).isdigit()
                        and int(expires) > self.server_time_ms()  # "greater than your current timestamp"
                        and hmac.compare_digest(str(signature), _sign(self.secret, f"GET/realtime{expires}"))
                    )
                    if not authed:
                        self.auth_failures.append("ws auth")
                    if self._right_at_next_auth:  # set right just after judging this login
                        self._right_at_next_auth = False
                        self.clock_skew_ms = 0
                    await self.send(
                        ws,
                        {
                            "success": authed,
                            "ret_msg": "" if authed else "Request not authorized",
                            "op": "auth",
                            "conn_id": f"fake-{id(ws)}",
                            "request": {"op": "auth", "args": [key, expires, "***"]},
                        },
                    )
                elif data.get("op") == "subscribe":
                    if not authed:
                        await self.send(
                            ws,
                            {
                                "success": False,
                                "ret_msg": "Request not authorized",
                                "op": "subscribe",
                                "req_id": data.get("req_id"),
                                "conn_id": f"fake-{id(ws)}",
                            },
                        )
                        continue
                    if self.private_subscribe_lag_s:  # nothing pushed to this socket meanwhile
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._subscribes_land.wait(), self.private_subscribe_lag_s)
                    self._private.setdefault(ws, set()).update(data.get("args", []))
                    await self.send(ws, self._op_ack(data, "subscribe"))
        finally:
            self._private.pop(ws, None)
            self.forget_socket(ws)
        return ws

    async def _common_op(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> bool:
        if data.get("op") == "ping":
            await self.send(ws, {**self._op_ack(data, "pong"), "ret_msg": "pong"})
            return True
        if data.get("op") == "unsubscribe":
            self._public.get(ws, set()).difference_update(data.get("args", []))
            self._private.get(ws, set()).difference_update(data.get("args", []))
            await self.send(ws, self._op_ack(data, "unsubscribe"))
            return True
        return False

    @staticmethod
    def _op_ack(data: dict[str, Any], op: str) -> dict[str, Any]:
        return {
            "success": True,
            "ret_msg": "" if op != "subscribe" else "subscribe",
            "conn_id": "fake",
            "req_id": data.get("req_id"),
            "op": op,
        }

    def publish_order(self, order: FakeOrder, trade: FakeTrade | None) -> None:
        stamp = {"creationTime": self.now_ms}
        self._push_topic(
            "order",
            [{"id": f"o{self.now_ms}", "topic": "order", **stamp, "data": [self.order_json(order)]}],
        )
        if trade is not None:
            self._push_topic(
                "execution",
                [
                    {
                        "id": f"e{trade.trade_id}",
                        "topic": "execution",
                        **stamp,
                        "data": [self.execution_json(trade)],
                    }
                ],
            )

    def _push_topic(self, topic: str, messages: list[Any]) -> None:
        self.push_private([ws for ws, topics in self._private.items() if topic in topics], messages)

    async def publish_market(self, symbol: str, trade: dict[str, Any]) -> None:
        sid = self.ids[symbol]
        self._seq += 1
        p = str(self.prices[symbol])
        ticker = {k: v for k, v in self._ticker(symbol).items() if not k.startswith(("bid1", "ask1"))}
        start = self.candle_start(60_000)
        messages: dict[str, Any] = {
            f"tickers.{sid}": {
                "topic": f"tickers.{sid}",
                "ts": self.now_ms,
                "type": "snapshot",
                "cs": self._seq,
                "data": ticker,  # spot tickers carry no bid/ask on Bybit
            },
            f"publicTrade.{sid}": {
                "topic": f"publicTrade.{sid}",
                "ts": self.now_ms,
                "type": "snapshot",
                "data": [
                    {
                        "i": str(trade["id"]),
                        "T": trade["time"],
                        "p": trade["price"],
                        "v": trade["qty"],
                        "S": trade["side"].capitalize(),
                        "s": sid,
                        "BT": False,
                        "seq": self._seq,
                    }
                ],
            },
            f"kline.1.{sid}": {
                "topic": f"kline.1.{sid}",
                "ts": self.now_ms,
                "type": "snapshot",
                "data": [
                    {
                        "start": start,
                        "end": start + 59_999,
                        "interval": "1",
                        "open": p,
                        "close": p,
                        "high": p,
                        "low": p,
                        "volume": "1",
                        "turnover": p,
                        "confirm": False,
                        "timestamp": self.now_ms,
                    }
                ],
            },
        }
        for ws, topics in list(self._public.items()):
            for topic in list(topics):
                if topic.startswith("orderbook.") and topic.endswith("." + sid):
                    await self._send_book(ws, topic, symbol)
                elif topic in messages:
                    await self.send_public(ws, messages[topic])

    async def _send_book(self, ws: web.WebSocketResponse, topic: str, symbol: str) -> None:
        """The first message a snapshot, then deltas (a level of size 0 is removed)."""
        bids, asks = self.levels(symbol)
        now = {"b": dict(bids), "a": dict(asks)}
        before = self._books_sent.get((ws, topic))
        self._books_sent[(ws, topic)] = now
        if before is None:
            kind, data = "snapshot", {"b": bids, "a": asks}
        else:
            kind = "delta"
            data = {
                side: [[p, q] for p, q in now[side].items() if before[side].get(p) != q]
                + [[p, "0"] for p in before[side] if p not in now[side]]
                for side in ("b", "a")
            }
        await self.send_public(
            ws,
            {
                "topic": topic,
                "type": kind,
                "ts": self.now_ms,
                "data": {"s": self.ids[symbol], **data, "u": self._seq, "seq": self._seq},
                "cts": self.now_ms,
            },
        )
