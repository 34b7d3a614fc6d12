"""A loopback fake Coinbase Advanced Trade (REST + websocket) for ccxt / ccxt.pro, with faults.

Only Coinbase's wire format lives here; prices, orders, fills and faults are `FakeMarket`'s.

REST  /v2/currencies, /v2/currencies/crypto, /v2/exchange-rates, /v2/accounts (ccxt's default
      balance), and under /api/v3/brokerage: market/products, market/products/{id}/ticker,
      market/products/{id}/candles, market/product_book, transaction_summary, accounts,
      orders (POST), orders/batch_cancel, orders/historical/batch, orders/historical/fills,
      orders/historical/{order_id}
WS    /ws   subscribe to ticker, market_trades, level2 (answers on l2_data) and user (private:
      needs a `jwt`), as Coinbase's advanced-trade-ws. Each subscribe is answered in turn, on
      its socket: a "subscriptions" message, or an error message (`refuse_subscriptions`).
      Coinbase documents an error's shape, {"type": "error", "message": ...}, with no channel
      and no product in it; its text for a refused product is not documented for Advanced
      Trade: "Failed to subscribe" is the text of Coinbase Exchange's feed.
      Rate limit ("Advanced Trade WebSocket Rate Limits"): unauthenticated messages (a subscribe
      or unsubscribe without a `jwt`) at 8 per second per IP address: every socket of this fake
      counts as one IP, over any 1 s. What Coinbase does past it is not documented: the fake
      either answers the message {"type": "error", "message": "rate limit exceeded"} and takes
      nothing from it (`over_limit = "error"`), or closes the socket (`"close"`, code 1008)

Authentication is a CDP API key, as Coinbase issues them today: the key's name
(organizations/{org}/apiKeys/{id}) and an EC P-256 private key PEM. Every private REST request
carries `Authorization: Bearer <JWT>`, an ES256 JWT the fake verifies with the key's public half
(header kid/nonce, payload sub/iss/nbf/exp and the `uri` claim naming method, host and path).
Coinbase checks `uri` against "METHOD api.coinbase.com/path"; ccxt strips only "https://", so
for this http:// loopback the fake drops the scheme before comparing.

As on Coinbase: a repeated client_order_id creates nothing and answers with the existing order
(counted in `duplicate_submissions`); ids are UUIDs; orders are found by order id only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from fakes.fake_market import FakeMarket, FakeOrder, FakeTrade, OrderRefused

BROKERAGE = "/api/v3/brokerage"
# product id -> (base_increment, quote_increment, quote_min_size); other bases: ETH's
INCREMENTS = {"BTC": ("0.00000001", "0.01", "1"), "ETH": ("0.00001", "0.01", "1")}
WS_MESSAGES_PER_S = 8  # unauthenticated websocket messages per second per IP
STATUS = {"new": "OPEN", "partially_filled": "OPEN", "filled": "FILLED", "canceled": "CANCELLED"}
GRANULARITY_S = {"ONE_MINUTE": 60, "FIVE_MINUTE": 300, "FIFTEEN_MINUTE": 900, "ONE_HOUR": 3600}


def iso(ms: int) -> str:
    """Coinbase's RFC 3339 timestamps, microseconds and a Z."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def increments(base: str) -> tuple[str, str, str]:
    return INCREMENTS.get(base, INCREMENTS["ETH"])


def as_uuid(n: int) -> str:
    return str(uuid.UUID(int=n))


class CoinbaseKey:
    """A CDP API key: its name and EC private key PEM (what a trader pastes), and the public
    half the exchange keeps."""

    def __init__(self, org: str = "4f7c1b2e-0d4a-4c55-9b1e-6a1d2c3b4a59") -> None:
        private = ec.generate_private_key(ec.SECP256R1())
        self.name = f"organizations/{org}/apiKeys/{uuid.uuid4()}"
        self.pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,  # "BEGIN EC PRIVATE KEY", as Coinbase
            serialization.NoEncryption(),
        ).decode()
        self.public = private.public_key()

    @property
    def pem_one_line(self) -> str:
        """The PEM as Coinbase's JSON download shows it: one line, newlines escaped as \\n."""
        return self.pem.replace("\n", "\\n")


class FakeCoinbaseExchange(FakeMarket):
    def __init__(self, symbols: tuple[str, ...] = ("BTC/USD", "ETH/USD"), **kw: Any) -> None:
        self.key = CoinbaseKey()
        super().__init__(symbols, api_key=self.key.name, **kw)
        for quote in {s.split("/")[1] for s in symbols}:
            self.balances[quote] = Decimal("1000000")
        self.balances.pop("USDT", None)
        self.auth_failures = 0
        self.subscriptions: list[str] = []  # every channel subscribed, in order (resubscribes too)
        self.refused_products: set[str] = set()  # listed, but their subscriptions are refused
        self.over_limit = "error"  # past the message rate limit: an error answer, or "close"
        self.ws_rate_limited = 0  # messages refused for the rate limit
        self.unauthenticated: list[float] = []  # when each one taken arrived (monotonic)
        self._public: dict[web.WebSocketResponse, set[tuple[str, str]]] = {}
        self._private: set[web.WebSocketResponse] = set()
        self._sequence = 0
        self._books: dict[str, tuple[list[list[str]], list[list[str]]]] = {}

    # -- wire helpers -------------------------------------------------------------------------

    def ccxt_options(self) -> dict[str, Any]:
        """The `options` table a `[venues.X]` config uses to point ccxt's coinbase here."""
        return {"urls": {"api": {"rest": self.url, "ws": self.ws_url + "/ws"}}}

    @staticmethod
    def product_id(symbol: str) -> str:
        return symbol.replace("/", "-")

    def symbol_of(self, product_id: str) -> str:
        return product_id.replace("-", "/")

    def order_id(self, order: FakeOrder) -> str:
        return as_uuid(order.order_id)

    def fill_id(self, trade: FakeTrade) -> str:
        return as_uuid(trade.trade_id)

    def refuse_subscriptions(self, *product_ids: str) -> None:
        """Refuse every subscribe naming one of these products (a product delisted since the
        markets were read), until called again without them."""
        self.refused_products = set(product_ids)

    def rotate_key(self) -> None:
        """Revoke the key in use (a trader deleted it on the website): requests now fail."""
        self.key = CoinbaseKey()
        self.api_key = self.key.name

    # -- authentication -----------------------------------------------------------------------

    def verify_jwt(self, token: str, uri: str | None) -> bool:
        """An ES256 JWT signed by our key (RFC 7515 raw r||s signature), live, naming `uri`."""
        try:
            head_b64, body_b64, sig_b64 = token.split(".")
            head = json.loads(b64url_decode(head_b64))
            body = json.loads(b64url_decode(body_b64))
            sig = b64url_decode(sig_b64)
            if head.get("alg") != "ES256" or head.get("kid") != self.api_key or not head.get("nonce"):
                return False
            now = time.time()
            if body.get("sub") != self.api_key or body.get("iss") not in ("coinbase-cloud", "cdp"):
                return False
            if not (body["nbf"] - 5 <= now <= body["exp"]) or body["exp"] - body["nbf"] > 300:
                return False
            if uri is not None:
                method, _, where = str(body.get("uri", "")).partition(" ")
                where = where.removeprefix("http://").removeprefix("https://")
                if f"{method} {where}" != uri:
                    return False
            if len(sig) != 64:
                return False
            der = encode_dss_signature(int.from_bytes(sig[:32]), int.from_bytes(sig[32:]))
            self.key.public.verify(
                der, f"{head_b64}.{body_b64}".encode(), ec.ECDSA(hashes.SHA256())
            )
            return True
        except (ValueError, KeyError, TypeError, InvalidSignature):
            return False

    def _authorized(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        ok = auth.startswith("Bearer ") and self.verify_jwt(
            auth.removeprefix("Bearer "), f"{request.method} {request.host}{request.path}"
        )
        if not ok:
            self.auth_failures += 1
        return ok

    # -- REST ---------------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/ws", self._ws)
        app.router.add_route("*", "/{tail:.*}", self._http)

    async def _http(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests.append((request.method, path))
        status = self.take_http_fault()
        if status in (429, 418):
            return web.json_response(
                {"errors": [{"id": "rate_limit_exceeded", "message": "Too many requests"}]},
                status=429,
            )
        if status is not None:
            return web.Response(status=status, text="upstream connect error")
        query = dict(request.query)
        public = self._public_answer(path, query)
        if public is not None:
            return web.json_response(public)
        if not self._authorized(request):
            return web.Response(status=401, text="Unauthorized\n")
        body: dict[str, Any] = {}
        if request.method == "POST":
            body = json.loads(await request.text() or "{}")
        return await self._private_answer(request.method, path, request.query, body)

    def _public_answer(self, path: str, q: dict[str, str]) -> Any:
        if path == "/v2/currencies":
            return {"data": [{"id": "USD", "name": "US Dollar", "min_size": "0.01"}]}
        if path == "/v2/currencies/crypto":
            return {
                "data": [
                    {
                        "asset_id": as_uuid(i + 1),
                        "code": s.split("/")[0],
                        "name": s.split("/")[0].title(),
                        "exponent": 8,
                        "type": "crypto",
                    }
                    for i, s in enumerate(self.symbols)
                ]
            }
        if path == "/v2/exchange-rates":
            rates = {s.split("/")[0]: str(1 / self.prices[s]) for s in self.symbols}
            return {"data": {"currency": "USD", "rates": {"USD": "1", **rates}}}
        if path == "/v2/time":  # the server's clock, not the simulated market's
            return {"data": {"iso": iso(self.server_time_ms()), "epoch": self.server_time_ms() // 1000}}
        if path == BROKERAGE + "/time":
            return {"iso": iso(self.server_time_ms()), "epochSeconds": str(self.server_time_ms() // 1000)}
        if path == BROKERAGE + "/market/products":
            spot = q.get("product_type", "SPOT") == "SPOT"
            products = [self._product(s) for s in self.symbols] if spot else []
            return {"products": products, "num_products": len(products)}
        if path == BROKERAGE + "/market/product_book":
            return {"pricebook": self._book(self.symbol_of(q["product_id"]))}
        parts = path.removeprefix(BROKERAGE + "/market/products/").split("/")
        if path.startswith(BROKERAGE + "/market/products/") and len(parts) == 2:
            symbol = self.symbol_of(parts[0])
            if parts[1] == "ticker":
                return self._ticker(symbol, q)
            if parts[1] == "candles":
                return {"candles": self._candles(symbol, q)}
        return None

    async def _private_answer(
        self, method: str, path: str, query: Any, body: dict[str, Any]
    ) -> web.Response:
        if path == BROKERAGE + "/transaction_summary":
            return web.json_response(
                {
                    "total_volume": 0,
                    "total_fees": 0,
                    "fee_tier": {
                        "pricing_tier": "Advanced 1",
                        "usd_from": "0",
                        "usd_to": "1000",
                        "taker_fee_rate": "0.001",
                        "maker_fee_rate": "0.001",
                    },
                }
            )
        if path == "/v2/accounts":
            return web.json_response({"pagination": {"next_uri": None}, "data": self._v2_accounts()})
        if path == BROKERAGE + "/accounts":
            accounts = self._v3_accounts()
            return web.json_response(
                {"accounts": accounts, "has_next": False, "cursor": "", "size": len(accounts)}
            )
        if path == BROKERAGE + "/orders" and method == "POST":
            return await self._create(body)
        if path == BROKERAGE + "/orders/batch_cancel" and method == "POST":
            return web.json_response({"results": [self._cancel(i) for i in body["order_ids"]]})
        if path == BROKERAGE + "/orders/historical/batch":
            return web.json_response(self._list_orders(query))
        if path == BROKERAGE + "/orders/historical/fills":
            return web.json_response(self._fills(query))
        if path.startswith(BROKERAGE + "/orders/historical/"):
            order = self._by_uuid(path.rsplit("/", 1)[1])
            if order is None:
                return web.json_response(
                    {"error": "NOT_FOUND", "error_details": "order with this orderID was not found",
                     "message": "order with this orderID was not found"},
                    status=404,
                )
            return web.json_response({"order": self._order(order)})
        return web.json_response(
            {"error": "NOT_FOUND", "message": f"fake coinbase has no {path}"}, status=404
        )

    async def _create(self, body: dict[str, Any]) -> web.Response:
        symbol = self.symbol_of(body["product_id"])
        cid = body.get("client_order_id") or str(uuid.uuid4())
        config = body.get("order_configuration") or {}
        kind, spec = next(iter(config.items()))
        price = Decimal(spec["limit_price"]) if "limit_price" in spec else None
        if "base_size" in spec:
            qty = Decimal(spec["base_size"])
        else:  # a market buy sized in quote currency
            step = Decimal(increments(symbol.split("/")[0])[0])
            qty = (Decimal(spec["quote_size"]) / self.prices[symbol]).quantize(step)
        tif = {"sor_limit_ioc": "IOC", "limit_limit_fok": "FOK"}.get(kind, "GTC")
        try:
            order = self.place(
                symbol,
                body["side"].lower(),
                "market" if kind.startswith("market") else "limit",
                qty,
                price,
                cid,
                tif=tif,
            )
        except OrderRefused as refused:
            if refused.kind == "duplicate":  # Coinbase: the existing order, nothing new
                order = self.orders[cid]
            else:
                return web.json_response(
                    {
                        "success": False,
                        "failure_reason": "UNKNOWN_FAILURE_REASON",
                        "order_id": "",
                        "error_response": {
                            "error": "INSUFFICIENT_FUND",
                            "message": "Insufficient balance in source account",
                            "error_details": "",
                            "preview_failure_reason": "PREVIEW_INSUFFICIENT_FUND",
                        },
                        "order_configuration": config,
                    }
                )
        delay = self.take_ack_delay()
        if delay:
            await asyncio.sleep(delay)
        return web.json_response(
            {
                "success": True,
                "failure_reason": "UNKNOWN_FAILURE_REASON",
                "order_id": self.order_id(order),
                "success_response": {
                    "order_id": self.order_id(order),
                    "product_id": body["product_id"],
                    "side": body["side"],
                    "client_order_id": order.client_order_id,
                },
                "order_configuration": config,
            }
        )

    def _cancel(self, order_id: str) -> dict[str, Any]:
        order = self._by_uuid(order_id)
        if order is None:
            return {"success": False, "failure_reason": "UNKNOWN_CANCEL_ORDER", "order_id": order_id}
        if not self.cancel(order):
            return {"success": False, "failure_reason": "INVALID_CANCEL_REQUEST", "order_id": order_id}
        return {"success": True, "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON", "order_id": order_id}

    def _by_uuid(self, order_id: str) -> FakeOrder | None:
        with contextlib.suppress(ValueError):
            return self.by_order_id(uuid.UUID(order_id).int)
        return None

    def _list_orders(self, q: Any) -> dict[str, Any]:
        """Newest first; filters as List Orders: order_status, product_id(s), start_date, limit."""
        statuses = q.getall("order_status", [])
        products = q.getall("product_ids", []) + q.getall("product_id", [])
        start = parse_iso(q["start_date"]) if "start_date" in q else 0
        rows = [
            o
            for o in sorted(self.orders.values(), key=lambda o: o.order_id, reverse=True)
            if (not statuses or STATUS[o.status] in statuses)
            and (not products or self.product_id(o.symbol) in products)
            and o.time_ms >= start
        ]
        limit = int(q.get("limit", 100))
        return {
            "orders": [self._order(o) for o in rows[:limit]],
            "sequence": "0",
            "has_next": len(rows) > limit,
            "cursor": "",
        }

    def _fills(self, q: Any) -> dict[str, Any]:
        """Newest first; filters as List Fills: product_id(s), order_ids, sequence timestamps."""
        products = q.getall("product_ids", []) + q.getall("product_id", [])
        order_ids = q.getall("order_ids", []) + q.getall("order_id", [])
        start = parse_iso(q["start_sequence_timestamp"]) if "start_sequence_timestamp" in q else 0
        end = parse_iso(q["end_sequence_timestamp"]) if "end_sequence_timestamp" in q else 2**62
        rows = [
            t
            for t in reversed(self.trades)
            if (not products or self.product_id(t.order.symbol) in products)
            and (not order_ids or self.order_id(t.order) in order_ids)
            and start <= t.time_ms <= end
        ]
        limit = int(q.get("limit", 100))
        return {"fills": [self._fill(t) for t in rows[:limit]], "cursor": ""}

    def _fill(self, t: FakeTrade) -> dict[str, Any]:
        return {
            "entry_id": f"{t.trade_id:064x}",
            "trade_id": self.fill_id(t),
            "order_id": self.order_id(t.order),
            "trade_time": iso(t.time_ms),
            "trade_type": "FILL",
            "price": str(t.price),
            "size": str(t.qty),
            "commission": str(t.commission),
            "product_id": self.product_id(t.order.symbol),
            "sequence_timestamp": iso(t.time_ms),
            "liquidity_indicator": "MAKER" if t.is_maker else "TAKER",
            "size_in_quote": False,
            "user_id": as_uuid(42),
            "side": t.order.side.upper(),
            "retail_portfolio_id": as_uuid(7),
        }

    def _order(self, o: FakeOrder) -> dict[str, Any]:
        if o.type == "market":
            config = {"market_market_ioc": {"base_size": str(o.quantity)}}
        else:
            kind = {"IOC": "sor_limit_ioc", "FOK": "limit_limit_fok"}.get(o.tif, "limit_limit_gtc")
            config = {kind: {"base_size": str(o.quantity), "limit_price": str(o.price)}}
            if kind == "limit_limit_gtc":
                config[kind]["post_only"] = False  # type: ignore[assignment]
        fees = sum((t.commission for t in self.trades if t.order is o), Decimal(0))
        return {
            "order_id": self.order_id(o),
            "product_id": self.product_id(o.symbol),
            "user_id": as_uuid(42),
            "order_configuration": config,
            "side": o.side.upper(),
            "client_order_id": o.client_order_id,
            "status": STATUS[o.status],
            "time_in_force": {"IOC": "IMMEDIATE_OR_CANCEL", "FOK": "FILL_OR_KILL"}.get(
                o.tif, "GOOD_UNTIL_CANCELLED"
            ),
            "created_time": iso(o.time_ms),
            "completion_percentage": str(round(o.executed / o.quantity * 100, 2)),
            "filled_size": str(o.executed),
            "average_filled_price": str(o.average),
            "number_of_fills": str(sum(1 for t in self.trades if t.order is o)),
            "filled_value": str(o.quote),
            "pending_cancel": False,
            "size_in_quote": False,
            "total_fees": str(fees),
            "size_inclusive_of_fees": False,
            "total_value_after_fees": str(o.quote + fees),
            "trigger_status": "INVALID_ORDER_TYPE",
            "order_type": o.type.upper(),
            "reject_reason": "REJECT_REASON_UNSPECIFIED",
            "settled": o.status == "filled",
            "product_type": "SPOT",
            "reject_message": "",
            "cancel_message": "User requested cancel" if o.status == "canceled" else "",
            "order_placement_source": "RETAIL_ADVANCED",
            "outstanding_hold_amount": str(o.remaining * (o.price or 0)) if o.is_open else "0",
            "is_liquidation": False,
            "last_fill_time": None,
        }

    def _v2_accounts(self) -> list[dict[str, Any]]:
        return [
            {
                "id": as_uuid(1000 + i),
                "name": f"{ccy} Wallet",
                "primary": True,
                "type": "fiat" if ccy == "USD" else "wallet",
                "currency": {"code": ccy, "name": ccy},
                "balance": {"amount": str(amount), "currency": ccy},
                "created_at": iso(self.now_ms),
                "updated_at": iso(self.now_ms),
                "resource": "account",
                "resource_path": f"/v2/accounts/{as_uuid(1000 + i)}",
            }
            for i, (ccy, amount) in enumerate(sorted(self.balances.items()))
        ]

    def _held(self, ccy: str) -> Decimal:
        held = Decimal(0)
        for o in self.open_orders():
            base, quote = o.symbol.split("/")
            if o.side == "buy" and quote == ccy:
                held += o.remaining * (o.price or 0)
            elif o.side == "sell" and base == ccy:
                held += o.remaining
        return held

    def _v3_accounts(self) -> list[dict[str, Any]]:
        return [
            {
                "uuid": as_uuid(1000 + i),
                "name": f"{ccy} Wallet",
                "currency": ccy,
                "available_balance": {"value": str(amount - self._held(ccy)), "currency": ccy},
                "default": True,
                "active": True,
                "created_at": iso(self.now_ms),
                "type": "ACCOUNT_TYPE_FIAT" if ccy == "USD" else "ACCOUNT_TYPE_CRYPTO",
                "ready": True,
                "hold": {"value": str(self._held(ccy)), "currency": ccy},
            }
            for i, (ccy, amount) in enumerate(sorted(self.balances.items()))
        ]

    def _product(self, symbol: str) -> dict[str, Any]:
        base, quote = symbol.split("/")
        base_inc, quote_inc, quote_min = increments(base)
        return {
            "product_id": self.product_id(symbol),
            "price": str(self.prices[symbol]),
            "price_percentage_change_24h": "0",
            "volume_24h": "1000",
            "volume_percentage_change_24h": "0",
            "base_increment": base_inc,
            "quote_increment": quote_inc,
            "quote_min_size": quote_min,
            "quote_max_size": "150000000",
            "base_min_size": base_inc,
            "base_max_size": "3400",
            "base_name": base.title(),
            "quote_name": "US Dollar",
            "watched": False,
            "is_disabled": False,
            "new": False,
            "status": "online",
            "cancel_only": False,
            "limit_only": False,
            "post_only": False,
            "trading_disabled": False,
            "auction_mode": False,
            "product_type": "SPOT",
            "quote_currency_id": quote,
            "base_currency_id": base,
            "fcm_trading_session_details": None,
            "mid_market_price": "",
            "alias": "",
            "alias_to": [],
            "base_display_symbol": base,
            "quote_display_symbol": quote,
            "view_only": False,
            "price_increment": quote_inc,
            "display_name": self.product_id(symbol),
            "product_venue": "CBE",
        }

    def _public_trade(self, symbol: str, t: dict[str, Any]) -> dict[str, Any]:
        return {
            "trade_id": str(t["id"]),
            "product_id": self.product_id(symbol),
            "price": t["price"],
            "size": t["qty"],
            "time": iso(t["time"]),
            "side": t["side"].upper(),
            "bid": "",
            "ask": "",
        }

    def _ticker(self, symbol: str, q: dict[str, str]) -> dict[str, Any]:
        start = int(q["start"]) * 1000 if "start" in q else 0
        end = int(q["end"]) * 1000 if "end" in q else 2**62
        trades = [t for t in self.public_trades[symbol] if start <= t["time"] <= end]
        limit = int(q.get("limit", 100))
        p = self.prices[symbol]
        return {
            "trades": [self._public_trade(symbol, t) for t in reversed(trades)][:limit],
            "best_bid": str(p - Decimal("0.01")),
            "best_ask": str(p + Decimal("0.01")),
        }

    def _candles(self, symbol: str, q: dict[str, str]) -> list[dict[str, str]]:
        step = GRANULARITY_S.get(q.get("granularity", "ONE_MINUTE"), 60)
        now_s = self.now_ms // 1000
        start = max(int(q.get("start", now_s - 300 * step)), now_s - 300 * step)
        end = min(int(q.get("end", now_s)), now_s)
        p = str(self.prices[symbol])
        first = start - start % step
        return [
            {"start": str(t), "low": p, "high": p, "open": p, "close": p, "volume": "1"}
            for t in range(end - end % step, first - 1, -step)
        ]

    def _book(self, symbol: str) -> dict[str, Any]:
        bids, asks = self.levels(symbol)
        return {
            "product_id": self.product_id(symbol),
            "bids": [{"price": p, "size": s} for p, s in bids],
            "asks": [{"price": p, "size": s} for p, s in asks],
            "time": iso(self.now_ms),
        }

    # -- websocket ----------------------------------------------------------------------------

    def _envelope(self, channel: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        self._sequence += 1
        return {
            "channel": channel,
            "client_id": "",
            "timestamp": iso(self.now_ms),
            "sequence_num": self._sequence,
            "events": events,
        }

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = await self.open_socket(request)
        self._public[ws] = set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._on_ws_message(ws, json.loads(msg.data))
        finally:
            self._public.pop(ws, None)
            self._private.discard(ws)
            self.forget_socket(ws)
        return ws

    def busiest_second(self) -> int:
        """The most unauthenticated messages taken in any 1 s."""
        times = self.unauthenticated
        return max((sum(1 for u in times[i:] if u - t < 1.0) for i, t in enumerate(times)), default=0)

    def _over_limit(self, data: dict[str, Any]) -> bool:
        """One more unauthenticated message would pass 8 in the last second (per IP)."""
        if data.get("jwt") or data.get("type") not in ("subscribe", "unsubscribe"):
            return False
        now = time.monotonic()
        if sum(1 for t in self.unauthenticated if now - t < 1.0) >= WS_MESSAGES_PER_S:
            self.ws_rate_limited += 1
            return True
        self.unauthenticated.append(now)
        return False

    async def _on_ws_message(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        channel, products = data.get("channel", ""), data.get("product_ids") or []
        if self._over_limit(data):
            if self.over_limit == "close":
                await ws.close(code=1008, message=b"rate limit exceeded")
            else:
                await self.send(ws, {"type": "error", "message": "rate limit exceeded"})
            return
        if data.get("type") == "unsubscribe":
            self._public[ws].difference_update((channel, p) for p in products)
            await self.send(ws, self._envelope("subscriptions", [{"subscriptions": {}}]))
            return
        if data.get("type") != "subscribe":
            await self.send(ws, {"type": "error", "message": "unknown message type"})
            return
        self.subscriptions.append(channel)
        if channel == "user":
            if not self.verify_jwt(str(data.get("jwt", "")), None):
                self.auth_failures += 1
                await self.send(ws, {"type": "error", "message": "authentication failure"})
                return
            self._private.add(ws)
            await self.send(ws, self._envelope("subscriptions", [{"subscriptions": {"user": []}}]))
            snapshot = [self._ws_order(o) for o in self.open_orders()]
            await self.send(ws, self._envelope("user", [{"type": "snapshot", "orders": snapshot}]))
            return
        if self.refused_products.intersection(products):
            await self.send(ws, {"type": "error", "message": "Failed to subscribe"})
            return
        self._public[ws].update((channel, p) for p in products)
        await self.send(ws, self._envelope("subscriptions", [{"subscriptions": {channel: products}}]))
        for product in products:
            if channel == "level2":
                await self.send(ws, self._l2(self.symbol_of(product), "snapshot"))

    def _ws_order(self, o: FakeOrder) -> dict[str, Any]:
        return {
            "order_id": self.order_id(o),
            "client_order_id": o.client_order_id,
            "cumulative_quantity": str(o.executed),
            "leaves_quantity": str(o.remaining if o.is_open else 0),
            "avg_price": str(o.average),
            "total_fees": str(sum((t.commission for t in self.trades if t.order is o), Decimal(0))),
            "status": STATUS[o.status],
            "product_id": self.product_id(o.symbol),
            "creation_time": iso(o.time_ms),
            "order_side": o.side.upper(),
            "order_type": o.type.title(),
            "limit_price": str(o.price or ""),
            "filled_value": str(o.quote),
            "number_of_fills": str(sum(1 for t in self.trades if t.order is o)),
            "cancel_reason": "User requested cancel" if o.status == "canceled" else "",
            "reject_reason": "",
            "time_in_force": "GOOD_UNTIL_CANCELLED",
            "product_type": "SPOT",
        }

    def publish_order(self, order: FakeOrder, trade: FakeTrade | None) -> None:
        message = self._envelope("user", [{"type": "update", "orders": [self._ws_order(order)]}])
        self.push_private(self._private, [message])

    def _l2(self, symbol: str, kind: str) -> dict[str, Any]:
        bids, asks = self.levels(symbol)
        old_bids, old_asks = self._books.get(symbol, ([], []))
        self._books[symbol] = (bids, asks)
        stamp = iso(self.now_ms)

        def side(name: str, now: list[list[str]], before: list[list[str]]) -> list[dict[str, str]]:
            live = {p for p, _ in now}
            gone = [[p, "0"] for p, _ in before if p not in live] if kind == "update" else []
            return [
                {"side": name, "event_time": stamp, "price_level": p, "new_quantity": q}
                for p, q in [*gone, *now]
            ]

        updates = side("bid", bids, old_bids) + side("offer", asks, old_asks)
        event = {"type": kind, "product_id": self.product_id(symbol), "updates": updates}
        return self._envelope("l2_data", [event])

    async def publish_market(self, symbol: str, trade: dict[str, Any]) -> None:
        product = self.product_id(symbol)
        p = self.prices[symbol]
        messages = {
            "ticker": self._envelope(
                "ticker",
                [
                    {
                        "type": "update",
                        "tickers": [
                            {
                                "type": "ticker",
                                "product_id": product,
                                "price": str(p),
                                "volume_24_h": "1000",
                                "low_24_h": str(p),
                                "high_24_h": str(p),
                                "low_52_w": str(p),
                                "high_52_w": str(p),
                                "price_percent_chg_24_h": "0",
                                "best_bid": str(p - Decimal("0.01")),
                                "best_bid_quantity": "1.0",
                                "best_ask": str(p + Decimal("0.01")),
                                "best_ask_quantity": "1.0",
                            }
                        ],
                    }
                ],
            ),
            "market_trades": self._envelope(
                "market_trades", [{"type": "update", "trades": [self._public_trade(symbol, trade)]}]
            ),
        }
        subscribed = [ws for ws, subs in self._public.items() if any(s[1] == product for s in subs)]
        book = self._l2(symbol, "update") if subscribed else None
        for ws in subscribed:
            for channel, _ in [s for s in self._public.get(ws, set()) if s[1] == product]:
                payload = book if channel == "level2" else messages.get(channel)
                if payload is not None:
                    await self.send_public(ws, payload)
