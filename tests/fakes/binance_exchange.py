"""A loopback fake Binance spot exchange (REST + websocket) for ccxt / ccxt.pro, over FakeMarket.

Only Binance's wire format lives here; prices, orders, matching and faults are `FakeMarket`'s.
It reuses `binance_rest.FakeBinance` for exchangeInfo and klines (same markets, same kline
format as the download tests) and adds what trading needs:

REST  /api/v3/order (POST, GET, DELETE), /openOrders, /myTrades (paged as Binance), /account, /depth,
      /ticker/24hr, /trades, /klines, /exchangeInfo, /time, /ping
WS    /ws/<n>         public streams: SUBSCRIBE to <sym>@ticker, @depth, @trade, @kline_<tf>
      /ws-api/v3      userDataStream.subscribe.signature -> executionReport events

Binance's words: symbols "BTCUSDT", sides BUY / SELL, types LIMIT / MARKET, statuses NEW /
PARTIALLY_FILLED / FILLED / CANCELED; `orders`, `trades`, `prices` and `public_trades` hold
FakeMarket's unified ones ("BTC/USDT", "buy", "limit", "new").

`snapshots` (an asyncio.Event, set: answered) holds each /depth answer while it is cleared: a
book's REST snapshot as slow as Binance's under a burst of them (depth at limit 1000 weighs
50 of the 6000 a minute), the diff stream flowing meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from fakes.binance_rest import FakeBinance
from fakes.fake_market import FakeMarket, FakeOrder, FakeTrade, OrderRefused

STATUS = {
    "new": "NEW",
    "partially_filled": "PARTIALLY_FILLED",
    "filled": "FILLED",
    "canceled": "CANCELED",
}
KLINE_MS = {"1m": 60_000, "5m": 300_000, "1h": 3_600_000}
BAD_KEY = {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}


def _error(code: int, msg: str, status: int = 400) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status)


class FakeBinanceExchange(FakeMarket):
    client_id_unique_among_open_only = True  # Binance's newClientOrderId rule

    def __init__(
        self,
        symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT"),
        *,
        api_key: str = "test-key",
        seed: int = 7,
        start_ms: int | None = None,
    ) -> None:
        super().__init__(symbols, api_key=api_key, seed=seed, start_ms=start_ms)
        self.rest = FakeBinance(symbols)  # exchangeInfo and klines, shared with the download tests
        self.ids = {s: s.replace("/", "") for s in self.symbols}
        # False: /account answers without its updateTime, as venues whose balances come with no
        # time through ccxt do (KuCoin, Kraken, Coinbase): the engine cannot tell what they hold
        self.account_time = True
        self.depth_update = {s: 1 for s in self.symbols}
        self._public: dict[web.WebSocketResponse, set[str]] = {}
        self._private: set[web.WebSocketResponse] = set()
        self.ws_api_requests: list[str] = []  # each /ws-api/v3 request's method, in order
        # a venue misbehaving on /klines (a test's): (query, the documented answer) -> the answer
        self.klines_fault: Callable[[dict[str, str], list[list[Any]]], list[list[Any]]] | None = None
        self.lagging: set[str] = set()  # client ids whose REST view is as before their fills (`lag_orders`)
        self.snapshots = asyncio.Event()  # cleared: /depth answers wait until it is set again
        self.snapshots.set()

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

    def lag_orders(self, *client_order_ids: str, on: bool = True) -> None:
        """These orders' REST view (the order, /openOrders, /myTrades) stays as it was before
        their fills while the balances already hold them: the order endpoints behind the
        account's (a fill heard of late, after a balances read that holds it)."""
        if on:
            self.faults_injected.append("lagging_orders")
            self.lagging.update(client_order_ids)
        else:
            self.lagging.difference_update(client_order_ids)

    def symbol_of(self, exchange_id: str | None) -> str | None:
        return next((s for s, i in self.ids.items() if i == exchange_id), None)

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/v3/{tail:.*}", self._http)
        app.router.add_get("/ws-api/v3", self._ws_api)
        app.router.add_get("/ws/{stream:.*}", self._ws_public)
        app.router.add_get("/ws", self._ws_public)

    # -- REST --------------------------------------------------------------------------------

    async def _http(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        query = dict(request.query)
        if request.method in ("POST", "PUT"):
            query.update(dict(parse_qsl(await request.text())))
        self.log_request(request.method, path)
        fault = self.take_fault(request.method, path)
        if fault is not None and fault.status == 0:  # answered, but after the client gave up
            await asyncio.sleep(fault.delay)
            fault = None
        if fault is not None and fault.status in (429, 418):
            return self._limited(fault.status, fault.retry_after)
        if fault is not None:
            return web.Response(status=fault.status, text="Service Unavailable")
        if path == "/exchangeInfo":
            return web.json_response(self.rest._exchange_info())
        if path == "/klines":
            status, body = self.rest._klines_response(query)
            if self.klines_fault is not None and status == 200:
                body = self.klines_fault(query, body)
            return web.json_response(body, status=status)
        if path == "/ping":
            return web.json_response({})
        if path == "/time":
            return web.json_response({"serverTime": self.server_time_ms()})
        symbol = self.symbol_of(query.get("symbol"))
        if "symbol" in query and symbol is None:
            return _error(-1121, "Invalid symbol.")
        if path == "/ticker/24hr":
            return web.json_response(self._ticker(symbol or self.symbols[0]))
        if path == "/depth" and symbol is not None:
            await self.snapshots.wait()
            bids, asks = self.levels(symbol)
            update = self.depth_update[symbol]
            return web.json_response({"lastUpdateId": update, "bids": bids, "asks": asks})
        if path in ("/trades", "/aggTrades", "/historicalTrades") and symbol is not None:
            limit = min(int(query.get("limit", 500)), 1000)  # default 500, max 1000
            if path == "/aggTrades" and "startTime" in query:  # from startTime on, both ends inclusive
                start, end = int(query["startTime"]), int(query.get("endTime", 2**63))
                rows = [t for t in self.public_trades[symbol] if start <= t["time"] <= end][:limit]
            else:  # the most recent
                rows = self.public_trades[symbol][-limit:]
            return web.json_response([self._public_trade(t) for t in rows])
        # private endpoints
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            return web.json_response(BAD_KEY, status=401)
        if (late := self._timestamp_error(query)) is not None:
            return _error(-1021, late)
        if path == "/account":
            return web.json_response(
                {
                    "makerCommission": 10,
                    "takerCommission": 10,
                    "canTrade": True,
                    "accountType": "SPOT",
                    **({"updateTime": self.now_ms} if self.account_time else {}),
                    "permissions": ["SPOT"],
                    "balances": [{"asset": a, "free": str(v), "locked": "0"} for a, v in self.balances.items()],
                }
            )
        if path == "/order":
            return await self._order_endpoint(request.method, query, symbol)
        if path == "/openOrders":
            rows = self.open_orders(symbol)
            rows += [o for o in self.orders.values() if o.client_order_id in self.lagging and not o.is_open
                     and symbol in (None, o.symbol)]  # fmt: skip
            return web.json_response([self._order_rest(o) for o in rows])
        if path == "/myTrades" and symbol is not None:
            return web.json_response(self._my_trades(symbol, query))
        return _error(-1, f"fake binance has no {path}", status=404)

    async def _order_endpoint(self, method: str, q: dict[str, str], symbol: str | None) -> web.Response:
        if method == "GET":
            order = self._find(q)
            if order is None:
                return _error(-2013, "Order does not exist.")
            return web.json_response(self._order_rest(order))
        if method == "DELETE":
            order = self._find(q)
            if order is None or not self.cancel(order):
                return _error(-2011, "Unknown order sent.")
            return web.json_response(self._order_rest(order))
        # POST: new order
        if symbol is None:
            return _error(-1102, "Mandatory parameter 'symbol' was not sent.")
        try:
            order = self.place(
                symbol,
                q["side"].lower(),
                q["type"].lower(),
                Decimal(q["quantity"]),
                Decimal(q["price"]) if q.get("price") else None,
                q.get("newClientOrderId") or None,
                tif=q.get("timeInForce", "GTC"),
            )
        except OrderRefused as exc:
            if exc.kind == "duplicate":
                return _error(-2010, "Duplicate order sent.")
            return _error(-2010, "Account has insufficient balance for requested action.")
        if self.take_duplicate_answer():  # made, but the answer is the duplicate refusal
            return _error(-2010, "Duplicate order sent.")
        delay = self.take_ack_delay()
        if delay:
            await asyncio.sleep(delay)
        return web.json_response(self._order_rest(order))

    def _limited(self, status: int, retry_after: float | None) -> web.Response:
        """Binance's rate limit answers: 429 (back off or be banned), 418 (banned), each with
        the seconds to wait in Retry-After."""
        wait = 1 if retry_after is None else retry_after
        if status == 418:
            until = self.server_time_ms() + int(wait * 1000)
            msg = (
                f"Way too much request weight used; IP banned until {until}. "
                "Please use WebSocket Streams for live updates to avoid bans."
            )
        else:
            msg = (
                "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. "
                "Please use WebSocket Streams for live updates to avoid polling the API."
            )
        return web.json_response({"code": -1003, "msg": msg}, status=status, headers={"Retry-After": f"{wait:g}"})

    def _timestamp_error(self, params: dict[str, Any]) -> str | None:
        """Binance's timing security for signed requests: refused when the timestamp is 1 s or
        more ahead of the server's clock, or older than recvWindow (default 5000 ms)."""
        if "timestamp" not in params:
            return None
        sent, server = int(params["timestamp"]), self.server_time_ms()
        window = int(params.get("recvWindow") or 5000)
        if sent >= server + 1000:
            return "Timestamp for this request was 1000ms ahead of the server's time."
        if server - sent > window:
            return "Timestamp for this request is outside of the recvWindow."
        return None

    def _find(self, q: dict[str, str]) -> FakeOrder | None:
        cid = q.get("origClientOrderId")
        if cid:
            return self.orders.get(cid)
        return self.by_order_id(q.get("orderId", ""))

    def _order_rest(self, o: FakeOrder) -> dict[str, Any]:
        lags = o.client_order_id in self.lagging
        return {
            "symbol": self.ids[o.symbol],
            "orderId": o.order_id,
            "orderListId": -1,
            "clientOrderId": o.client_order_id,
            "price": str(o.price or 0),
            "origQty": str(o.quantity),
            "executedQty": "0" if lags else str(o.executed),
            "cummulativeQuoteQty": "0" if lags else str(o.quote),
            "status": "NEW" if lags else STATUS[o.status],
            "timeInForce": o.tif,
            "type": o.type.upper(),
            "side": o.side.upper(),
            "stopPrice": "0",
            "time": o.time_ms,
            "updateTime": o.time_ms,
            "transactTime": o.time_ms,
            "workingTime": o.time_ms,
            "isWorking": True,
            "origQuoteOrderQty": "0",
            "selfTradePreventionMode": "NONE",
            "fills": [],
        }

    def _my_trades(self, symbol: str, q: dict[str, str]) -> list[dict[str, Any]]:
        """As Binance: with startTime or fromId the oldest matching trades first (up to limit,
        max 1000); with neither the most recent ones."""
        limit = min(int(q.get("limit", 500)), 1000)
        rows = [t for t in self.trades_for(symbol) if t.order.client_order_id not in self.lagging]
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
            "symbol": self.ids[t.order.symbol],
            "id": t.trade_id,
            "orderId": t.order.order_id,
            "orderListId": -1,
            "price": str(t.price),
            "qty": str(t.qty),
            "quoteQty": str(t.qty * t.price),
            "commission": str(t.commission),
            "commissionAsset": t.order.symbol.split("/")[1],
            "time": t.time_ms,
            "isBuyer": t.order.side == "buy",
            "isMaker": t.is_maker,
            "isBestMatch": True,
        }

    @staticmethod
    def _public_trade(t: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": t["id"],
            "price": t["price"],
            "qty": t["qty"],
            "quoteQty": str(Decimal(t["price"]) * Decimal(t["qty"])),
            "time": t["time"],
            "isBuyerMaker": t["side"] == "sell",
            "isBestMatch": True,
        }

    def _ticker(self, symbol: str) -> dict[str, Any]:
        p = self.prices[symbol]
        exchange_id = self.ids[symbol]
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

    # -- websockets --------------------------------------------------------------------------

    async def _ws_public(self, request: web.Request) -> web.StreamResponse:
        if self.refusing:
            return web.Response(status=503, text="Service Unavailable")
        ws = await self.open_socket(request)
        self._public[ws] = set()
        try:
            async for data in self.json_frames(ws):
                if data.get("method") == "SUBSCRIBE":
                    self._public[ws].update(data.get("params", []))
                    await self.send(ws, {"result": None, "id": data.get("id")})
                elif data.get("method") == "UNSUBSCRIBE":
                    self._public[ws].difference_update(data.get("params", []))
                    await self.send(ws, {"result": None, "id": data.get("id")})
        finally:
            self._public.pop(ws, None)
            self.forget_socket(ws)
        return ws

    async def _ws_api(self, request: web.Request) -> web.StreamResponse:
        if self.refusing:
            return web.Response(status=503, text="Service Unavailable")
        ws = await self.open_socket(request)
        try:
            async for data in self.json_frames(ws):
                self.ws_api_requests.append(str(data.get("method")))
                answer: dict[str, Any] = {"id": data.get("id")}
                params = data.get("params") or {}
                if data.get("method") != "userDataStream.subscribe.signature":
                    answer.update(status=400, error={"code": -1, "msg": "unsupported in fake"})
                elif params.get("apiKey") != self.api_key:  # a key Binance refuses: its docs' 401 / -2015
                    answer.update(status=401, error=BAD_KEY)
                elif (late := self._timestamp_error(params)) is not None:
                    answer.update(status=400, error={"code": -1021, "msg": late})
                else:
                    self._private.add(ws)
                    answer.update(status=200, result={"subscriptionId": 0})
                await self.send(ws, answer)
        finally:
            self._private.discard(ws)
            self.forget_socket(ws)
        return ws

    def publish_order(self, order: FakeOrder, trade: FakeTrade | None) -> None:
        report = self._report(order, trade)
        self.push_private(self._private, [{"subscriptionId": 0, "event": report}])

    def _report(self, order: FakeOrder, trade: FakeTrade | None) -> dict[str, Any]:
        """An executionReport: a NEW order, a TRADE, or a CANCELED order."""
        canceled = trade is None and order.status == "canceled"
        execution = "TRADE" if trade else "CANCELED" if canceled else "NEW"
        return {
            "e": "executionReport",
            "E": self.now_ms,
            "s": self.ids[order.symbol],
            "c": order.client_order_id,
            "S": order.side.upper(),
            "o": order.type.upper(),
            "f": order.tif,
            "q": str(order.quantity),
            "p": str(order.price or 0),
            "P": "0",
            "F": "0",
            "g": -1,
            "C": order.client_order_id if canceled else "",
            "x": execution,
            "X": STATUS[order.status],
            "r": "NONE",
            "i": order.order_id,
            "l": str(trade.qty if trade else 0),
            "z": str(order.executed),
            "L": str(trade.price if trade else 0),
            "n": str(trade.commission if trade else 0),
            "N": order.symbol.split("/")[1] if trade else None,
            "T": trade.time_ms if trade else self.now_ms,
            "t": trade.trade_id if trade else -1,
            "I": 1,
            "w": order.status == "new",
            "m": False,
            "M": trade is not None,
            "O": order.time_ms,
            "Z": str(order.quote),
            "Y": str(trade.qty * trade.price) if trade else "0",
            "Q": "0",
        }

    async def publish_market(self, symbol: str, trade: dict[str, Any]) -> None:
        exchange_id = self.ids[symbol]
        low = exchange_id.lower()
        self.depth_update[symbol] += 1
        u = self.depth_update[symbol]
        bids, asks = self.levels(symbol)
        messages = {
            f"{low}@ticker": self._ticker(symbol),
            f"{low}@trade": {
                "e": "trade",
                "E": self.now_ms,
                "s": exchange_id,
                "t": trade["id"],
                "p": trade["price"],
                "q": trade["qty"],
                "T": trade["time"],
                "m": trade["side"] == "sell",
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
        messages[f"{low}@depth@100ms"] = messages[f"{low}@depth"]  # the diff stream at 100 ms (ccxt's choice)
        await self.fan_out(symbol, messages)

    async def fan_out(self, symbol: str, messages: dict[str, Any]) -> None:
        """Send each subscriber of `symbol`'s streams its message (klines built on demand)."""
        low = self.ids[symbol].lower()
        for ws, streams in list(self._public.items()):
            for stream in list(streams):
                if stream in self._muted:
                    continue
                payload = messages.get(stream)
                if payload is None and stream.startswith(f"{low}@kline_"):
                    payload = self._kline(symbol, stream.split("@kline_")[1])
                if payload is not None:
                    await self.send_public(ws, payload)

    def _kline(self, symbol: str, tf: str) -> dict[str, Any]:
        step = KLINE_MS.get(tf, 60_000)
        start = self.candle_start(step)
        p = str(self.prices[symbol])
        exchange_id = self.ids[symbol]
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
