"""A loopback fake OKX spot exchange (REST v5 + websocket v5) for ccxt / ccxt.pro, over FakeMarket.

Only OKX's wire format lives here; prices, orders, matching and faults are `FakeMarket`'s.

REST  /api/v5/public/instruments, /public/time, /market/ticker(s), /market/books,
      /market/(history-)candles, /market/(history-)trades; signed: /account/balance,
      /asset/currencies, /trade/order (GET, POST), /trade/batch-orders, /trade/cancel-order,
      /trade/orders-pending, /trade/fills-history (newest first, at most 100, `after` billId)
WS    /ws/v5/public    tickers, books (snapshot + seqId deltas), books5, trades
      /ws/v5/business  candle<bar>
      /ws/v5/private   login (signed), orders (order updates carrying each fill)

Authentication is checked as OKX does: OK-ACCESS-KEY, OK-ACCESS-PASSPHRASE, a timestamp within
30 s, and OK-ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp + method + path?query + body)).
`demo=True` is OKX's demo trading: private calls must carry `x-simulated-trading: 1`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
import zlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from fakes.fake_market import FakeMarket, FakeOrder, FakeTrade, OrderRefused

TICK = Decimal("0.01")
LOT = Decimal("0.00001")
MIN_SZ = Decimal("0.0001")
FILLS_MAX = 100  # /trade/fills-history: "The maximum is 100"
CLORDID = re.compile(r"^[A-Za-z0-9]{1,32}$")
STATE = {"new": "live", "partially_filled": "partially_filled", "filled": "filled", "canceled": "canceled"}
BARS = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "1H": 3_600_000}


def _ok(data: list[Any]) -> web.Response:
    return web.json_response({"code": "0", "msg": "", "data": data})


def _err(code: str, msg: str, status: int = 200, data: list[Any] | None = None) -> web.Response:
    return web.json_response({"code": code, "msg": msg, "data": data or []}, status=status)


class FakeOkxExchange(FakeMarket):
    def __init__(
        self,
        symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT"),
        *,
        api_key: str = "test-key",
        secret: str = "test-secret-value",
        passphrase: str = "test-passphrase",
        demo: bool = True,
        seed: int = 7,
    ) -> None:
        super().__init__(symbols, api_key=api_key, seed=seed)
        self.secret = secret
        self.passphrase = passphrase
        self.demo = demo
        self.ids = {s: s.replace("/", "-") for s in self.symbols}
        self.auth_failures: list[str] = []  # the OKX error code of each refused private call
        self._public: dict[web.WebSocketResponse, list[dict[str, str]]] = {}
        self._private: dict[web.WebSocketResponse, list[dict[str, str]]] = {}
        self._books: dict[str, tuple[int, list[list[str]], list[list[str]]]] = {}
        self._seq = 1000
        self.ws_queries: list[str] = []  # query strings of websocket connections (brokerId in demo)
        self.logins = 0  # private websocket logins asked for
        self.login_refusals: list[tuple[str, str]] = []  # the next logins' (code, msg), refused

    def ccxt_options(self) -> dict[str, Any]:
        """The `options` table of a `[venues.X]` config that points ccxt's okx here."""
        return {
            "urls": {"api": {"rest": self.url, "ws": self.ws_url + "/ws/v5"}},
            "options": {"fetchMarkets": {"types": ["spot"]}},
        }

    def symbol_of(self, inst_id: str) -> str | None:
        return next((s for s, i in self.ids.items() if i == inst_id), None)

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/v5/{tail:.*}", self._http)
        app.router.add_get("/ws/v5/{kind}", self._ws)

    # -- REST -----------------------------------------------------------------------------

    async def _http(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["tail"]
        body = await request.text()
        self.requests.append((request.method, path))
        status = self.take_http_fault()
        if status in (429, 418):
            return _err("50011", "Too Many Requests", status=429)
        if status is not None:
            return web.Response(status=status, text="Service Unavailable")
        q = dict(request.query)
        if path.startswith(("public/", "market/")):
            return self._public_rest(path, q)
        refused = self._check_auth(request, body)
        if refused is not None:
            return refused
        payload: Any = json.loads(body) if body else {}
        if path == "account/balance":
            return _ok([self._balance()])
        if path == "asset/currencies":
            return _ok([{"ccy": c, "chain": f"{c}-Fake", "canDep": True, "canWd": True,
                         "canInternal": True, "minWd": "0.001", "maxFee": "0", "minFee": "0",
                         "name": c, "wdTickSz": "8", "mainNet": True} for c in self.balances])
        if path == "trade/batch-orders" and request.method == "POST":
            return await self._place_all(payload if isinstance(payload, list) else [payload])
        if path == "trade/order" and request.method == "POST":
            return await self._place_all([payload])
        if path == "trade/order":
            order = self._find(q)
            return _ok([self._order_json(order)]) if order else _err("51603", "Order does not exist")
        if path == "trade/cancel-order":
            return self._cancel(payload)
        if path == "trade/amend-order":
            return self._amend(payload)
        if path == "trade/orders-pending":
            inst = q.get("instId")
            rows = [o for o in self.open_orders() if inst in (None, self.ids[o.symbol])]
            return _ok([self._order_json(o) for o in sorted(rows, key=lambda o: -o.order_id)])
        if path in ("trade/fills-history", "trade/fills"):
            return self._fills(q)
        return _err("50000", f"fake okx has no {path}", status=404)

    def _check_auth(self, request: web.Request, body: str) -> web.Response | None:
        """OKX's checks, in its order; a refusal is HTTP 401 with OKX's code and message."""
        h = request.headers
        refusal = None
        if not h.get("OK-ACCESS-KEY"):
            refusal = ("50103", "Request header OK-ACCESS-KEY cannot be empty.")
        elif h["OK-ACCESS-KEY"] != self.api_key:
            refusal = ("50111", "Invalid OK-ACCESS-KEY.")
        elif h.get("OK-ACCESS-PASSPHRASE") != self.passphrase:
            refusal = ("50105", "Request header OK-ACCESS-PASSPHRASE incorrect.")
        elif (h.get("x-simulated-trading") == "1") != self.demo:
            refusal = ("50101", "APIKey does not match current environment.")
        else:
            ts = h.get("OK-ACCESS-TIMESTAMP", "")
            try:
                sent = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
            except ValueError:
                return self._refuse("50112", "Invalid OK-ACCESS-TIMESTAMP.")
            if abs(sent.timestamp() - time.time()) > 30:
                refusal = ("50102", "Timestamp request expired.")
            else:
                path_qs = request.path_qs
                expected = self.sign(ts + request.method + path_qs + body)
                if not hmac.compare_digest(expected, h.get("OK-ACCESS-SIGN", "")):
                    refusal = ("50113", "Invalid Sign.")
        return None if refusal is None else self._refuse(*refusal)

    def _refuse(self, code: str, msg: str) -> web.Response:
        self.auth_failures.append(code)
        return _err(code, msg, status=401)

    def sign(self, message: str) -> str:
        mac = hmac.new(self.secret.encode(), message.encode(), hashlib.sha256).digest()
        return base64.b64encode(mac).decode()

    def _public_rest(self, path: str, q: dict[str, str]) -> web.Response:
        if path == "public/time":
            return _ok([{"ts": str(int(time.time() * 1000))}])
        if path == "public/instruments":
            if q.get("instType") != "SPOT":
                return _ok([])
            return _ok([self._instrument(s) for s in self.symbols])
        symbol = self.symbol_of(q.get("instId", ""))
        if path == "market/tickers":
            return _ok([self._ticker(s) for s in self.symbols])
        if symbol is None:
            return _err("51001", "Instrument ID does not exist")
        if path == "market/ticker":
            return _ok([self._ticker(symbol)])
        if path in ("market/books", "market/books-full"):
            bids, asks = self.levels(symbol, min(int(q.get("sz", 5)), 5))
            return _ok([{"asks": [[p, s, "0", "1"] for p, s in asks],
                         "bids": [[p, s, "0", "1"] for p, s in bids], "ts": str(self.now_ms)}])
        if path in ("market/candles", "market/history-candles"):
            return self._candles(symbol, q)
        if path in ("market/trades", "market/history-trades"):
            limit = min(int(q.get("limit", 100)), 500)
            rows = self.public_trades[symbol][-limit:][::-1]  # newest first
            return _ok([self._public_trade(symbol, t) for t in rows])
        return _err("50000", f"fake okx has no {path}", status=404)

    def _instrument(self, symbol: str) -> dict[str, Any]:
        base, quote = symbol.split("/")
        return {
            "alias": "", "baseCcy": base, "category": "1", "ctMult": "", "ctType": "", "ctVal": "",
            "ctValCcy": "", "expTime": "", "instFamily": "", "instId": self.ids[symbol],
            "instType": "SPOT", "lever": "10", "listTime": "1548133413000", "lotSz": str(LOT),
            "maxIcebergSz": "9999999999", "maxLmtAmt": "20000000", "maxLmtSz": "9999999999",
            "maxMktAmt": "1000000", "maxMktSz": "1000000", "maxStopSz": "1000000",
            "maxTriggerSz": "9999999999", "maxTwapSz": "9999999999", "minSz": str(MIN_SZ),
            "optType": "", "quoteCcy": quote, "settleCcy": "", "state": "live", "stk": "",
            "tickSz": str(TICK), "uly": "", "instIdCode": 10000 + self.symbols.index(symbol),
        }

    def _ticker(self, symbol: str) -> dict[str, str]:
        p = self.prices[symbol]
        return {
            "instType": "SPOT", "instId": self.ids[symbol], "last": str(p), "lastSz": "0.5",
            "askPx": str(p + TICK), "askSz": "5", "bidPx": str(p - TICK), "bidSz": "5",
            "open24h": str(p), "high24h": str(p), "low24h": str(p), "sodUtc0": str(p),
            "sodUtc8": str(p), "volCcy24h": str(p * 1000), "vol24h": "1000", "ts": str(self.now_ms),
        }

    def _public_trade(self, symbol: str, t: dict[str, Any]) -> dict[str, str]:
        return {"instId": self.ids[symbol], "tradeId": str(t["id"]), "px": t["price"],
                "sz": t["qty"], "side": t["side"], "ts": str(t["time"]), "count": "1"}

    def _candle_row(self, symbol: str, start: int, confirm: bool) -> list[str]:
        p = str(self.prices[symbol])
        return [str(start), p, p, p, p, "1", p, p, "1" if confirm else "0"]

    def _candles(self, symbol: str, q: dict[str, str]) -> web.Response:
        """Newest first; `after`: older than that ts, `before`: newer (as OKX pages)."""
        step = BARS.get(q.get("bar", "1m"), 60_000)
        limit = min(int(q.get("limit", 100)), 300)
        current = self.candle_start(step)
        after = int(q.get("after", current + step))
        before = int(q.get("before", -1))
        rows: list[list[str]] = []
        start = min(current, after - 1 - (after - 1) % step)
        while start > before and len(rows) < limit and start > current - 1000 * step:
            rows.append(self._candle_row(symbol, start, start < current))
            start -= step
        return _ok(rows)

    def _balance(self) -> dict[str, Any]:
        frozen: dict[str, Decimal] = {}
        for o in self.open_orders():
            base, quote = o.symbol.split("/")
            if o.side == "buy":
                frozen[quote] = frozen.get(quote, Decimal(0)) + o.remaining * (o.price or 0)
            else:
                frozen[base] = frozen.get(base, Decimal(0)) + o.remaining
        u = str(self.now_ms)
        return {
            "adjEq": "", "imr": "", "isoEq": "0", "mgnRatio": "", "mmr": "", "notionalUsd": "",
            "ordFroz": "", "totalEq": str(self.balances.get("USDT", 0)), "uTime": u,
            "details": [
                {"ccy": c, "eq": str(v), "cashBal": str(v), "availBal": str(v - frozen.get(c, 0)),
                 "frozenBal": str(frozen.get(c, Decimal(0))), "ordFrozen": str(frozen.get(c, Decimal(0))),
                 "disEq": str(v), "eqUsd": str(v), "uTime": u}
                for c, v in self.balances.items()
            ],
        }

    # -- trading --------------------------------------------------------------------------

    async def _place_all(self, requests: list[dict[str, Any]]) -> web.Response:
        results = [self._place_one(r) for r in requests]
        delay = self.take_ack_delay()
        if delay:
            await asyncio.sleep(delay)
        failed = [r for r in results if r["sCode"] != "0"]
        if not failed:
            return _ok(results)
        code, msg = ("1", "All operations failed") if len(failed) == len(results) else (
            "2", "Bulk operation partially succeeded")
        return _err(code, msg, data=results)

    def _place_one(self, r: dict[str, Any]) -> dict[str, Any]:
        cid = str(r.get("clOrdId") or "")
        out = {"clOrdId": cid, "ordId": "", "tag": r.get("tag", ""), "ts": str(self.now_ms)}
        symbol = self.symbol_of(str(r.get("instId", "")))
        if symbol is None:
            return {"sCode": "51001", "sMsg": "Instrument ID does not exist", **out}
        if cid and not CLORDID.match(cid):
            return {"sCode": "51000", "sMsg": "Parameter clOrdId error", **out}
        if r.get("tdMode") != "cash":
            return {"sCode": "51000", "sMsg": "Parameter tdMode error", **out}
        ord_type, side = r.get("ordType"), r.get("side")
        if ord_type not in ("limit", "market", "post_only", "ioc", "fok") or side not in ("buy", "sell"):
            return {"sCode": "51000", "sMsg": "Parameter ordType error", **out}
        qty = Decimal(str(r.get("sz", "0")))
        price = Decimal(str(r["px"])) if r.get("px") not in (None, "") else None
        if ord_type == "market" and side == "buy" and r.get("tgtCcy") == "quote_ccy":
            qty = (qty / self.prices[symbol]).quantize(LOT)
        if qty < MIN_SZ or qty % LOT:
            return {"sCode": "51020", "sMsg": "Order amount should be greater than the min available amount.", **out}
        if ord_type != "market" and (price is None or price % TICK):
            return {"sCode": "51000", "sMsg": "Parameter px error", **out}
        try:
            order = self.place(symbol, side, "market" if ord_type == "market" else "limit", qty,
                               None if ord_type == "market" else price, cid or None,
                               tif=ord_type.upper() if ord_type in ("ioc", "fok") else "GTC")
        except OrderRefused as exc:
            if exc.kind == "duplicate":
                return {"sCode": "51016", "sMsg": "Duplicated clOrdId", **out}
            quote = symbol.split("/")[1 if side == "buy" else 0]
            return {"sCode": "51008", "sMsg": f"Order failed. Insufficient {quote} balance in account.", **out}
        return {"sCode": "0", "sMsg": "Order placed", **out, "clOrdId": order.client_order_id,
                "ordId": str(order.order_id)}

    def _find(self, q: dict[str, Any]) -> FakeOrder | None:
        if q.get("clOrdId"):
            return self.orders.get(str(q["clOrdId"]))
        return self.by_order_id(str(q.get("ordId", "")))

    def _cancel(self, r: dict[str, Any]) -> web.Response:
        order = self._find(r)
        ids = {"clOrdId": r.get("clOrdId", ""), "ordId": r.get("ordId", "")}
        if order is None or not self.cancel(order):
            msg = "Order cancellation failed as the order has been filled, canceled or does not exist."
            return _err("1", "All operations failed", data=[{**ids, "sCode": "51400", "sMsg": msg}])
        return _ok([{"clOrdId": order.client_order_id, "ordId": str(order.order_id),
                     "sCode": "0", "sMsg": "", "ts": str(self.now_ms)}])

    def _amend(self, r: dict[str, Any]) -> web.Response:
        """POST /trade/amend-order: newSz (the new total) and/or newPx; the order keeps its ids."""
        order = self._find(r)
        ids = {"clOrdId": r.get("clOrdId", ""), "ordId": r.get("ordId", "")}
        if order is None or not order.is_open:
            msg = "Order modification failed as the order has been filled, canceled or does not exist."
            return _err("1", "All operations failed", data=[{**ids, "sCode": "51503", "sMsg": msg}])
        new_sz = Decimal(r["newSz"]) if r.get("newSz") else None
        if new_sz is not None and new_sz <= order.executed:
            msg = "Order modification failed: the new size is not above the filled size."
            return _err("1", "All operations failed", data=[{**ids, "sCode": "51512", "sMsg": msg}])
        self.amend(order, new_sz, Decimal(r["newPx"]) if r.get("newPx") else None)
        return _ok([{"clOrdId": order.client_order_id, "ordId": str(order.order_id), "reqId": "",
                     "sCode": "0", "sMsg": "", "ts": str(self.now_ms)}])

    def _order_json(self, o: FakeOrder, trade: FakeTrade | None = None) -> dict[str, Any]:
        fee = sum((t.commission for t in self.trades if t.order is o), Decimal(0))
        base, quote = o.symbol.split("/")
        return {
            "instType": "SPOT", "instId": self.ids[o.symbol], "ccy": "", "ordId": str(o.order_id),
            "clOrdId": o.client_order_id, "tag": "", "px": "" if o.price is None else str(o.price),
            "sz": str(o.quantity), "pnl": "0", "ordType": o.type if o.tif == "GTC" else o.tif.lower(),
            "side": o.side, "posSide": "net", "tdMode": "cash", "tgtCcy": "base_ccy",
            "accFillSz": str(o.executed), "avgPx": str(o.average) if o.executed else "",
            "fillPx": str(trade.price) if trade else "", "fillSz": str(trade.qty) if trade else "0",
            "tradeId": str(trade.trade_id) if trade else "",
            "fillTime": str(trade.time_ms) if trade else "",
            "state": STATE[o.status], "feeCcy": quote, "fee": str(-fee), "rebateCcy": base,
            "rebate": "0", "category": "normal", "reduceOnly": "false", "source": "",
            "stpMode": "cancel_maker", "cancelSource": "", "attachAlgoOrds": [],
            "uTime": str(o.update_ms), "cTime": str(o.time_ms),
        }

    def _fill_json(self, t: FakeTrade) -> dict[str, Any]:
        quote = t.order.symbol.split("/")[1]
        return {
            "instType": "SPOT", "instId": self.ids[t.order.symbol], "tradeId": str(t.trade_id),
            "ordId": str(t.order.order_id), "clOrdId": t.order.client_order_id,
            "billId": str(self.bill_id(t)), "subType": "1" if t.order.side == "buy" else "2",
            "tag": "", "fillPx": str(t.price), "fillSz": str(t.qty), "side": t.order.side,
            "posSide": "net", "execType": "M" if t.is_maker else "T", "feeCcy": quote,
            "fee": str(-t.commission), "ts": str(t.time_ms), "fillTime": str(t.time_ms),
            "feeRate": "-0.001",
        }

    @staticmethod
    def bill_id(t: FakeTrade) -> int:
        return 700_000 + t.trade_id

    def _fills(self, q: dict[str, str]) -> web.Response:
        """Newest first, at most 100; `begin`/`end` bound ts, `after`/`before` bound billId."""
        limit = int(q.get("limit", FILLS_MAX))
        if not 0 < limit <= FILLS_MAX:
            return _err("51000", "Parameter limit error")
        rows = [
            t for t in reversed(self.trades)
            if q.get("instId") in (None, self.ids[t.order.symbol])
            and int(q.get("begin", 0)) <= t.time_ms <= int(q.get("end", 2**62))
            and self.bill_id(t) < int(q.get("after", 2**62))
            and self.bill_id(t) > int(q.get("before", 0))
        ]
        return _ok([self._fill_json(t) for t in rows[:limit]])

    # -- websockets -----------------------------------------------------------------------

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        kind = request.match_info["kind"]
        self.ws_queries.append(request.query_string)
        ws = await self.open_socket(request)
        subs = self._private if kind == "private" else self._public
        subs[ws] = []
        logged_in = False
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                if msg.data == "ping":
                    await ws.send_str("pong")
                    continue
                data = json.loads(msg.data)
                op, args = data.get("op"), data.get("args") or []
                if op == "login":
                    logged_in = await self._login(ws, kind, args)
                elif op == "subscribe":
                    for arg in args:
                        await self._subscribe(ws, kind, arg, logged_in, subs[ws])
                elif op == "unsubscribe":
                    for arg in args:
                        if arg in subs[ws]:
                            subs[ws].remove(arg)
                        await self.send(ws, {"event": "unsubscribe", "arg": arg, "connId": "fake"})
                else:
                    error = {"event": "error", "code": "60019", "msg": f"Invalid op: {op}"}
                    await self.send(ws, {**error, "connId": "fake"})
        finally:
            subs.pop(ws, None)
            self.forget_socket(ws)
        return ws

    async def _login(self, ws: web.WebSocketResponse, kind: str, args: list[dict[str, str]]) -> bool:
        arg = args[0] if args else {}
        ts = str(arg.get("timestamp", ""))
        self.logins += kind == "private"
        if kind == "public":
            code, msg = "60008", "Login is not supported for public channels"
        elif self.login_refusals:  # e.g. OKX's 63999 "Login failed due to internal error..."
            code, msg = self.login_refusals.pop(0)
        elif arg.get("apiKey") != self.api_key:
            code, msg = "60005", "Invalid OK-ACCESS-KEY"
        elif arg.get("passphrase") != self.passphrase:
            code, msg = "60024", "Wrong passphrase"
        elif not ts.isdigit() or abs(int(ts) - time.time()) > 30:
            code, msg = "60006", "Timestamp request expired"
        elif not hmac.compare_digest(self.sign(ts + "GET" + "/users/self/verify"), str(arg.get("sign", ""))):
            code, msg = "60007", "Invalid sign"
        else:
            await self.send(ws, {"event": "login", "code": "0", "msg": "", "connId": "fake"})
            return True
        self.auth_failures.append(code)
        await self.send(ws, {"event": "error", "code": code, "msg": msg, "connId": "fake"})
        return False

    async def _subscribe(
        self, ws: web.WebSocketResponse, kind: str, arg: dict[str, str], logged_in: bool,
        subs: list[dict[str, str]],
    ) -> None:
        channel = arg.get("channel", "")
        if channel.startswith("candle"):
            where, known = "business", channel[6:] in BARS
        else:
            where = "private" if channel == "orders" else "public"
            known = channel in ("tickers", "books", "books5", "trades", "orders")
        if where == "private":
            known = known and arg.get("instType") in ("ANY", "SPOT")
        else:
            known = known and self.symbol_of(arg.get("instId", "")) is not None
        if where != kind or not known:
            await self.send(ws, {"event": "error", "code": "60018", "connId": "fake",
                                 "msg": f"Wrong URL or channel:{channel} doesn't exist."})
            return
        if where == "private" and not logged_in:
            await self.send(ws, {"event": "error", "code": "60011", "msg": "Please log in", "connId": "fake"})
            return
        if arg not in subs:
            subs.append(arg)
        await self.send(ws, {"event": "subscribe", "arg": arg, "connId": "fake"})
        if channel == "books":
            symbol = self.symbol_of(arg["instId"])
            assert symbol is not None
            seq, bids, asks = self._book(symbol)
            await self.send(ws, self._book_message(arg, "snapshot", -1, seq, bids, asks))

    def _book(self, symbol: str) -> tuple[int, list[list[str]], list[list[str]]]:
        if symbol not in self._books:
            self._seq += 1
            self._books[symbol] = (self._seq, *self.levels(symbol))
        return self._books[symbol]

    def _book_message(
        self, arg: dict[str, str], action: str, prev: int, seq: int,
        bids: list[list[str]], asks: list[list[str]],
    ) -> dict[str, Any]:
        _, full_bids, full_asks = self._books[self.symbol_of(arg["instId"]) or ""]
        return {"arg": arg, "action": action, "data": [{
            "asks": [[p, s, "0", "0" if s == "0" else "1"] for p, s in asks],
            "bids": [[p, s, "0", "0" if s == "0" else "1"] for p, s in bids],
            "ts": str(self.now_ms), "checksum": checksum(full_bids, full_asks),
            "prevSeqId": prev, "seqId": seq,
        }]}

    async def publish_market(self, symbol: str, trade: dict[str, Any]) -> None:
        inst = self.ids[symbol]
        prev, old_bids, old_asks = self._book(symbol)
        bids, asks = self.levels(symbol)
        self._seq += 1
        seq = self._seq
        self._books[symbol] = (seq, bids, asks)
        d_bids, d_asks = _delta(old_bids, bids), _delta(old_asks, asks)
        for ws, subs in list(self._public.items()):
            for arg in subs:
                if arg.get("instId") != inst or f"{arg['channel']}:{inst}" in self._muted:
                    continue  # muted: mute_stream("tickers:BTC-USDT"), that channel of that pair
                channel = arg["channel"]
                if channel == "tickers":
                    payload: Any = {"arg": arg, "data": [self._ticker(symbol)]}
                elif channel == "trades":
                    payload = {"arg": arg, "data": [self._public_trade(symbol, trade)]}
                elif channel == "books":
                    payload = self._book_message(arg, "update", prev, seq, d_bids, d_asks)
                elif channel == "books5":
                    payload = {"arg": arg, "data": [{"asks": [[p, s, "0", "1"] for p, s in asks],
                               "bids": [[p, s, "0", "1"] for p, s in bids], "instId": inst,
                               "ts": str(self.now_ms), "seqId": seq}]}
                else:
                    continue
                await self.send_public(ws, payload)
        # candles live on the business socket
        for ws, subs in list(self._public.items()):
            for arg in subs:
                if arg.get("instId") == inst and arg["channel"].startswith("candle"):
                    step = BARS[arg["channel"][6:]]
                    row = self._candle_row(symbol, self.candle_start(step), False)
                    await self.send_public(ws, {"arg": arg, "data": [row]})

    def publish_order(self, order: FakeOrder, trade: FakeTrade | None) -> None:
        data = self._order_json(order, trade)
        if trade is not None:
            data.update(execType="M" if trade.is_maker else "T", fillFee=str(-trade.commission),
                        fillFeeCcy=order.symbol.split("/")[1], fillNotionalUsd=str(trade.qty * trade.price))
        sockets = [
            ws for ws, subs in self._private.items()
            if any(a.get("channel") == "orders" and a.get("instType") in ("ANY", "SPOT") for a in subs)
        ]
        for ws in sockets:
            arg = next(a for a in self._private[ws] if a.get("channel") == "orders")
            self.push_private([ws], [{"arg": {**arg, "uid": "fake-uid"}, "data": [data]}])


def _delta(old: list[list[str]], new: list[list[str]]) -> list[list[str]]:
    """Book levels that changed: removed ones with size "0", then new or resized ones."""
    new_map = dict((p, s) for p, s in new)
    old_map = dict((p, s) for p, s in old)
    out = [[p, "0"] for p in old_map if p not in new_map]
    return out + [[p, s] for p, s in new_map.items() if old_map.get(p) != s]


def checksum(bids: list[list[str]], asks: list[list[str]]) -> int:
    """OKX's book checksum: CRC32 (signed) of the first 25 levels, bid:size:ask:size interleaved."""
    parts: list[str] = []
    for i in range(25):
        if i < len(bids):
            parts += bids[i][:2]
        if i < len(asks):
            parts += asks[i][:2]
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc
