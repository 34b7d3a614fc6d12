"""A loopback Robinhood Crypto Trading API (v1), written from Robinhood's public documentation
(docs.robinhood.com/crypto/trading: Authentication, its Python sample client, Pagination, Rate
Limiting, Error Responses, and the account / trading pairs / holdings / best bid-ask / orders
endpoints), not from our adapter.

What it does as documented:
- every request must carry x-api-key, x-timestamp (unix seconds) and x-signature: base64 of
  the Ed25519 signature of api key + timestamp + path (with the query string as sent) + method
  + body, checked against the public key registered with the API key; a signature that does
  not verify, an unknown key, or a timestamp more than 30 s away from the fake's clock is a 401
  (the fake's error words are ours: the docs give the format, not those texts);
- errors as `{"type": "validation_error" | "client_error" | "server_error", "errors":
  [{"attr": ..., "detail": ...}]}`; `client_order_id` must be a UUID and is unique;
- GET accounts/ (account_number, status, buying_power, buying_power_currency);
  trading_pairs/?symbol=&symbol=; holdings/; marketdata/best_bid_ask/?symbol= (price, bid and
  ask inclusive of the spread, timestamp);
- POST orders/ with `{type}_order_config` (market: asset_quantity; limit: + limit_price;
  stop_loss: + stop_price; stop_limit: both) answers the order; GET orders/ (filters
  created_at_start, updated_at_start, state, cursor/limit pagination with `next`), GET
  orders/{id}/, POST orders/{id}/cancel/;
- orders: state open / partially_filled / filled / cancelled / failed, `executions` (quantity,
  effective_price, timestamp), filled_asset_quantity, average_price.

Matching is the fake's own: a market order fills at once in two executions at the ask (buy) or
bid (sell); a limit rests until `set_price` crosses it; a stop triggers at its price.

Faults: those of every polled broker fake (`fakes.polled_broker`).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fakes.polled_broker import PolledBrokerFake

API = "/api/v1/crypto"
VALID_FOR_S = 30


def keypair(seed: bytes = b"\x07" * 32) -> tuple[str, Ed25519PublicKey]:
    """(the base64 private seed a trader stores, the public key given to Robinhood)."""
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return base64.b64encode(seed).decode(), key.public_key()


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _error(status: int, detail: str, attr: str | None = None) -> web.Response:
    kind = "validation_error" if status == 400 else ("server_error" if status >= 500 else "client_error")
    return web.json_response({"type": kind, "errors": [{"attr": attr, "detail": detail}]}, status=status)


@dataclass
class FakeOrder:
    id: str
    client_order_id: str
    symbol: str
    side: str
    type: str
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    tif: str
    created: datetime
    updated: datetime
    state: str = "open"
    executions: list[dict[str, str]] = field(default_factory=list)

    @property
    def filled(self) -> Decimal:
        return sum((Decimal(x["quantity"]) for x in self.executions), Decimal(0))

    @property
    def is_open(self) -> bool:
        return self.state in ("open", "partially_filled")


class FakeRobinhood(PolledBrokerFake):
    def __init__(self, api_key: str = "rh-api-6148effc-c0b1-486c-8940-a1d099456be6", page_size: int = 5) -> None:
        super().__init__()
        self.api_key = api_key
        self.private_b64, self.public_key = keypair()
        self.page_size = page_size
        self.account_number = "RHC-4242"
        self.buying_power = Decimal("100000")
        self.prices = {"BTC-USD": (Decimal("60000.00"), Decimal("60010.00")),
                       "ETH-USD": (Decimal("3000.00"), Decimal("3001.00"))}  # fmt: skip
        self.pairs = {
            "BTC-USD": {"asset_increment": "0.00000001", "quote_increment": "0.01", "min_order_size": "0.000001",
                        "max_order_size": "20"},
            "ETH-USD": {"asset_increment": "0.000001", "quote_increment": "0.01", "min_order_size": "0.0001",
                        "max_order_size": "500"},
        }  # fmt: skip
        self.holdings: dict[str, Decimal] = {}
        self.orders: dict[str, FakeOrder] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every authenticated request
        self.unauthorized = 0

    # -- the test's side --------------------------------------------------------------------------

    async def start(self) -> FakeRobinhood:
        app = web.Application(middlewares=[self._auth])
        r = app.router
        r.add_get(f"{API}/trading/accounts/", self._account)
        r.add_get(f"{API}/trading/trading_pairs/", self._pairs)
        r.add_get(f"{API}/trading/holdings/", self._holdings)
        r.add_get(f"{API}/marketdata/best_bid_ask/", self._bbo)
        r.add_post(f"{API}/trading/orders/", self._create)
        r.add_get(f"{API}/trading/orders/", self._list)
        r.add_get(f"{API}/trading/orders/{{id}}/", self._one)
        r.add_post(f"{API}/trading/orders/{{id}}/cancel/", self._cancel)
        await self._serve(app)
        return self

    def _rematch(self) -> None:
        for sym, (bid, ask) in self.prices.items():
            self.set_price(sym, str(bid), str(ask))

    def posts(self) -> int:
        return sum(1 for m, p in self.requests if m == "POST" and p.endswith("/trading/orders/"))

    def set_price(self, symbol: str, bid: str, ask: str) -> None:
        self.prices[symbol] = (Decimal(bid), Decimal(ask))
        for o in [o for o in self.orders.values() if o.is_open and o.symbol == symbol]:
            self._match(o)

    def fill(self, order: FakeOrder, qty: Decimal, price: Decimal) -> None:
        order.executions.append({"quantity": str(qty), "effective_price": str(price), "timestamp": _iso(self.now())})
        order.state = "filled" if order.filled >= order.quantity else "partially_filled"
        order.updated = self.now()
        base = order.symbol.split("-")[0]
        signed = qty if order.side == "buy" else -qty
        self.holdings[base] = self.holdings.get(base, Decimal(0)) + signed
        self.buying_power -= signed * price

    # -- authentication (every request) ------------------------------------------------------------

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        await self._held()
        body = await request.text()
        key = request.headers.get("x-api-key", "")
        stamp = request.headers.get("x-timestamp", "")
        signature = request.headers.get("x-signature", "")
        if key != self.api_key or not stamp.isdigit() or not signature:
            self.unauthorized += 1
            return _error(401, "Authentication credentials were not provided or are invalid.")
        if abs(self.now().timestamp() - int(stamp)) > VALID_FOR_S:
            self.unauthorized += 1
            return _error(401, "Timestamp is invalid or has expired.")
        message = f"{key}{stamp}{request.raw_path}{request.method}{body}".encode()
        try:
            self.public_key.verify(base64.b64decode(signature), message)
        except (InvalidSignature, ValueError):
            self.unauthorized += 1
            return _error(401, "Invalid signature.")
        self.requests.append((request.method, request.path))
        rule = self._fault(request)
        if rule is not None:
            resp = _error(rule.status, "Too many requests." if rule.status == 429 else "Service unavailable.")
            if rule.retry_after is not None:
                resp.headers["Retry-After"] = str(rule.retry_after)
            return resp
        response: web.StreamResponse = await handler(request)
        return response

    # -- endpoints ----------------------------------------------------------------------------------

    async def _account(self, request: web.Request) -> web.Response:
        return web.json_response({"account_number": self.account_number, "status": "active",
                                  "buying_power": str(self.buying_power), "buying_power_currency": "USD"})  # fmt: skip

    async def _pairs(self, request: web.Request) -> web.Response:
        wanted = request.query.getall("symbol", []) or list(self.pairs)
        rows = [{"asset_code": s.split("-")[0], "quote_code": "USD", "symbol": s, "status": "tradable", **self.pairs[s]}
                for s in wanted if s in self.pairs]  # fmt: skip
        return web.json_response({"next": None, "previous": None, "results": rows})

    async def _holdings(self, request: web.Request) -> web.Response:
        rows = [{"account_number": self.account_number, "asset_code": a, "total_quantity": str(q),
                 "quantity_available_for_trading": str(q)} for a, q in self.holdings.items()]  # fmt: skip
        return web.json_response({"next": None, "previous": None, "results": rows})

    async def _bbo(self, request: web.Request) -> web.Response:
        rows = []
        for s in request.query.getall("symbol", []) or list(self.prices):
            if s in self.prices:
                bid, ask = self.prices[s]
                rows.append({"symbol": s, "price": str((bid + ask) / 2), "bid_inclusive_of_sell_spread": str(bid),
                             "sell_spread": "0.001", "ask_inclusive_of_buy_spread": str(ask), "buy_spread": "0.001",
                             "timestamp": _iso(self.now())})  # fmt: skip
        return web.json_response({"results": rows})

    async def _create(self, request: web.Request) -> web.StreamResponse:
        try:
            spec = json.loads(await request.text())
        except ValueError:
            return _error(400, "JSON parse error.", "non_field_errors")
        try:
            cid = str(uuid.UUID(str(spec.get("client_order_id"))))
        except ValueError:
            return _error(400, "Must be a valid UUID.", "client_order_id")
        if any(o.client_order_id == cid for o in self.orders.values()):
            return _error(400, "An order with this client_order_id already exists.", "client_order_id")
        kind = spec.get("type")
        if kind not in ("market", "limit", "stop_loss", "stop_limit"):
            return _error(400, f'"{kind}" is not a valid choice.', "type")
        symbol = spec.get("symbol")
        if symbol not in self.pairs:
            return _error(400, "Invalid symbol.", "symbol")
        if spec.get("side") not in ("buy", "sell"):
            return _error(400, "Invalid side.", "side")
        config = spec.get(f"{kind}_order_config") or {}
        qty = Decimal(str(config.get("asset_quantity", "0")))
        if qty < Decimal(self.pairs[symbol]["min_order_size"]):
            return _error(400, "Order size is below the minimum.", "asset_quantity")
        now = self.now()
        order = FakeOrder(
            str(uuid.uuid4()), cid, symbol, spec["side"], kind, qty,
            Decimal(config["limit_price"]) if config.get("limit_price") else None,
            Decimal(config["stop_price"]) if config.get("stop_price") else None,
            str(config.get("time_in_force", "gtc")), now, now,
        )  # fmt: skip
        self.orders[order.id] = order
        self._match(order)
        await self._cut_if_lost(request)
        return web.json_response(self._json(order), status=201)

    async def _list(self, request: web.Request) -> web.Response:
        q = request.query
        rows = sorted(self.orders.values(), key=lambda o: (o.created, o.id))
        if "created_at_start" in q:
            start = datetime.fromisoformat(q["created_at_start"].replace("Z", "+00:00"))
            rows = [o for o in rows if o.created >= start]
        if "updated_at_start" in q:
            start = datetime.fromisoformat(q["updated_at_start"].replace("Z", "+00:00"))
            rows = [o for o in rows if o.updated >= start]
        if "state" in q:
            rows = [o for o in rows if o.state == q["state"]]
        limit = int(q.get("limit", self.page_size))
        at = int(q.get("cursor", "0"))
        page = rows[at : at + limit]
        nxt = None
        if at + limit < len(rows):
            keep = [(k, v) for k, v in q.items() if k != "cursor"]
            nxt = f"{self.url}{request.path}?" + "&".join(f"{k}={v}" for k, v in [*keep, ("cursor", at + limit)])
        return web.json_response({"next": nxt, "previous": None, "results": [self._json(o) for o in page]})

    async def _one(self, request: web.Request) -> web.Response:
        order = self.orders.get(request.match_info["id"])
        if order is None:
            return _error(404, "Not found.")
        return web.json_response(self._json(order))

    async def _cancel(self, request: web.Request) -> web.Response:
        order = self.orders.get(request.match_info["id"])
        if order is None:
            return _error(404, "Not found.")
        if not order.is_open:
            return _error(400, "Order is not cancelable.", "non_field_errors")
        order.state = "cancelled"
        order.updated = self.now()
        return web.json_response(f"Cancel request has been submitted for order {order.id}")  # as the docs show

    # -- the fake's matching --------------------------------------------------------------------------

    def _match(self, o: FakeOrder) -> None:
        if self._stall_fills or not o.is_open:
            return
        bid, ask = self.prices[o.symbol]
        touch = ask if o.side == "buy" else bid
        if o.type == "market":
            first = (o.quantity / 2).quantize(Decimal(self.pairs[o.symbol]["asset_increment"]))
            self.fill(o, first, touch)
            self.fill(o, o.quantity - first, touch)
            return
        if o.type in ("stop_loss", "stop_limit") and o.stop_price is not None:
            hit = touch >= o.stop_price if o.side == "buy" else touch <= o.stop_price
            if not hit:
                return
            if o.type == "stop_loss":
                self.fill(o, o.quantity - o.filled, touch)
                return
        assert o.limit_price is not None
        crosses = ask <= o.limit_price if o.side == "buy" else bid >= o.limit_price
        if crosses:
            self.fill(o, o.quantity - o.filled, o.limit_price)

    def _json(self, o: FakeOrder) -> dict[str, Any]:
        config: dict[str, Any] = {"asset_quantity": str(o.quantity)}
        if o.limit_price is not None:
            config["limit_price"] = str(o.limit_price)
        if o.stop_price is not None:
            config["stop_price"] = str(o.stop_price)
        if o.type != "market":
            config["time_in_force"] = o.tif
        filled = o.filled
        avg = (sum((Decimal(x["quantity"]) * Decimal(x["effective_price"]) for x in o.executions), Decimal(0)) / filled
               if filled else None)  # fmt: skip
        return {
            "id": o.id, "account_number": self.account_number, "symbol": o.symbol,
            "client_order_id": o.client_order_id, "side": o.side, "executions": list(o.executions), "type": o.type,
            "state": o.state, "average_price": None if avg is None else str(avg), "filled_asset_quantity": str(filled),
            "created_at": _iso(o.created), "updated_at": _iso(o.updated), f"{o.type}_order_config": config,
        }  # fmt: skip
