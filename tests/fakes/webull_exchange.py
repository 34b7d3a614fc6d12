"""A loopback Webull OpenAPI (US, HTTP), written from Webull's public documentation
(developer.webull.com "api-doc": Signature, Account List, Account Balance, Account Positions,
Get Instruments, Place Order, Cancel Order, Query Order Detail, Query Day Orders, Query Opened
Orders, and the OrderStatus / OrderType / OrderTIF dictionaries), not from our adapter.

What it does as documented:
- every request is signed: x-app-key, x-timestamp, x-signature-algorithm (HMAC-SHA1),
  x-signature-version (1.0), x-signature-nonce and x-signature; the fake rebuilds the string
  (path, then the query parameters and those headers with `host`, sorted, `k=v` joined by `&`,
  then the upper-case MD5 of the body), percent-encodes it and checks the HMAC-SHA1 under
  app secret + "&". A wrong key or signature, a nonce used twice, or a timestamp more than
  `valid_for_s` (60 s: the docs say the nonce and timestamp stop replays, not how long a
  timestamp lives) from the fake's clock is a 401;
- errors as `{"error_code": ..., "message": ...}` (the codes and words are the fake's own);
- GET /app/subscriptions/list, /account/balance, /account/positions, /instrument/list
  (symbols=A,B&category=US_STOCK), /market-data/snapshot (symbols, category: symbol, price,
  open, high, low, pre_close, volume; 403 without a market-data subscription, `no_market_data`);
- POST /trade/order/place `{account_id, stock_order: {...}}`: client_order_id unique (at most
  40 characters), qty a positive whole number, limit_price for LIMIT / STOP_LOSS_LIMIT,
  stop_price for STOP_LOSS / STOP_LOSS_LIMIT, extended_hours_trading only with LIMIT; answers
  `{client_order_id, order_id}`;
- POST /trade/order/cancel `{account_id, client_order_id}`; GET /trade/order/detail,
  /trade/orders/list-today and /trade/orders/list-open (`has_next`, `orders`, paged by
  last_client_order_id); an order is `{client_order_id, order_id, tif, items: [{symbol, side,
  order_type, qty, limit_price, stop_price, filled_qty, filled_price (average), order_status
  SUBMITTED / PARTIAL_FILLED / FILLED / CANCELLED / FAILED, place_time, last_filled_time}]}`.

Matching is the fake's own: a market order fills at once at the price; a limit rests until
`set_price` reaches it; a stop triggers at its price; `fill(order, qty, price)` fills part.

Faults: those of every polled broker fake (`fakes.polled_broker`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from aiohttp import web

from fakes.polled_broker import PolledBrokerFake

SIGNED_HEADERS = ("x-app-key", "x-timestamp", "x-signature-algorithm", "x-signature-version", "x-signature-nonce")


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error_code": code, "message": message}, status=status)


@dataclass
class FakeOrder:
    order_id: str
    client_order_id: str
    symbol: str
    side: str
    type: str
    qty: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    tif: str
    extended: bool
    placed: datetime
    status: str = "SUBMITTED"
    filled: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    last_fill: datetime | None = None
    fills: list[tuple[Decimal, Decimal]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in ("SUBMITTED", "PARTIAL_FILLED")


class FakeWebull(PolledBrokerFake):
    def __init__(self, app_key: str = "wb-app-key-7c1d", app_secret: str = "wb-app-secret-55aa90e1",
                 valid_for_s: float = 60.0) -> None:  # fmt: skip
        super().__init__()
        self.app_key = app_key
        self.app_secret = app_secret
        self.valid_for_s = valid_for_s
        self.account_id = "QJHO3P1PR9425Q6UAT7QLJTEKB"
        self.account_number = "5MV06064"
        self.cash = Decimal("100000")
        self.prices = {"AAPL": Decimal("190.00"), "MSFT": Decimal("410.00")}
        self.instrument_ids = {"AAPL": "913256135", "MSFT": "913323997"}
        self.holdings: dict[str, Decimal] = {}
        self.orders: dict[str, FakeOrder] = {}  # by client_order_id
        self.requests: list[tuple[str, str]] = []
        self.unauthorized: list[str] = []  # the error code of each refused request
        self.page_size_cap = 100
        self.no_market_data = False  # True: the app has no market-data subscription (403)
        self._nonces: set[str] = set()
        self._seq = 0

    # -- the test's side --------------------------------------------------------------------------

    async def start(self) -> FakeWebull:
        app = web.Application(middlewares=[self._auth])
        r = app.router
        r.add_get("/app/subscriptions/list", self._accounts)
        r.add_get("/account/balance", self._balance)
        r.add_get("/account/positions", self._positions)
        r.add_get("/instrument/list", self._instruments)
        r.add_get("/market-data/snapshot", self._snapshot)
        r.add_post("/trade/order/place", self._place)
        r.add_post("/trade/order/cancel", self._cancel)
        r.add_get("/trade/order/detail", self._detail)
        r.add_get("/trade/orders/list-today", self._today)
        r.add_get("/trade/orders/list-open", self._open)
        await self._serve(app)
        return self

    def _rematch(self) -> None:
        for o in [o for o in self.orders.values() if o.is_open]:
            self._match(o)

    def posts(self) -> int:
        return sum(1 for m, p in self.requests if m == "POST" and p == "/trade/order/place")

    def set_price(self, symbol: str, price: str) -> None:
        self.prices[symbol] = Decimal(price)
        for o in [o for o in self.orders.values() if o.is_open and o.symbol == symbol]:
            self._match(o)

    def fill(self, order: FakeOrder, qty: Decimal, price: Decimal) -> None:
        order.filled += qty
        order.notional += qty * price
        order.fills.append((qty, price))
        order.last_fill = self.now()
        order.status = "FILLED" if order.filled >= order.qty else "PARTIAL_FILLED"
        signed = qty if order.side == "BUY" else -qty
        self.holdings[order.symbol] = self.holdings.get(order.symbol, Decimal(0)) + signed
        self.cash -= signed * price

    # -- authentication ------------------------------------------------------------------------------

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        await self._held()
        body = await request.text()
        h = {k.lower(): v for k, v in request.headers.items()}
        if h.get("x-app-key") != self.app_key:
            return self._refuse("INVALID_APP_KEY", "app key is invalid")
        if any(not h.get(k) for k in (*SIGNED_HEADERS, "x-signature")):
            return self._refuse("MISSING_SIGNATURE_HEADER", "a signature header is missing")
        try:
            stamp = datetime.strptime(h["x-timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return self._refuse("INVALID_TIMESTAMP", "x-timestamp is not ISO 8601 UTC")
        if abs((self.now() - stamp).total_seconds()) > self.valid_for_s:
            return self._refuse("INVALID_TIMESTAMP", "x-timestamp has expired")
        if h["x-signature-nonce"] in self._nonces:
            return self._refuse("DUPLICATE_NONCE", "x-signature-nonce was used before")
        params = {k: h[k] for k in SIGNED_HEADERS}
        params["host"] = request.host
        for k, v in request.query.items():
            params[k] = v
        text = request.path + "&" + "&".join(f"{k}={params[k]}" for k in sorted(params))
        if body:
            text += "&" + hashlib.md5(body.encode()).hexdigest().upper()
        want = base64.b64encode(
            hmac.new((self.app_secret + "&").encode(), quote(text, safe="").encode(), hashlib.sha1).digest()
        ).decode()
        if not hmac.compare_digest(want, h["x-signature"]):
            return self._refuse("INVALID_SIGNATURE", "signature does not match")
        self._nonces.add(h["x-signature-nonce"])
        self.requests.append((request.method, request.path))
        rule = self._fault(request)
        if rule is not None:
            resp = _error(rule.status, "TOO_MANY_REQUESTS" if rule.status == 429 else "SERVICE_UNAVAILABLE",
                          "too many requests" if rule.status == 429 else "service unavailable")  # fmt: skip
            if rule.retry_after is not None:
                resp.headers["Retry-After"] = str(rule.retry_after)
            return resp
        response: web.StreamResponse = await handler(request)
        return response

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        text = await request.text()  # read once by the signature check; aiohttp keeps it
        data = json.loads(text) if text else {}
        return data if isinstance(data, dict) else {}

    def _refuse(self, code: str, message: str) -> web.Response:
        self.unauthorized.append(code)
        return _error(401, code, message)

    def _account_ok(self, account_id: str | None) -> web.Response | None:
        if account_id != self.account_id:
            return _error(401, "INVALID_TOKEN", '401 UNAUTHORIZED "app_id and account_id not related"')
        return None

    # -- endpoints ------------------------------------------------------------------------------------

    async def _accounts(self, request: web.Request) -> web.Response:
        return web.json_response([{"subscription_id": "1643264151319", "user_id": "1111702234",
                                   "account_id": self.account_id, "account_number": self.account_number}])  # fmt: skip

    async def _balance(self, request: web.Request) -> web.Response:
        denied = self._account_ok(request.query.get("account_id"))
        if denied:
            return denied
        value = sum((q * self.prices[s] for s, q in self.holdings.items()), Decimal(0))
        return web.json_response({
            "account_id": self.account_id, "total_asset_currency": "USD", "total_asset": str(self.cash + value),
            "total_market_value": str(value), "total_cash_balance": str(self.cash), "margin_utilization_rate": "0",
            "account_currency_assets": [{"currency": "USD", "net_liquidation_value": str(self.cash + value),
                                         "positions_market_value": str(value), "cash_balance": str(self.cash),
                                         "margin_power": str(self.cash), "cash_power": str(self.cash)}],
        })  # fmt: skip

    async def _positions(self, request: web.Request) -> web.Response:
        denied = self._account_ok(request.query.get("account_id"))
        if denied:
            return denied
        rows = [{"instrument_id": self.instrument_ids[s], "symbol": s, "instrument_type": "STOCK", "qty": str(q),
                 "currency": "USD", "last_price": str(self.prices[s]), "market_value": str(q * self.prices[s])}
                for s, q in self.holdings.items() if q]  # fmt: skip
        # paged as documented: page_size 10 by default, 100 at most, after last_instrument_id
        size = min(int(request.query.get("page_size", "10")), self.page_size_cap)
        rows.sort(key=lambda r: str(r["instrument_id"]))
        last = request.query.get("last_instrument_id")
        if last:
            rows = [r for r in rows if str(r["instrument_id"]) > last]
        return web.json_response({"has_next": len(rows) > size, "holdings": rows[:size]})

    async def _instruments(self, request: web.Request) -> web.Response:
        if request.query.get("category") not in ("US_STOCK", "US_ETF"):
            return _error(400, "INVALID_PARAMETER", "category must be US_STOCK or US_ETF")
        wanted = [s for s in request.query.get("symbols", "").split(",") if s]
        return web.json_response([
            {"name": s, "symbol": s, "instrument_id": self.instrument_ids[s], "exchange_code": "NSQ", "currency": "USD"}
            for s in wanted if s in self.instrument_ids
        ])  # fmt: skip

    async def _snapshot(self, request: web.Request) -> web.Response:
        if self.no_market_data:
            return _error(403, "NO_PERMISSION", "no market data subscription")
        wanted = [s for s in request.query.get("symbols", "").split(",") if s]
        return web.json_response([
            {"symbol": s, "price": str(self.prices[s]), "open": str(self.prices[s]), "high": str(self.prices[s]),
             "low": str(self.prices[s]), "pre_close": str(self.prices[s]), "volume": "1000", "change": "0",
             "change_ratio": "0"}
            for s in wanted if s in self.prices
        ])  # fmt: skip

    async def _place(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        denied = self._account_ok(body.get("account_id"))
        if denied:
            return denied
        so = body.get("stock_order") or {}
        cid = str(so.get("client_order_id") or "")
        if not cid or len(cid) > 40:
            return _error(400, "INVALID_PARAMETER", "client_order_id is required, at most 40 characters")
        if cid in self.orders:
            return _error(400, "DUPLICATE_CLIENT_ORDER_ID", "client_order_id cannot be repeated")
        symbol = next((s for s, i in self.instrument_ids.items() if i == str(so.get("instrument_id"))), None)
        if symbol is None:
            return _error(400, "INVALID_INSTRUMENT", "instrument_id not found")
        kind = so.get("order_type")
        if kind not in ("MARKET", "LIMIT", "STOP_LOSS", "STOP_LOSS_LIMIT"):
            return _error(400, "INVALID_PARAMETER", "order_type is invalid")
        try:
            qty = Decimal(str(so.get("qty")))
        except ArithmeticError:
            return _error(400, "INVALID_PARAMETER", "qty is invalid")
        if qty <= 0 or qty != qty.to_integral_value():
            return _error(400, "INVALID_PARAMETER", "qty must be a positive integer")
        needs_limit, needs_stop = kind in ("LIMIT", "STOP_LOSS_LIMIT"), kind in ("STOP_LOSS", "STOP_LOSS_LIMIT")
        if needs_limit != bool(so.get("limit_price")) or needs_stop != bool(so.get("stop_price")):
            return _error(400, "INVALID_PARAMETER", "limit_price / stop_price do not fit order_type")
        if so.get("extended_hours_trading") and kind != "LIMIT":
            return _error(400, "INVALID_PARAMETER", "extended hours trading takes LIMIT orders only")
        if so.get("side") not in ("BUY", "SELL"):
            return _error(400, "INVALID_PARAMETER", "side is invalid")
        self._seq += 1
        order = FakeOrder(
            f"0352U72LQI6DT0KF41GK{self._seq:06d}", cid, symbol, so["side"], kind, qty,
            Decimal(so["limit_price"]) if so.get("limit_price") else None,
            Decimal(so["stop_price"]) if so.get("stop_price") else None,
            str(so.get("tif", "DAY")), bool(so.get("extended_hours_trading")), self.now(),
        )  # fmt: skip
        self.orders[cid] = order
        self._match(order)
        await self._cut_if_lost(request)
        return web.json_response({"client_order_id": cid, "order_id": order.order_id})

    async def _cancel(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        denied = self._account_ok(body.get("account_id"))
        if denied:
            return denied
        order = self.orders.get(str(body.get("client_order_id")))
        if order is None:
            return _error(404, "ORDER_NOT_FOUND", "order not found")
        if not order.is_open:
            return _error(400, "ORDER_NOT_CANCELABLE", "the order cannot be cancelled in its status")
        order.status = "CANCELLED"
        return web.json_response({"client_order_id": order.client_order_id})

    async def _detail(self, request: web.Request) -> web.Response:
        denied = self._account_ok(request.query.get("account_id"))
        if denied:
            return denied
        order = self.orders.get(request.query.get("client_order_id", ""))
        if order is None:
            return _error(404, "ORDER_NOT_FOUND", "order not found")
        return web.json_response(self._json(order))

    async def _today(self, request: web.Request) -> web.Response:
        day = self.now().date()
        return self._page(request, [o for o in self.orders.values() if o.placed.date() == day])

    async def _open(self, request: web.Request) -> web.Response:
        return self._page(request, [o for o in self.orders.values() if o.is_open])

    def _page(self, request: web.Request, rows: list[FakeOrder]) -> web.Response:
        denied = self._account_ok(request.query.get("account_id"))
        if denied:
            return denied
        size = min(int(request.query.get("page_size", "10")), self.page_size_cap)
        rows = sorted(rows, key=lambda o: o.order_id)
        last = request.query.get("last_client_order_id")
        if last:
            at = next((i for i, o in enumerate(rows) if o.client_order_id == last), len(rows) - 1)
            rows = rows[at + 1 :]
        page = rows[:size]
        return web.json_response({"has_next": len(rows) > size, "orders": [self._json(o) for o in page]})

    # -- the fake's matching ----------------------------------------------------------------------------

    def _match(self, o: FakeOrder) -> None:
        if self._stall_fills or not o.is_open:
            return
        price = self.prices[o.symbol]
        if o.type in ("STOP_LOSS", "STOP_LOSS_LIMIT") and o.stop_price is not None:
            hit = price >= o.stop_price if o.side == "BUY" else price <= o.stop_price
            if not hit:
                return
            if o.type == "STOP_LOSS":
                self.fill(o, o.qty - o.filled, price)
                return
        if o.type == "MARKET":
            self.fill(o, o.qty - o.filled, price)
            return
        assert o.limit_price is not None
        if (price <= o.limit_price) if o.side == "BUY" else (price >= o.limit_price):
            self.fill(o, o.qty - o.filled, o.limit_price)

    def _json(self, o: FakeOrder) -> dict[str, Any]:
        avg = (o.notional / o.filled).quantize(Decimal("0.0001")) if o.filled else None
        item = {
            "category": "US_STOCK", "currency": "USD", "instrument_id": self.instrument_ids[o.symbol],
            "symbol": o.symbol, "side": o.side, "order_type": o.type, "qty": str(o.qty),
            "limit_price": None if o.limit_price is None else str(o.limit_price),
            "stop_price": None if o.stop_price is None else str(o.stop_price),
            "filled_qty": str(o.filled), "filled_price": None if avg is None else str(avg),
            "order_status": o.status, "place_time": _iso(o.placed),
            "last_filled_time": None if o.last_fill is None else _iso(o.last_fill),
        }  # fmt: skip
        return {
            "account_id": self.account_id, "combo_type": "NORMAL", "client_order_id": o.client_order_id,
            "order_id": o.order_id, "tif": o.tif, "extended_hours_trading": o.extended, "items": [item],
        }  # fmt: skip
