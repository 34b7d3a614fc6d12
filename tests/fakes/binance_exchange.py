"""A loopback fake Binance spot exchange (REST + websocket) for ccxt / ccxt.pro, with faults.

Runs on aiohttp in the caller's event loop on 127.0.0.1, random port. It reuses
`binance_rest.FakeBinance` for exchangeInfo and klines (same markets, same kline format) and
adds what trading needs:

REST  /api/v3/order (POST, GET, DELETE), /openOrders, /myTrades (paged as Binance), /account, /depth,
      /ticker/24hr, /trades, /klines, /exchangeInfo, /time, /ping
WS    /ws/<n>         public streams: SUBSCRIBE to <sym>@ticker, @depth, @trade, @kline_<tf>
      /ws-api/v3      userDataStream.subscribe.signature -> executionReport events

Faults on demand (each a method): drop_connections, stall, send_malformed, fail_next (HTTP
429/418/5xx), reject_next, delay_next_ack, duplicate_fills, reorder_fills, bad_api_key.

Counters for assertions: `orders` (by client id), `trades` (every fill the exchange made),
`duplicate_submissions` (a second order with a live client id: refused, as Binance does).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from fakes.binance_rest import FakeBinance
from fakes.faults import FaultSwitches
from fakes.serve import serve_loopback

QUOTE_FEE = Decimal("0.001")


@dataclass
class FakeOrder:
    order_id: int
    client_order_id: str
    symbol: str  # exchange id, BTCUSDT
    side: str  # BUY / SELL
    type: str  # LIMIT / MARKET
    quantity: Decimal
    price: Decimal | None
    time_ms: int
    status: str = "NEW"
    executed: Decimal = Decimal(0)
    quote: Decimal = Decimal(0)
    tif: str = "GTC"

    def to_rest(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "price": str(self.price or 0),
            "origQty": str(self.quantity),
            "executedQty": str(self.executed),
            "cummulativeQuoteQty": str(self.quote),
            "status": self.status,
            "timeInForce": self.tif,
            "type": self.type,
            "side": self.side,
            "stopPrice": "0",
            "time": self.time_ms,
            "updateTime": self.time_ms,
            "transactTime": self.time_ms,
            "workingTime": self.time_ms,
            "isWorking": True,
            "origQuoteOrderQty": "0",
            "selfTradePreventionMode": "NONE",
            "fills": [],
        }


@dataclass
class FakeTrade:
    trade_id: int
    order: FakeOrder
    qty: Decimal
    price: Decimal
    time_ms: int
    commission: Decimal = field(default=Decimal(0))
    made_at: float = field(default_factory=time.monotonic)  # wall clock, for soak diagnostics


class FakeBinanceExchange(FaultSwitches):
    def __init__(
        self,
        symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT"),
        *,
        api_key: str = "test-key",
        seed: int = 7,
        start_ms: int = 1_767_225_600_000,
    ) -> None:
        self._init_faults()
        self.rest = FakeBinance(symbols)  # exchangeInfo and klines, shared with the download tests
        self.symbols = list(symbols)
        self.ids = {s: s.replace("/", "") for s in symbols}
        self.api_key = api_key
        self.rng = random.Random(seed)
        self.now_ms = start_ms
        self.prices: dict[str, Decimal] = {
            self.ids[s]: Decimal("100.00") * (i + 1) for i, s in enumerate(symbols)
        }
        self.balances: dict[str, Decimal] = {
            "USDT": Decimal("1000000"),
            **{s.split("/")[0]: Decimal("1000") for s in symbols},
        }
        self.orders: dict[str, FakeOrder] = {}
        self.trades: list[FakeTrade] = []
        self.public_trade_seq = itertools.count(1)
        self.public_trades: dict[str, list[dict[str, Any]]] = {i: [] for i in self.ids.values()}
        self.depth_update = {i: 1 for i in self.ids.values()}
        self._order_ids = itertools.count(1000)
        self._trade_ids = itertools.count(1)
        self.duplicate_submissions = 0
        self.requests: list[tuple[str, str]] = []
        # fault switches
        # websocket clients
        self._public: dict[web.WebSocketResponse, set[str]] = {}
        self._private: set[web.WebSocketResponse] = set()
        self._runner: web.AppRunner | None = None
        self._site_port = 0
        self._pump: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Future[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, *, tick_interval_s: float = 0.05) -> FakeBinanceExchange:
        app = web.Application()
        app.router.add_route("*", "/api/v3/{tail:.*}", self._http)
        app.router.add_get("/ws-api/v3", self._ws_api)
        app.router.add_get("/ws/{stream:.*}", self._ws_public)
        app.router.add_get("/ws", self._ws_public)
        self._runner, self._site_port = await serve_loopback(app)
        self.tick_interval_s = tick_interval_s
        self._pump = asyncio.create_task(self._market_pump(), name="fake-binance-pump")
        return self

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        for ws in [*self._public, *self._private]:
            with contextlib.suppress(Exception):
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._site_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self._site_port}"

    def ccxt_options(self) -> dict[str, Any]:
        """The `options` table a `[venues.X]` config uses to point ccxt's binance here."""
        rest = self.url + "/api/v3"
        return {
            "urls": {
                "api": {
                    "public": rest,
                    "private": rest,
                    "v1": self.url + "/api/v1",
                    "sapi": self.url + "/sapi/v1",
                    "ws": {
                        "spot": self.ws_url + "/ws",
                        "ws-api": {"spot": self.ws_url + "/ws-api/v3"},
                    },
                }
            },
            "options": {
                **FakeBinance.ccxt_options(),
                "warnOnFetchOpenOrdersWithoutSymbol": False,
                "fetchMargins": False,
            },
            "timeout": 3000,
        }

    # -- faults ------------------------------------------------------------------------------

    async def drop_connections(self) -> None:
        """Close every websocket abruptly (the exchange restarting, a NAT timeout...)."""
        self.faults_injected.append("drop")
        for ws in [*self._public, *self._private]:
            with contextlib.suppress(Exception):
                await ws.close(code=1006)

    # -- trading -----------------------------------------------------------------------------

    def set_price(self, symbol: str, price: Decimal | str) -> None:
        self.prices[self.ids.get(symbol, symbol)] = Decimal(str(price))
        self._cross(self.ids.get(symbol, symbol))

    def fill(
        self, client_order_id: str, qty: Decimal | None = None, price: Decimal | None = None
    ) -> FakeTrade:
        """Fill (part of) a working order now, e.g. a limit order the market reached."""
        order = self.orders[client_order_id]
        qty = order.quantity - order.executed if qty is None else qty
        return self._execute(order, qty, price or order.price or self.prices[order.symbol])

    def _execute(self, order: FakeOrder, qty: Decimal, price: Decimal) -> FakeTrade:
        self.now_ms += 1
        trade = FakeTrade(
            next(self._trade_ids),
            order,
            qty,
            price,
            self.now_ms,
            (qty * price * QUOTE_FEE).quantize(Decimal("0.00000001")),
        )
        order.executed += qty
        order.quote += qty * price
        order.status = "FILLED" if order.executed >= order.quantity else "PARTIALLY_FILLED"
        self.trades.append(trade)
        base, quote = self._assets(order.symbol)
        sign = 1 if order.side == "BUY" else -1
        self.balances[base] = self.balances.get(base, Decimal(0)) + sign * qty
        self.balances[quote] = (
            self.balances.get(quote, Decimal(0)) - sign * qty * price - trade.commission
        )
        reports = [self._report(order, "TRADE", trade)]
        if self._duplicate_fills:
            reports.append(reports[0])
        self._push_private(reports)
        return trade

    def _assets(self, exchange_id: str) -> tuple[str, str]:
        for sym, i in self.ids.items():
            if i == exchange_id:
                b, q = sym.split("/")
                return b, q
        raise KeyError(exchange_id)

    def _cross(self, exchange_id: str) -> None:
        price = self.prices[exchange_id]
        for order in list(self.orders.values()):
            if (
                order.symbol != exchange_id
                or order.status not in ("NEW", "PARTIALLY_FILLED")
                or order.price is None
            ):
                continue
            if (order.side == "BUY" and price <= order.price) or (
                order.side == "SELL" and price >= order.price
            ):
                self._execute(order, order.quantity - order.executed, order.price)

    def _report(
        self, order: FakeOrder, execution: str, trade: FakeTrade | None = None, orig_cid: str = ""
    ) -> dict[str, Any]:
        return {
            "e": "executionReport",
            "E": self.now_ms,
            "s": order.symbol,
            "c": order.client_order_id,
            "S": order.side,
            "o": order.type,
            "f": order.tif,
            "q": str(order.quantity),
            "p": str(order.price or 0),
            "P": "0",
            "F": "0",
            "g": -1,
            "C": orig_cid,
            "x": execution,
            "X": order.status,
            "r": "NONE",
            "i": order.order_id,
            "l": str(trade.qty if trade else 0),
            "z": str(order.executed),
            "L": str(trade.price if trade else 0),
            "n": str(trade.commission if trade else 0),
            "N": self._assets(order.symbol)[1] if trade else None,
            "T": trade.time_ms if trade else self.now_ms,
            "t": trade.trade_id if trade else -1,
            "I": 1,
            "w": order.status == "NEW",
            "m": False,
            "M": trade is not None,
            "O": order.time_ms,
            "Z": str(order.quote),
            "Y": str(trade.qty * trade.price) if trade else "0",
            "Q": "0",
        }

    # -- HTTP --------------------------------------------------------------------------------

    async def _http(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        query = dict(request.query)
        if request.method in ("POST", "PUT"):
            query.update(dict(parse_qsl(await request.text())))
        self.requests.append((request.method, path))
        if self._http_faults:
            status = self._http_faults.pop(0)
            if status in (429, 418):
                return web.json_response(
                    {"code": -1003, "msg": "Too many requests."},
                    status=status,
                    headers={"Retry-After": "1"},
                )
            return web.Response(status=status, text="Service Unavailable")
        if path in ("/exchangeInfo",):
            return web.json_response(self.rest._exchange_info())
        if path == "/klines":
            status, body = self.rest._klines_response(query)
            return web.json_response(body, status=status)
        if path == "/ping":
            return web.json_response({})
        if path == "/time":
            return web.json_response({"serverTime": self.now_ms})
        if path == "/ticker/24hr":
            return web.json_response(self._ticker(query.get("symbol", self.ids[self.symbols[0]])))
        if path == "/depth":
            return web.json_response(self._depth_snapshot(query["symbol"]))
        if path in ("/trades", "/aggTrades", "/historicalTrades"):
            return web.json_response(
                self.public_trades.get(query["symbol"], [])[-int(query.get("limit", 500)) :]
            )
        # private endpoints
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            return web.json_response(
                {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
                status=401,
            )
        if path == "/account":
            return web.json_response(
                {
                    "makerCommission": 10,
                    "takerCommission": 10,
                    "canTrade": True,
                    "accountType": "SPOT",
                    "updateTime": self.now_ms,
                    "permissions": ["SPOT"],
                    "balances": [
                        {"asset": a, "free": str(v), "locked": "0"}
                        for a, v in self.balances.items()
                    ],
                }
            )
        if path == "/order":
            return await self._order_endpoint(request.method, query)
        if path == "/openOrders":
            open_ = [
                o.to_rest()
                for o in self.orders.values()
                if o.status in ("NEW", "PARTIALLY_FILLED")
                and ("symbol" not in query or o.symbol == query["symbol"])
            ]
            return web.json_response(open_)
        if path == "/myTrades":
            return web.json_response(self._my_trades(query))
        return web.json_response({"code": -1, "msg": f"fake binance has no {path}"}, status=404)

    async def _order_endpoint(self, method: str, q: dict[str, str]) -> web.Response:
        if method == "GET":
            order = self._find(q)
            if order is None:
                return web.json_response(
                    {"code": -2013, "msg": "Order does not exist."}, status=400
                )
            return web.json_response(order.to_rest())
        if method == "DELETE":
            order = self._find(q)
            if order is None or order.status not in ("NEW", "PARTIALLY_FILLED"):
                return web.json_response({"code": -2011, "msg": "Unknown order sent."}, status=400)
            order.status = "CANCELED"
            self.now_ms += 1
            self._push_private([self._report(order, "CANCELED", orig_cid=order.client_order_id)])
            return web.json_response(order.to_rest())
        # POST: new order
        cid = q.get("newClientOrderId") or f"x-{next(self._order_ids)}"
        if cid in self.orders:
            self.duplicate_submissions += 1
            return web.json_response({"code": -2010, "msg": "Duplicate order sent."}, status=400)
        if self._reject_next:
            self._reject_next -= 1
            return web.json_response(
                {"code": -2010, "msg": "Account has insufficient balance for requested action."},
                status=400,
            )
        self.now_ms += 1
        price = Decimal(q["price"]) if q.get("price") else None
        order = FakeOrder(
            next(self._order_ids),
            cid,
            q["symbol"],
            q["side"],
            q["type"],
            Decimal(q["quantity"]),
            price,
            self.now_ms,
            tif=q.get("timeInForce", "GTC"),
        )
        self.orders[cid] = order
        delay = 0.0
        if self._ack_delay_count:
            self._ack_delay_count -= 1
            delay = self._ack_delay_s
        reports = [self._report(order, "NEW")]
        self._push_private(reports)
        if order.type == "MARKET":
            half = (order.quantity / 2).quantize(Decimal("0.00001"))
            fills = [half, order.quantity - half] if half > 0 else [order.quantity]
            for qty in fills:
                self._execute(order, qty, self.prices[order.symbol])
        else:
            self._cross(order.symbol)
        if delay:
            await asyncio.sleep(delay)
        return web.json_response(order.to_rest())

    def _find(self, q: dict[str, str]) -> FakeOrder | None:
        cid = q.get("origClientOrderId")
        if cid:
            return self.orders.get(cid)
        oid = q.get("orderId")
        return next((o for o in self.orders.values() if str(o.order_id) == oid), None)

    def _my_trades(self, q: dict[str, str]) -> list[dict[str, Any]]:
        """As Binance: with startTime or fromId the oldest matching trades first (up to limit,
        max 1000); with neither the most recent ones."""
        limit = min(int(q.get("limit", 500)), 1000)
        rows = [t for t in self.trades if t.order.symbol == q.get("symbol")]
        if "fromId" in q:
            rows = [t for t in rows if t.trade_id >= int(q["fromId"])][:limit]
        elif "startTime" in q or "endTime" in q:
            start, end = int(q.get("startTime", 0)), int(q.get("endTime", 2**62))
            rows = [t for t in rows if start <= t.time_ms <= end][:limit]
        else:
            rows = rows[-limit:]
        return [self._my_trade(t) for t in rows]

    def _my_trade(self, t: FakeTrade) -> dict[str, Any]:
        return {
            "symbol": t.order.symbol,
            "id": t.trade_id,
            "orderId": t.order.order_id,
            "orderListId": -1,
            "price": str(t.price),
            "qty": str(t.qty),
            "quoteQty": str(t.qty * t.price),
            "commission": str(t.commission),
            "commissionAsset": self._assets(t.order.symbol)[1],
            "time": t.time_ms,
            "isBuyer": t.order.side == "BUY",
            "isMaker": t.order.type == "LIMIT",
            "isBestMatch": True,
        }

    def _ticker(self, exchange_id: str) -> dict[str, Any]:
        p = self.prices[exchange_id]
        return {
            "e": "24hrTicker",
            "E": self.now_ms,
            "s": exchange_id,
            "symbol": exchange_id,
            "p": "0",
            "P": "0",
            "w": str(p),
            "x": str(p),
            "c": str(p),
            "Q": "1",
            "b": str(p - Decimal("0.01")),
            "B": "5",
            "a": str(p + Decimal("0.01")),
            "A": "5",
            "o": str(p),
            "h": str(p),
            "l": str(p),
            "v": "1000",
            "q": str(p * 1000),
            "O": self.now_ms - 86_400_000,
            "C": self.now_ms,
            "F": 1,
            "L": 2,
            "n": 2,
            "lastPrice": str(p),
            "bidPrice": str(p - Decimal("0.01")),
            "askPrice": str(p + Decimal("0.01")),
            "openPrice": str(p),
            "highPrice": str(p),
            "lowPrice": str(p),
            "volume": "1000",
            "quoteVolume": str(p * 1000),
            "openTime": self.now_ms - 86_400_000,
            "closeTime": self.now_ms,
        }

    def _levels(self, exchange_id: str) -> tuple[list[list[str]], list[list[str]]]:
        p = self.prices[exchange_id]
        bids = [[str(p - Decimal("0.01") * (i + 1)), "1.0"] for i in range(5)]
        asks = [[str(p + Decimal("0.01") * (i + 1)), "1.0"] for i in range(5)]
        return bids, asks

    def _depth_snapshot(self, exchange_id: str) -> dict[str, Any]:
        bids, asks = self._levels(exchange_id)
        return {"lastUpdateId": self.depth_update[exchange_id], "bids": bids, "asks": asks}

    # -- websockets --------------------------------------------------------------------------

    async def _ws_public(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self._public[ws] = set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if data.get("method") == "SUBSCRIBE":
                    self._public[ws].update(data.get("params", []))
                    await ws.send_str(json.dumps({"result": None, "id": data.get("id")}))
                elif data.get("method") == "UNSUBSCRIBE":
                    self._public[ws].difference_update(data.get("params", []))
                    await ws.send_str(json.dumps({"result": None, "id": data.get("id")}))
        finally:
            self._public.pop(ws, None)
        return ws

    async def _ws_api(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if data.get("method") == "userDataStream.subscribe.signature":
                    if data.get("params", {}).get("apiKey") != self.api_key:
                        await ws.send_str(
                            json.dumps(
                                {
                                    "id": data.get("id"),
                                    "status": 401,
                                    "error": {
                                        "code": -2015,
                                        "msg": "Invalid API-key, IP, or permissions for action.",
                                    },
                                }
                            )
                        )
                        continue
                    self._private.add(ws)
                    await ws.send_str(
                        json.dumps(
                            {"id": data.get("id"), "status": 200, "result": {"subscriptionId": 0}}
                        )
                    )
                else:
                    await ws.send_str(
                        json.dumps(
                            {
                                "id": data.get("id"),
                                "status": 400,
                                "error": {"code": -1, "msg": "unsupported in fake"},
                            }
                        )
                    )
        finally:
            self._private.discard(ws)
        return ws

    def _push_private(self, events: list[dict[str, Any]]) -> None:
        if self._reorder_fills and len(events) >= 1:
            events = list(reversed(events))
        if self._stalled:
            return  # lost on the wire: reconciliation must find these fills over REST
        for ws in list(self._private):
            for event in events:
                task = asyncio.ensure_future(self._send(ws, {"subscriptionId": 0, "event": event}))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)

    @staticmethod
    async def _send(ws: web.WebSocketResponse, payload: Any) -> None:
        with contextlib.suppress(Exception):
            await ws.send_str(payload if isinstance(payload, str) else json.dumps(payload))

    async def _market_pump(self) -> None:
        """Move prices, print trades and push public stream messages every tick."""
        while True:
            await asyncio.sleep(self.tick_interval_s)
            self.now_ms += int(self.tick_interval_s * 1000)
            for exchange_id in list(self.prices):
                step = Decimal(self.rng.choice((-2, -1, 0, 1, 2))) * Decimal("0.01")
                self.prices[exchange_id] = max(Decimal("0.01"), self.prices[exchange_id] + step)
                tid = next(self.public_trade_seq)
                trade = {
                    "id": tid,
                    "price": str(self.prices[exchange_id]),
                    "qty": "0.5",
                    "quoteQty": str(self.prices[exchange_id] / 2),
                    "time": self.now_ms,
                    "isBuyerMaker": bool(tid % 2),
                    "isBestMatch": True,
                }
                self.public_trades[exchange_id].append(trade)
                del self.public_trades[exchange_id][:-1000]
                self._cross(exchange_id)
                if self._stalled:
                    continue
                await self._publish(exchange_id, trade)

    async def _publish(self, exchange_id: str, trade: dict[str, Any]) -> None:
        low = exchange_id.lower()
        self.depth_update[exchange_id] += 1
        u = self.depth_update[exchange_id]
        bids, asks = self._levels(exchange_id)
        messages = {
            f"{low}@ticker": self._ticker(exchange_id),
            f"{low}@trade": {
                "e": "trade",
                "E": self.now_ms,
                "s": exchange_id,
                "t": trade["id"],
                "p": trade["price"],
                "q": trade["qty"],
                "T": trade["time"],
                "m": trade["isBuyerMaker"],
                "M": True,
            },
            f"{low}@depth": {
                "e": "depthUpdate",
                "E": self.now_ms,
                "s": exchange_id,
                "U": u,
                "u": u,
                "b": bids,
                "a": asks,
            },
        }
        for ws, streams in list(self._public.items()):
            for stream in streams:
                if self._malformed:
                    self._malformed -= 1
                    await self._send(ws, "{not json")
                payload = messages.get(stream)
                if payload is None and "@kline_" in stream:
                    payload = self._kline(exchange_id, stream.split("@kline_")[1])
                if payload is not None:
                    await self._send(ws, payload)

    def _kline(self, exchange_id: str, tf: str) -> dict[str, Any]:
        step = {"1m": 60_000, "5m": 300_000, "1h": 3_600_000}.get(tf, 60_000)
        start = self.now_ms - self.now_ms % step
        p = str(self.prices[exchange_id])
        return {
            "e": "kline",
            "E": self.now_ms,
            "s": exchange_id,
            "k": {
                "t": start,
                "T": start + step - 1,
                "s": exchange_id,
                "i": tf,
                "f": 1,
                "L": 2,
                "o": p,
                "c": p,
                "h": p,
                "l": p,
                "v": "1",
                "n": 1,
                "x": False,
                "q": p,
                "V": "0",
                "Q": "0",
                "B": "0",
            },
        }
