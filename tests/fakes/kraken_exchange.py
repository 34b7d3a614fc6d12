"""A loopback fake of Kraken spot: the REST API (/0/public, /0/private) and websockets v2.

Only Kraken's wire format lives here; prices, orders and faults are `FakeMarket`'s. It answers
what ccxt's `kraken` (REST) and ccxt.pro's `kraken` (ws v2) send:

- REST answers are `{"error": [...], "result": ...}` with HTTP 200, errors as Kraken's codes
  ("EAPI:Invalid key", "EOrder:Insufficient funds", "EAPI:Rate limit exceeded" ...).
- Private calls are checked as Kraken does: `API-Key`, a nonce never used before, and
  `API-Sign` = base64(HMAC-SHA512(base64decode(secret), path + SHA256(nonce + body))).
- Private websockets take a token from `GetWebSocketsToken`; `executions` streams order
  events (pending_new, new, trade, filled, canceled) carrying our `cl_ord_id`.
- Book messages carry Kraken's CRC32 checksum of the top 10 levels (`book_checksum`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from fakes.fake_market import FakeMarket, FakeOrder, FakeTrade, OrderRefused

SECRET_B64 = base64.b64encode(b"kraken-fake-secret-0123456789abcdef").decode()
# Kraken's asset ids (X/Z prefixed for the old ones) and pair ids / altnames.
ASSET_IDS = {"BTC": "XXBT", "ETH": "XETH", "USD": "ZUSD", "EUR": "ZEUR"}
ASSET_ALT = {"BTC": "XBT"}
PAIR_DECIMALS = 2  # prices step one cent, like FakeMarket's book
LOT_DECIMALS = 8
ORDERMIN = {"BTC": "0.00005", "ETH": "0.002"}
COSTMIN = "0.5"
CL_ORD_ID = re.compile(
    r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{32}|[\x20-\x7e]{1,18})$"
)
BOOK_DEPTH = 10


def asset_id(code: str) -> str:
    return ASSET_IDS.get(code, code)


def pair_id(symbol: str) -> str:
    base, quote = symbol.split("/")
    return ASSET_ALT.get(base, base) + ASSET_ALT.get(quote, quote)


def kraken_id(prefix: str, n: int) -> str:
    """A Kraken-looking id ("OQCLML-BW3P3-BUCMWZ") made from a counter."""
    raw = f"{n:016d}"
    return f"{prefix}{raw[:5]}-{raw[5:10]}-{raw[10:16]}"


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def fixed(value: Decimal, places: int) -> str:
    return f"{value.quantize(Decimal(1).scaleb(-places)):f}"


def book_checksum(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> int:
    """Kraken's CRC32 of the top 10 asks (low to high) then bids (high to low): each price and
    qty as sent, '.' removed and leading zeros stripped, all concatenated."""

    def fmt(text: str) -> str:
        return text.replace(".", "").lstrip("0")

    payload = "".join(fmt(p) + fmt(q) for p, q in asks[:10]) + "".join(fmt(p) + fmt(q) for p, q in bids[:10])
    return binascii.crc32(payload.encode()) & 0xFFFFFFFF


def sign(secret_b64: str, path: str, nonce: str, body: str) -> str:
    """Kraken's API-Sign for one private request."""
    digest = hashlib.sha256((nonce + body).encode()).digest()
    mac = hmac.new(base64.b64decode(secret_b64), path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


class FakeKrakenExchange(FakeMarket):
    """Kraken's spot REST and websocket v2 over FakeMarket."""

    def __init__(self, *args: Any, secret: str = SECRET_B64, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.secret = secret
        self.by_pair = {pair_id(s): s for s in self.symbols}
        self.tokens: set[str] = set()
        self.nonces: set[int] = set()
        self.auth_failures: list[str] = []
        self._private: set[web.WebSocketResponse] = set()  # subscribed to executions
        self._auth_sockets: set[web.WebSocketResponse] = set()  # every ws-auth socket open
        self.public_sockets_opened = 0
        self._void_tokens = 0
        self.refused_pairs: set[str] = set()  # still in AssetPairs, refused on ws (delisted since)
        self._subs: dict[web.WebSocketResponse, set[tuple[str, str, int]]] = {}
        self._books: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}
        self._seq = itertools.count(1)
        self._conn_ids = itertools.count(1)
        self.book_checksums: list[int] = []  # every checksum sent, for tests to match

    # -- wiring ----------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_route("GET", "/0/public/{name}", self._public)
        app.router.add_route("POST", "/0/private/{name}", self._private_rest)
        app.router.add_get("/v2", self._ws_public)
        app.router.add_get("/auth/v2", self._ws_private)

    def ccxt_options(self) -> dict[str, Any]:
        """The `options` table a `[venues.X]` config uses to point ccxt's kraken here."""
        return {
            "urls": {
                "api": {
                    "public": self.url,
                    "private": self.url,
                    "ws": {
                        "public": self.ws_url + "/v1",
                        "private": self.ws_url + "/auth",
                        "publicV2": self.ws_url + "/v2",
                        "privateV2": self.ws_url + "/auth/v2",
                    },
                }
            },
        }

    def txid(self, order: FakeOrder) -> str:
        return kraken_id("O", order.order_id)

    def trade_txid(self, trade: FakeTrade) -> str:
        return kraken_id("T", trade.trade_id)

    # -- REST ------------------------------------------------------------------------------

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"error": [], "result": result})

    @staticmethod
    def _err(*codes: str) -> web.Response:
        return web.json_response({"error": list(codes)})

    def _http_fault(self) -> web.Response | None:
        status = self.take_http_fault()
        if status is None:
            return None
        if status in (429, 418):  # Kraken answers rate limits in its error list, HTTP 200
            return self._err("EAPI:Rate limit exceeded")
        return web.Response(status=status, text="Service Unavailable")

    async def _public(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        q = dict(request.query)
        self.requests.append(("GET", name))
        fault = self._http_fault()
        if fault is not None:
            return fault
        symbol = self.by_pair.get(q.get("pair", ""))
        if name == "Time":  # the server's clock, not the simulated market's
            return self._ok({"unixtime": self.server_time_ms() // 1000, "rfc1123": ""})
        if name == "SystemStatus":
            return self._ok({"status": "online", "timestamp": rfc3339(self.now_ms)})
        if name == "Assets":
            return self._ok(self._assets())
        if name == "AssetPairs":
            return self._ok({pair_id(s): self._pair(s) for s in self.symbols})
        if "pair" in q and symbol is None:
            return self._err("EQuery:Unknown asset pair")
        if name == "Ticker":
            syms = [symbol] if symbol else self.symbols
            return self._ok({pair_id(s): self._rest_ticker(s) for s in syms})
        if name == "Depth" and symbol:
            asks, bids = self._levels(symbol)
            ts = self.now_ms // 1000
            return self._ok(
                {
                    pair_id(symbol): {
                        "asks": [[p, q, ts] for p, q in asks],
                        "bids": [[p, q, ts] for p, q in bids],
                    }
                }
            )
        if name == "Trades" and symbol:
            return self._ok(self._rest_trades(symbol, q))
        if name == "OHLC" and symbol:
            return self._ok(self._rest_ohlc(symbol, q))
        return self._err("EGeneral:Unknown method")

    def _assets(self) -> dict[str, Any]:
        codes = dict.fromkeys(c for s in self.symbols for c in s.split("/"))
        return {
            asset_id(c): {
                "aclass": "currency",
                "altname": ASSET_ALT.get(c, c),
                "decimals": 10 if c in ("BTC", "ETH") else 8,
                "display_decimals": 5,
                "status": "enabled",
            }
            for c in codes
        }

    def _pair(self, symbol: str) -> dict[str, Any]:
        base, quote = symbol.split("/")
        fees = [[0, 0.26], [50000, 0.24]]
        return {
            "altname": pair_id(symbol),
            "wsname": f"{ASSET_ALT.get(base, base)}/{quote}",
            "aclass_base": "currency",
            "base": asset_id(base),
            "aclass_quote": "currency",
            "quote": asset_id(quote),
            "lot": "unit",
            "cost_decimals": 5,
            "pair_decimals": PAIR_DECIMALS,
            "lot_decimals": LOT_DECIMALS,
            "lot_multiplier": 1,
            "leverage_buy": [],
            "leverage_sell": [],
            "fees": fees,
            "fees_maker": [[0, 0.16], [50000, 0.14]],
            "fee_volume_currency": "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": ORDERMIN.get(base, "0.0001"),
            "costmin": COSTMIN,
            "tick_size": fixed(Decimal(1).scaleb(-PAIR_DECIMALS), PAIR_DECIMALS),
            "status": "online",
        }

    def _levels(self, symbol: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """Top levels as Kraken prints them: price to pair_decimals, qty to lot_decimals."""
        bids, asks = self.levels(symbol, BOOK_DEPTH)

        def norm(rows: list[list[str]]) -> list[tuple[str, str]]:
            return [(fixed(Decimal(p), PAIR_DECIMALS), fixed(Decimal(q), LOT_DECIMALS)) for p, q in rows]

        return norm(asks), norm(bids)

    def _rest_ticker(self, symbol: str) -> dict[str, Any]:
        asks, bids = self._levels(symbol)
        last = fixed(self.prices[symbol], PAIR_DECIMALS)
        return {
            "a": [asks[0][0], "1", "1.000"],
            "b": [bids[0][0], "1", "1.000"],
            "c": [last, "0.50000000"],
            "v": ["10.00000000", "100.00000000"],
            "p": [last, last],
            "t": [10, 100],
            "l": [last, last],
            "h": [last, last],
            "o": last,
        }

    def _rest_trades(self, symbol: str, q: dict[str, str]) -> dict[str, Any]:
        since_ms = int(Decimal(q.get("since", "0")) * 1000)
        rows = [t for t in self.public_trades[symbol] if t["time"] >= since_ms]
        rows = rows[-int(q.get("count", 1000)) :]
        return {
            pair_id(symbol): [
                [
                    fixed(Decimal(t["price"]), PAIR_DECIMALS),
                    fixed(Decimal(t["qty"]), LOT_DECIMALS),
                    t["time"] / 1000,
                    "s" if t["side"] == "sell" else "b",
                    "l",
                    "",
                    t["id"],
                ]
                for t in rows
            ],
            "last": str((rows[-1]["time"] if rows else self.now_ms) * 1_000_000),
        }

    def _candles(self, symbol: str, interval_min: int) -> list[tuple[int, list[dict[str, Any]]]]:
        step = interval_min * 60_000
        out: dict[int, list[dict[str, Any]]] = {}
        for t in self.public_trades[symbol]:
            out.setdefault(t["time"] - t["time"] % step, []).append(t)
        return sorted(out.items())

    def _rest_ohlc(self, symbol: str, q: dict[str, str]) -> dict[str, Any]:
        interval = int(q.get("interval", "1"))
        since_s = int(q.get("since", "0"))
        rows = []
        for start, trades in self._candles(symbol, interval):
            if start // 1000 <= since_s:
                continue
            o, h, lo, c, vol, vwap = self._ohlc_values(trades)
            rows.append([start // 1000, o, h, lo, c, vwap, fixed(vol, LOT_DECIMALS), len(trades)])
        return {pair_id(symbol): rows[-720:], "last": rows[-1][0] if rows else since_s}

    @staticmethod
    def _ohlc_values(trades: list[dict[str, Any]]) -> tuple[str, str, str, str, Decimal, str]:
        prices = [Decimal(t["price"]) for t in trades]
        vol = sum((Decimal(t["qty"]) for t in trades), Decimal(0))
        vwap = sum((Decimal(t["price"]) * Decimal(t["qty"]) for t in trades), Decimal(0)) / vol
        return (
            fixed(prices[0], PAIR_DECIMALS),
            fixed(max(prices), PAIR_DECIMALS),
            fixed(min(prices), PAIR_DECIMALS),
            fixed(prices[-1], PAIR_DECIMALS),
            vol,
            fixed(vwap, PAIR_DECIMALS),
        )

    # -- private REST ------------------------------------------------------------------------

    def _check_auth(self, request: web.Request, path: str, body: str, q: dict[str, str]) -> str | None:
        """Kraken's checks, in its order: key, nonce, signature. None when all pass."""
        if request.headers.get("API-Key") != self.api_key:
            return "EAPI:Invalid key"
        nonce = q.get("nonce", "")
        if not nonce.isdigit() or int(nonce) in self.nonces:
            return "EAPI:Invalid nonce"
        self.nonces.add(int(nonce))  # concurrent requests may arrive out of order: a nonce window
        try:
            expected = sign(self.secret, path, nonce, body)
        except (binascii.Error, ValueError):
            return "EAPI:Invalid signature"
        if not hmac.compare_digest(expected, request.headers.get("API-Sign", "")):
            return "EAPI:Invalid signature"
        return None

    async def _private_rest(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.text()
        q = dict(parse_qsl(body, keep_blank_values=True))
        self.requests.append(("POST", name))
        fault = self._http_fault()
        if fault is not None:
            return fault
        problem = self._check_auth(request, request.path, body, q)
        if problem is not None:
            self.auth_failures.append(problem)
            return self._err(problem)
        if name == "BalanceEx":
            held = self._held()
            return self._ok(
                {
                    asset_id(c): {"balance": fixed(v, 10), "hold_trade": fixed(held.get(c, Decimal(0)), 10)}
                    for c, v in self.balances.items()
                }
            )
        if name == "GetWebSocketsToken":
            token = secrets.token_urlsafe(24)
            if self._void_tokens:  # voided at once: its subscribe says "ESession:Invalid session"
                self._void_tokens -= 1
            else:
                self.tokens.add(token)
            return self._ok({"token": token, "expires": 900})
        if name == "AddOrder":
            return await self._add_order(q)
        if name == "CancelOrder":
            return self._cancel(q)
        if name == "QueryOrders":
            wanted = [t for t in q.get("txid", "").split(",") if t]
            if not wanted:
                return self._err("EGeneral:Invalid arguments:txid")
            found = {t: o for t in wanted if (o := self.by_order_id(self._order_no(t))) is not None}
            if not found:
                return self._err("EOrder:Invalid order")
            return self._ok({t: self._rest_order(o, q.get("trades") == "True") for t, o in found.items()})
        if name in ("OpenOrders", "ClosedOrders"):
            is_open = name == "OpenOrders"
            orders = [
                o
                for o in self.orders.values()
                if o.is_open == is_open
                and ("cl_ord_id" not in q or o.client_order_id == q["cl_ord_id"])
                and (is_open or o.time_ms // 1000 > int(q.get("start", "0")))
            ]
            orders.sort(key=lambda o: o.update_ms, reverse=True)
            key = "open" if is_open else "closed"
            result: dict[str, Any] = {key: {self.txid(o): self._rest_order(o, False) for o in orders[:50]}}
            if not is_open:
                result["count"] = len(orders)
            return self._ok(result)
        if name == "TradesHistory":
            return self._ok(self._trades_history(q))
        return self._err("EGeneral:Unknown method")

    def _held(self) -> dict[str, Decimal]:
        held: dict[str, Decimal] = {}
        for o in self.open_orders():
            base, quote = o.symbol.split("/")
            if o.side == "buy":
                held[quote] = held.get(quote, Decimal(0)) + o.remaining * (o.price or 0)
            else:
                held[base] = held.get(base, Decimal(0)) + o.remaining
        return held

    @staticmethod
    def _order_no(txid: str) -> int:
        digits = txid[1:].replace("-", "")
        return int(digits) if digits.isdigit() else -1

    async def _add_order(self, q: dict[str, str]) -> web.Response:
        symbol = self.by_pair.get(q.get("pair", ""))
        if symbol is None:
            return self._err("EQuery:Unknown asset pair")
        side, type_ = q.get("type"), q.get("ordertype")
        if side not in ("buy", "sell") or type_ not in ("limit", "market"):
            return self._err("EGeneral:Invalid arguments:ordertype")
        try:
            volume = Decimal(q["volume"])
            price = Decimal(q["price"]) if type_ == "limit" else None
        except (KeyError, ArithmeticError):
            return self._err("EGeneral:Invalid arguments:volume")
        if price is not None and -price.as_tuple().exponent > PAIR_DECIMALS:  # type: ignore[operator]
            return self._err(
                f"EOrder:Invalid price:{pair_id(symbol)} price can only be specified up to {PAIR_DECIMALS} decimals."
            )
        if volume < Decimal(ORDERMIN.get(symbol.split("/")[0], "0.0001")):
            return self._err("EOrder:Order minimum not met")
        cid = q.get("cl_ord_id")
        if cid is not None and not CL_ORD_ID.match(cid):
            return self._err("EGeneral:Invalid arguments:cl_ord_id")
        if cid is not None and cid in self.orders and self.orders[cid].is_open:
            self.duplicate_submissions += 1
            return self._err("EOrder:Duplicate cl_ord_id")
        tif = q.get("timeinforce", "GTC")
        try:
            order = self.place(symbol, side, type_, volume, price, cid, tif=tif)
        except OrderRefused as exc:
            if exc.kind == "duplicate":
                return self._err("EOrder:Duplicate cl_ord_id")
            return self._err("EOrder:Insufficient funds")
        delay = self.take_ack_delay()
        if delay:
            await asyncio.sleep(delay)
        return self._ok({"descr": {"order": self._descr(order)}, "txid": [self.txid(order)]})

    def _cancel(self, q: dict[str, str]) -> web.Response:
        if "cl_ord_id" in q:
            order = self.orders.get(q["cl_ord_id"])
        else:
            order = self.by_order_id(self._order_no(q.get("txid", "")))
        if order is None or not self.cancel(order):
            return self._err("EOrder:Unknown order")
        return self._ok({"count": 1})

    @staticmethod
    def _descr(o: FakeOrder) -> str:
        at = f"limit {fixed(o.price, PAIR_DECIMALS)}" if o.price is not None else "market"
        return f"{o.side} {fixed(o.quantity, LOT_DECIMALS)} {pair_id(o.symbol)} @ {at}"

    def _rest_order(self, o: FakeOrder, with_trades: bool) -> dict[str, Any]:
        status = {"new": "open", "partially_filled": "open", "filled": "closed"}.get(o.status, o.status)
        fee = sum((t.commission for t in self.trades if t.order is o), Decimal(0))
        out: dict[str, Any] = {
            "refid": None,
            "userref": 0,
            "status": status,
            "opentm": o.time_ms / 1000,
            "starttm": 0,
            "expiretm": 0,
            "descr": {
                "pair": pair_id(o.symbol),
                "type": o.side,
                "ordertype": o.type,
                "price": fixed(o.price or Decimal(0), PAIR_DECIMALS),
                "price2": "0",
                "leverage": "none",
                "order": self._descr(o),
                "close": "",
            },
            "vol": fixed(o.quantity, LOT_DECIMALS),
            "vol_exec": fixed(o.executed, LOT_DECIMALS),
            "cost": fixed(o.quote, 5),
            "fee": fixed(fee, 5),
            "price": fixed(o.average, 5),
            "stopprice": "0.00000",
            "limitprice": "0.00000",
            "misc": "",
            "oflags": "fciq",
        }
        if not o.client_order_id.startswith("fake-"):
            out["cl_ord_id"] = o.client_order_id
            out["userref"] = None
        if not o.is_open:
            out["closetm"] = o.update_ms / 1000
            out["reason"] = "User requested" if o.status == "canceled" else None
        if with_trades:
            out["trades"] = [self.trade_txid(t) for t in self.trades if t.order is o]
        return out

    def _rest_trade(self, t: FakeTrade) -> dict[str, Any]:
        o = t.order
        return {
            "ordertxid": self.txid(o),
            "postxid": kraken_id("P", t.trade_id),
            "pair": pair_id(o.symbol),
            "time": t.time_ms / 1000,
            "type": o.side,
            "ordertype": o.type,
            "price": fixed(t.price, PAIR_DECIMALS),
            "cost": fixed(t.qty * t.price, 5),
            "fee": fixed(t.commission, 5),
            "vol": fixed(t.qty, LOT_DECIMALS),
            "margin": "0.00000",
            "leverage": "0",
            "misc": "",
            "trade_id": t.trade_id,
            "maker": t.is_maker,
        }

    def _trades_history(self, q: dict[str, str]) -> dict[str, Any]:
        """Newest first, 50 a page (`ofs` pages back), `start` exclusive, `end` inclusive."""
        start = Decimal(q.get("start", "0"))
        end = Decimal(q["end"]) if "end" in q else None
        rows = [
            t
            for t in self.trades
            if Decimal(t.time_ms) / 1000 > start and (end is None or Decimal(t.time_ms) / 1000 <= end)
        ]
        rows.reverse()
        ofs = int(q.get("ofs", "0"))
        return {
            "trades": {self.trade_txid(t): self._rest_trade(t) for t in rows[ofs : ofs + 50]},
            "count": len(rows),
        }

    # -- websockets ----------------------------------------------------------------------------

    def void_next_tokens(self, n: int) -> None:
        """The next `n` tokens GetWebSocketsToken gives are no longer taken when used (Kraken
        voided live tokens during its upgrades): their subscribes are answered
        "ESession:Invalid session"."""
        self._void_tokens = n

    async def drop_private(self) -> None:
        """Close the ws-auth sockets alone (ws-auth.kraken.com restarting), the public
        socket (ws.kraken.com) untouched."""
        self.faults_injected.append("drop_private")
        for ws in list(self._auth_sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1006)

    async def _ws_public(self, request: web.Request) -> web.WebSocketResponse:
        ws = await self.open_socket(request)
        self.public_sockets_opened += 1
        self._subs[ws] = set()
        await self.send(ws, self._status())
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                req = json.loads(msg.data)
                if req.get("method") == "ping":
                    await self.send(ws, self._pong(req))
                elif req.get("method") == "subscribe":
                    await self._subscribe(ws, req)
        finally:
            self._subs.pop(ws, None)
            self.forget_socket(ws)
        return ws

    def _status(self) -> dict[str, Any]:
        return {
            "channel": "status",
            "type": "update",
            "data": [
                {
                    "version": "2.0.10",
                    "system": "online",
                    "api_version": "v2",
                    "connection_id": next(self._conn_ids),
                }
            ],
        }

    def _pong(self, req: dict[str, Any]) -> dict[str, Any]:
        now = rfc3339(int(time.time() * 1000))
        out = {"method": "pong", "time_in": now, "time_out": now}
        if "req_id" in req:
            out["req_id"] = req["req_id"]
        return out

    def _ack(self, req: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        now = rfc3339(int(time.time() * 1000))
        return {
            "method": "subscribe",
            "req_id": req.get("req_id"),
            "result": result,
            "success": True,
            "time_in": now,
            "time_out": now,
        }

    async def _subscribe(self, ws: web.WebSocketResponse, req: dict[str, Any]) -> None:
        params = req.get("params") or {}
        channel = params.get("channel", "")
        interval = int(params.get("interval", 0) or 0)
        for symbol in params.get("symbol") or []:
            if symbol not in self.prices or symbol in self.refused_pairs:
                await self.send(
                    ws,
                    {
                        "method": "subscribe",
                        "req_id": req.get("req_id"),
                        "error": f"Currency pair not supported {symbol}",
                        "success": False,
                        "symbol": symbol,
                    },
                )
                continue
            result: dict[str, Any] = {"channel": channel, "symbol": symbol, "snapshot": True}
            if channel == "book":
                result["depth"] = params.get("depth", BOOK_DEPTH)
            if channel == "ohlc":
                result["interval"] = interval
            await self.send(ws, self._ack(req, result))
            self._subs[ws].add((channel, symbol, interval))
            snapshot = self._snapshot(channel, symbol, interval)
            if snapshot is not None:
                await self.send(ws, snapshot)

    def _snapshot(self, channel: str, symbol: str, interval: int) -> Any:
        if channel == "ticker":
            return self._ws_ticker(symbol, "snapshot")
        if channel == "book":
            asks, bids = self._books.get(symbol) or self._levels(symbol)
            self._books[symbol] = (asks, bids)
            return self._book_message(symbol, "snapshot", asks, bids, asks, bids)
        if channel == "trade":
            recent = self.public_trades[symbol][-50:]
            return (
                {
                    "channel": "trade",
                    "type": "snapshot",
                    "data": [self._ws_trade(symbol, t) for t in recent],
                }
                if recent
                else None
            )
        if channel == "ohlc":
            candles = self._candles(symbol, interval)[-10:]
            if not candles:
                return None
            return {
                "channel": "ohlc",
                "type": "snapshot",
                "timestamp": rfc3339(self.now_ms),
                "data": [self._ws_candle(symbol, interval, s, t) for s, t in candles],
            }
        return None

    def _ws_ticker(self, symbol: str, kind: str) -> dict[str, Any]:
        asks, bids = self._levels(symbol)
        return {
            "channel": "ticker",
            "type": kind,
            "data": [
                {
                    "symbol": symbol,
                    "bid": float(bids[0][0]),
                    "bid_qty": float(bids[0][1]),
                    "ask": float(asks[0][0]),
                    "ask_qty": float(asks[0][1]),
                    "last": float(self.prices[symbol]),
                    "volume": 100.0,
                    "vwap": float(self.prices[symbol]),
                    "low": float(self.prices[symbol]),
                    "high": float(self.prices[symbol]),
                    "change": 0.0,
                    "change_pct": 0.0,
                }
            ],
        }

    @staticmethod
    def _ws_trade(symbol: str, t: dict[str, Any]) -> dict[str, Any]:
        return {
            "symbol": symbol,
            "side": t["side"],
            "price": float(t["price"]),
            "qty": float(t["qty"]),
            "ord_type": "limit",
            "trade_id": t["id"],
            "timestamp": rfc3339(t["time"]),
        }

    def _ws_candle(self, symbol: str, interval: int, start: int, trades: list[dict[str, Any]]) -> dict[str, Any]:
        o, h, lo, c, vol, vwap = self._ohlc_values(trades)
        return {
            "symbol": symbol,
            "open": float(o),
            "high": float(h),
            "low": float(lo),
            "close": float(c),
            "trades": len(trades),
            "volume": float(vol),
            "vwap": float(vwap),
            "interval_begin": rfc3339(start),
            "interval": interval,
            "timestamp": rfc3339(start + interval * 60_000),
        }

    def _book_message(
        self,
        symbol: str,
        kind: str,
        asks: list[tuple[str, str]],
        bids: list[tuple[str, str]],
        top_asks: list[tuple[str, str]],
        top_bids: list[tuple[str, str]],
    ) -> str:
        """Hand-written JSON: Kraken sends price and qty as numbers at full precision
        ("qty": 1.00000000), which json.dumps cannot write; the checksum covers that text."""

        def side(rows: list[tuple[str, str]]) -> str:
            return "[" + ",".join(f'{{"price":{p},"qty":{q}}}' for p, q in rows) + "]"

        stamp = f',"timestamp":"{rfc3339(self.now_ms)}"' if kind == "update" else ""
        checksum = book_checksum(top_asks, top_bids)
        self.book_checksums.append(checksum)
        return (
            f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"{symbol}",'
            f'"bids":{side(bids)},"asks":{side(asks)},'
            f'"checksum":{checksum}{stamp}}}]}}'
        )

    def _book_update(self, symbol: str) -> str | None:
        """The levels that changed since the last message (qty 0: level removed)."""
        old_asks, old_bids = self._books.get(symbol) or ([], [])
        asks, bids = self._levels(symbol)
        self._books[symbol] = (asks, bids)

        def diff(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> list[tuple[str, str]]:
            now = dict(new)
            gone = [(p, fixed(Decimal(0), LOT_DECIMALS)) for p, _ in old if p not in now]
            return gone + [(p, q) for p, q in new if (p, q) not in old]

        da, db = diff(old_asks, asks), diff(old_bids, bids)
        if not da and not db:
            return None
        return self._book_message(symbol, "update", da, db, asks, bids)

    async def publish_market(self, symbol: str, trade: dict[str, Any]) -> None:
        book = self._book_update(symbol)
        for ws, subs in list(self._subs.items()):
            for channel, sym, interval in list(subs):
                if sym != symbol:
                    continue
                if channel == "ticker":
                    await self.send_public(ws, self._ws_ticker(symbol, "update"))
                elif channel == "book" and book is not None:
                    await self.send_public(ws, book)
                elif channel == "trade":
                    await self.send_public(
                        ws,
                        {"channel": "trade", "type": "update", "data": [self._ws_trade(symbol, trade)]},
                    )
                elif channel == "ohlc":
                    start, trades = self._candles(symbol, interval)[-1]
                    await self.send_public(
                        ws,
                        {
                            "channel": "ohlc",
                            "type": "update",
                            "timestamp": rfc3339(self.now_ms),
                            "data": [self._ws_candle(symbol, interval, start, trades)],
                        },
                    )

    # -- private websocket: executions ---------------------------------------------------------

    async def _ws_private(self, request: web.Request) -> web.WebSocketResponse:
        ws = await self.open_socket(request)
        self._auth_sockets.add(ws)
        await self.send(ws, self._status())
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                req = json.loads(msg.data)
                if req.get("method") == "ping":
                    await self.send(ws, self._pong(req))
                elif req.get("method") == "subscribe":
                    params = req.get("params") or {}
                    if params.get("token") not in self.tokens:
                        await self.send(
                            ws,
                            {
                                "method": "subscribe",
                                "req_id": req.get("req_id"),
                                "error": "ESession:Invalid session",
                                "success": False,
                            },
                        )
                        continue
                    channel = params.get("channel")
                    await self.send(ws, self._ack(req, {"channel": channel, "snapshot": True}))
                    if channel == "executions":
                        self._private.add(ws)
                        await self.send(ws, self._executions_snapshot(params))
        finally:
            self._private.discard(ws)
            self._auth_sockets.discard(ws)
            self.forget_socket(ws)
        return ws

    def _executions_snapshot(self, params: dict[str, Any]) -> dict[str, Any]:
        data: list[dict[str, Any]] = []
        if params.get("snap_orders", True):
            data += [{**self._exec_order(o), "exec_type": "new"} for o in self.open_orders()]
        if params.get("snap_trades", False):
            data += [self._exec_trade(t) for t in self.trades[-50:]]
        return {"channel": "executions", "type": "snapshot", "data": data, "sequence": next(self._seq)}

    def _exec_order(self, o: FakeOrder) -> dict[str, Any]:
        out: dict[str, Any] = {
            "order_id": self.txid(o),
            "symbol": o.symbol,
            "order_qty": float(o.quantity),
            "cum_cost": float(o.quote),
            "cum_qty": float(o.executed),
            "time_in_force": o.tif,
            "side": o.side,
            "order_type": o.type,
            "order_userref": 0,
            "order_status": o.status,
            "fee_usd_equiv": 0.0,
            "fee_ccy_pref": "fciq",
            "timestamp": rfc3339(o.update_ms),
        }
        if o.price is not None:
            out["limit_price_type"] = "static"
            out["limit_price"] = float(o.price)
        self._tag(out, o)
        return out

    def _tag(self, out: dict[str, Any], o: FakeOrder) -> None:
        if not o.client_order_id.startswith("fake-"):
            out["cl_ord_id"] = o.client_order_id

    def _exec_trade(self, t: FakeTrade) -> dict[str, Any]:
        o = t.order
        out: dict[str, Any] = {
            "order_id": self.txid(o),
            "exec_id": self.trade_txid(t),
            "exec_type": "trade",
            "trade_id": t.trade_id,
            "symbol": o.symbol,
            "side": o.side,
            "last_qty": float(t.qty),
            "last_price": float(t.price),
            "liquidity_ind": "m" if t.is_maker else "t",
            "cost": float(t.qty * t.price),
            "order_userref": 0,
            "order_status": o.status,
            "order_type": o.type,
            "fee_usd_equiv": float(t.commission),
            "fees": [{"asset": o.symbol.split("/")[1], "qty": float(t.commission)}],
            "timestamp": rfc3339(t.time_ms),
        }
        self._tag(out, o)
        return out

    def publish_order(self, order: FakeOrder, trade: FakeTrade | None) -> None:
        events: list[dict[str, Any]] = []
        if trade is not None:
            events.append(self._exec_trade(trade))
            if order.status == "filled":
                events.append(self._status_event(order, "filled"))
        elif order.status == "new" and not order.executed:
            events.append({**self._exec_order(order), "exec_type": "pending_new", "order_status": "pending_new"})
            events.append(self._status_event(order, "new"))
        elif order.status == "canceled":
            events.append(
                {**self._status_event(order, "canceled"), "cancel_reason": "User requested", "reason": "User requested"}
            )
        else:
            events.append(self._status_event(order, "amended"))
        messages = [
            {"channel": "executions", "type": "update", "data": [e], "sequence": next(self._seq)} for e in events
        ]
        self.push_private(self._private, messages)

    def _status_event(self, o: FakeOrder, exec_type: str) -> dict[str, Any]:
        """A later event on an order: only what changed, as Kraken sends (no symbol)."""
        out: dict[str, Any] = {
            "timestamp": rfc3339(o.update_ms),
            "order_status": o.status,
            "exec_type": exec_type,
            "order_userref": 0,
            "order_id": self.txid(o),
            "cum_qty": float(o.executed),
            "cum_cost": float(o.quote),
            "fee_usd_equiv": 0.0,
            "avg_price": float(o.average),
        }
        self._tag(out, o)
        return out

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await super().stop()
