"""A loopback fake Alpaca (trading REST + trade_updates stream + market data) for alpaca-py.

aiohttp in the caller's event loop on 127.0.0.1, random port. One server plays every Alpaca
host, so an adapter points at it with `url_override = fake.url` (trading REST, and the
trade_updates socket at /stream) and `data_url_override = fake.ws_url` (data sockets at
/v2/{feed} and /v1beta3/crypto/us, historical bars over http on the same host).

REST  /v2/account, /v2/assets[/SYM], /v2/clock, /v2/orders (POST, GET list, GET id,
      GET :by_client_order_id, DELETE id), /v2/positions, /v2/account/activities/FILL,
      /v2/stocks/bars, /v1beta3/crypto/us/bars
WS    /stream              JSON: authenticate -> authorized, listen -> trade_updates events
      /v2/iex, /v2/sip     msgpack: connected, auth, subscribe, quotes "q" / trades "t" / bars "b"
      /v1beta3/crypto/us   the same for crypto pairs

Faults on demand: drop_connections, refuse_connections, stall, send_malformed, fail_next
(HTTP 429/5xx), reject_next, delay_next_ack, duplicate_fills, reorder_fills, set_market.
Counters: `orders` (by client id), `fills` (every execution), `duplicate_submissions`.

Everything but the wire format is `FakeMarket`'s: the server, sockets, faults, the order book of
orders, matching and the price pump. Alpaca's rules are its hooks: uuid order and execution ids,
wall-clock times, market orders at the ask / bid and limits crossed by the quote, market hours
(a stock market order while closed waits `accepted`), one cash account, no commission, fills
of a billionth of a share. `AlpacaOrder` / `AlpacaFill` add Alpaca's fields and JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgpack
from aiohttp import WSMsgType, web

from fakes.fake_market import FakeMarket, FakeOrder, FakeTrade, OrderRefused

CENT = Decimal("0.01")
FRACTION = Decimal("0.000000001")


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class FakeAsset:
    symbol: str
    price: Decimal
    fractionable: bool = True
    crypto: bool = False
    tradable: bool = True

    def to_json(self, asset_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": asset_id,
            "class": "crypto" if self.crypto else "us_equity",
            "exchange": "CRYPTO" if self.crypto else "NASDAQ",
            "symbol": self.symbol,
            "name": self.symbol,
            "status": "active",
            "tradable": self.tradable,
            "marginable": not self.crypto,
            "shortable": not self.crypto,
            "easy_to_borrow": not self.crypto,
            "fractionable": self.fractionable,
        }
        if self.crypto:
            body.update(min_order_size="0.0001", min_trade_increment="0.000000001", price_increment="1")
        return body


@dataclass
class AlpacaOrder(FakeOrder):
    """The core's order with Alpaca's own fields and names."""

    stop_price: Decimal | None = None
    extended_hours: bool = False
    crypto: bool = False

    @property
    def id(self) -> str:
        return str(self.order_id)

    @property
    def qty(self) -> Decimal:
        return self.quantity

    @property
    def limit_price(self) -> Decimal | None:
        return self.price

    @property
    def filled_qty(self) -> Decimal:
        return self.executed

    @property
    def time_in_force(self) -> str:
        return self.tif

    @property
    def created_at(self) -> datetime:
        return _at(self.time_ms)

    @property
    def updated_at(self) -> datetime:
        return _at(self.update_ms or self.time_ms)

    def to_json(self) -> dict[str, Any]:
        at = iso(self.created_at)
        avg = None if not self.executed else str((self.quote / self.executed).quantize(CENT))
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": at,
            "updated_at": iso(self.updated_at),
            "submitted_at": at,
            "filled_at": iso(self.updated_at) if self.status == "filled" else None,
            "canceled_at": iso(self.updated_at) if self.status == "canceled" else None,
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"alpaca-asset:{self.symbol}")),
            "symbol": self.symbol,
            "asset_class": "crypto" if self.crypto else "us_equity",
            "notional": None,
            "qty": str(self.quantity),
            "filled_qty": str(self.executed),
            "filled_avg_price": avg,
            "order_class": "simple",
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "time_in_force": self.tif,
            "limit_price": None if self.price is None else str(self.price),
            "stop_price": None if self.stop_price is None else str(self.stop_price),
            "status": self.status,
            "extended_hours": self.extended_hours,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
        }


@dataclass
class AlpacaFill(FakeTrade):
    """The core's trade with Alpaca's names: its execution id and time."""

    @property
    def execution_id(self) -> str:
        return str(self.trade_id)

    @property
    def at(self) -> datetime:
        return _at(self.time_ms)


def alpaca_order(
    order_id: str, cid: str, symbol: str, side: str, type_: str, qty: Decimal, limit_price: Decimal | None,
    stop_price: Decimal | None, tif: str, extended_hours: bool, crypto: bool, created_at: datetime,
) -> AlpacaOrder:  # fmt: skip
    """An order as Alpaca lists it, e.g. one placed on its website before we started."""
    ms = int(created_at.timestamp() * 1000)
    return AlpacaOrder(order_id, cid, symbol, side, type_, qty, limit_price, ms, tif=tif, update_ms=ms,
                       stop_price=stop_price, extended_hours=extended_hours, crypto=crypto)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class FakeAlpaca(FakeMarket):
    """FakeMarket's server and sockets with Alpaca's wire formats and order model."""

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        secret: str = "test-secret-value",
        seed: int = 7,
        assets: tuple[FakeAsset, ...] | None = None,
    ) -> None:
        listed = assets or (
            FakeAsset("AAPL", Decimal("190.00")),
            FakeAsset("MSFT", Decimal("410.00")),
            FakeAsset("BRK.A", Decimal("600000.00"), fractionable=False),
            FakeAsset("BTC/USD", Decimal("60000"), crypto=True),
        )
        super().__init__([a.symbol for a in listed], api_key=api_key, seed=seed)
        self.secret = secret
        self.assets = {a.symbol: a for a in listed}
        self.prices = {s: a.price for s, a in self.assets.items()}
        self.cash = Decimal("100000")
        self.market_is_open = True
        self.trade_ids = itertools.count(1)  # public trade prints on the data sockets
        self._ticks = 0
        self._data: dict[web.WebSocketResponse, dict[str, set[str]]] = {}  # data socket -> subscriptions
        self._trading: set[web.WebSocketResponse] = set()  # listening trade_updates sockets
        self.listen_lag_s = 0.0  # how long a "listen" takes to be taken (a busy Alpaca)
        self._listens_land = asyncio.Event()  # ... unless taken at once (`land_listens`)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, *, tick_interval_s: float = 0.02) -> FakeAlpaca:
        """FakeMarket's start, with Alpaca's faster default tick."""
        await super().start(tick_interval_s=tick_interval_s)
        return self

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/stream", self._ws_trading)
        app.router.add_get("/v2/iex", self._ws_data)
        app.router.add_get("/v2/sip", self._ws_data)
        app.router.add_get("/v1beta3/crypto/us", self._ws_data)
        app.router.add_route("*", "/v2/{tail:.*}", self._http)
        app.router.add_route("*", "/v1beta3/{tail:.*}", self._http)

    def venue_settings(self, **extra: Any) -> Any:
        """A `[venues.alpaca]` table pointing alpaca-py here, with fast reconnects for tests."""
        from tui_trader.config.venues import VenueSettings

        return VenueSettings(
            kind="alpaca",
            paper=extra.pop("paper", True),
            symbols=extra.pop("symbols", ["AAPL", "MSFT", "BRK.A"]),
            crypto_symbols=extra.pop("crypto_symbols", ["BTC/USD"]),
            url_override=self.url,
            data_url_override=self.ws_url,
            stall_after_s=extra.pop("stall_after_s", 0.6),
            backoff_base_s=0.05,
            backoff_cap_s=0.2,
            **extra,
        )

    def land_listens(self) -> None:
        """The listens held by `listen_lag_s` are taken now."""
        self.listen_lag_s = 0.0
        self._listens_land.set()

    def listening(self) -> int:
        """trade_updates sockets that asked to listen and were told so (alpaca-py sends its
        listen without waiting for the answer: a venue that has sent it may not be heard yet)."""
        return len(self._trading)

    # -- faults ------------------------------------------------------------------------------

    def set_market(self, is_open: bool) -> None:
        self.market_is_open = is_open

    # -- Alpaca's rules (FakeMarket's hooks) --------------------------------------------------

    @property
    def fills(self) -> list[AlpacaFill]:
        """Every execution, oldest first."""
        return self.trades  # type: ignore[return-value]

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def stamp(self) -> int:
        return int(time.time() * 1000)  # Alpaca's times are the wall clock

    def new_order_id(self) -> str:
        return self._uuid()

    def new_trade_id(self) -> str:
        return self._uuid()

    def make_order(
        self, order_id: int | str, cid: str, symbol: str, side: str, type_: str, quantity: Decimal,
        price: Decimal | None, time_ms: int, **fields: Any,
    ) -> AlpacaOrder:  # fmt: skip
        return AlpacaOrder(order_id, cid, symbol, side, type_, quantity, price, time_ms, **fields)

    def make_trade(self, order: FakeOrder, qty: Decimal, price: Decimal, time_ms: int) -> AlpacaFill:
        return AlpacaFill(self.new_trade_id(), order, qty, price, time_ms)  # no commission

    def quote(self, symbol: str) -> tuple[Decimal, Decimal]:
        p = self.prices[symbol]
        step = self.price_step(symbol)
        return p - step, p + step

    def price_step(self, symbol: str) -> Decimal:
        return Decimal(1) if self.assets[symbol].crypto else CENT

    def half_step(self, order: FakeOrder) -> Decimal:
        return FRACTION

    def _trades_now(self, order: FakeOrder) -> bool:
        return self.market_is_open or (isinstance(order, AlpacaOrder) and (order.crypto or order.extended_hours))

    def execution_price(self, order: FakeOrder) -> Decimal | None:
        """At the ask for a buy, the bid for a sell; stock market orders wait while closed."""
        if not self._trades_now(order):
            return None
        bid, ask = self.quote(order.symbol)
        return ask if order.side == "buy" else bid

    def crosses(self, order: FakeOrder) -> bool:
        """A limit order is reached by the quote (the ask for a buy), in session (or crypto, or
        flagged extended hours)."""
        if order.type != "limit" or order.price is None or not self._trades_now(order):
            return False
        bid, ask = self.quote(order.symbol)
        return order.price >= ask if order.side == "buy" else order.price <= bid

    def settle(self, trade: FakeTrade) -> None:
        sign = 1 if trade.order.side == "buy" else -1
        self.cash -= sign * trade.qty * trade.price

    def position(self, symbol: str) -> Decimal:
        return sum(
            (f.qty if f.order.side == "buy" else -f.qty for f in self.fills if f.order.symbol == symbol),
            Decimal(0),
        )

    def publish_order(self, order: FakeOrder, trade: FakeTrade | None) -> None:
        """A trade_updates event: new, canceled, or a (partial) fill."""
        if trade is not None:
            event = "fill" if order.status == "filled" else "partial_fill"
        elif order.status == "canceled":
            event = "canceled"
        elif order.status in ("new", "accepted"):
            event = "new"
        else:
            return
        self.push_private(self._trading, [self._update(order, event, trade)])

    def _update(self, order: FakeOrder, event: str, fill: FakeTrade | None = None) -> dict[str, Any]:
        assert isinstance(order, AlpacaOrder)
        data: dict[str, Any] = {
            "event": event,
            "timestamp": iso(_at(fill.time_ms if fill else self.stamp())),
            "order": order.to_json(),
        }
        if fill is not None:
            data.update(
                execution_id=str(fill.trade_id),
                price=str(fill.price),
                qty=str(fill.qty),
                position_qty=str(self.position(order.symbol)),
            )
        return {"stream": "trade_updates", "data": data}

    # -- HTTP --------------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        return web.json_response({"code": code, "message": message}, status=status)

    async def _http(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.log_request(request.method, path)
        fault = self.take_fault(request.method, path)
        if fault is not None and fault.status == 0:  # answered, but after the client gave up
            await asyncio.sleep(fault.delay)
            fault = None
        if fault is not None and fault.status == 429:  # Alpaca's rate limit headers
            reset = math.ceil(time.time() + (1 if fault.retry_after is None else fault.retry_after))
            headers = {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
            return web.json_response({"code": 42910000, "message": "rate limit exceeded"}, status=429, headers=headers)
        if fault is not None:
            return web.Response(status=fault.status, text="Service Unavailable")
        if (
            request.headers.get("APCA-API-KEY-ID") != self.api_key
            or request.headers.get("APCA-API-SECRET-KEY") != self.secret
        ):
            return self._error(401, 40110000, "request is not authorized")
        q = dict(request.query)
        if path in ("/v2/stocks/bars", "/v1beta3/crypto/us/bars"):
            return web.json_response(self._bars(q))
        if path == "/v2/account":
            return web.json_response(self._account())
        if path == "/v2/clock":
            return web.json_response(self._clock())
        if path == "/v2/assets":
            return web.json_response([a.to_json(self._asset_id(s)) for s, a in self.assets.items()])
        if path.startswith("/v2/assets/"):
            symbol = path.removeprefix("/v2/assets/")
            asset = self.assets.get(symbol) or self.assets.get(self._slash(symbol))
            if asset is None:
                return self._error(404, 40410000, "asset not found")
            return web.json_response(asset.to_json(self._asset_id(asset.symbol)))
        if path == "/v2/positions":
            return web.json_response(self._positions())
        if path == "/v2/account/activities/FILL":
            return web.json_response(self._activities(q))
        if path == "/v2/orders:by_client_order_id":
            order = self.orders.get(q.get("client_order_id", ""))
            if order is None:
                return self._error(404, 40410000, "order not found")
            return web.json_response(order.to_json())  # type: ignore[attr-defined]
        if path == "/v2/orders" and request.method == "POST":
            return await self._create(await request.json())
        if path == "/v2/orders" and request.method == "GET":
            return web.json_response(self._list_orders(q))
        if path.startswith("/v2/orders/"):
            oid = path.removeprefix("/v2/orders/")
            order = self.by_order_id(oid)
            if order is None:
                return self._error(404, 40410000, "order not found")
            if request.method == "DELETE":
                if not self.cancel(order):
                    return self._error(422, 42210000, "order is not cancelable")
                return web.Response(status=204)
            return web.json_response(order.to_json())  # type: ignore[attr-defined]
        return self._error(404, 40400000, f"fake alpaca has no {request.method} {path}")

    def _slash(self, symbol: str) -> str:
        return next((s for s in self.assets if s.replace("/", "") == symbol), symbol)

    def _asset_id(self, symbol: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"alpaca-asset:{symbol}"))

    async def _create(self, body: dict[str, Any]) -> web.Response:
        symbol = self._slash(body.get("symbol", ""))
        asset = self.assets.get(symbol)
        if asset is None:
            return self._error(422, 40010001, f"asset {body.get('symbol')} not found")
        qty = Decimal(str(body["qty"]))
        typ, tif = body.get("type"), body.get("time_in_force")
        fractional = qty != qty.to_integral_value()
        if fractional and not asset.fractionable:
            return self._error(422, 40010001, f"asset {symbol} is not fractionable")
        if fractional and not asset.crypto and tif != "day":
            return self._error(422, 40010001, "fractional orders must be DAY orders")
        if body.get("extended_hours") and (typ != "limit" or tif != "day"):
            return self._error(422, 40010001, "extended hours order must be DAY limit orders")
        if asset.crypto and tif not in ("gtc", "ioc"):
            return self._error(422, 40010001, "invalid crypto time_in_force")
        try:
            order = self.place(
                symbol, body["side"], str(typ), qty,
                None if body.get("limit_price") is None else Decimal(str(body["limit_price"])),
                body.get("client_order_id") or self._uuid(),
                tif=str(tif),
                stop_price=None if body.get("stop_price") is None else Decimal(str(body["stop_price"])),
                extended_hours=bool(body.get("extended_hours")),
                crypto=asset.crypto,
            )  # fmt: skip
        except OrderRefused as exc:
            if exc.kind == "duplicate":
                return self._error(422, 40010001, "client_order_id must be unique")
            return self._error(403, 40310000, "insufficient buying power")
        if self.take_duplicate_answer():  # made, but the answer is the uniqueness refusal
            return self._error(422, 40010001, "client_order_id must be unique")
        answer = order.to_json()  # type: ignore[attr-defined]
        answer["status"] = "new" if order.status != "accepted" else "accepted"
        if delay := self.take_ack_delay():
            await asyncio.sleep(delay)
        return web.json_response(answer)

    def _list_orders(self, q: dict[str, str]) -> list[dict[str, Any]]:
        status = q.get("status", "open")
        rows = [
            o for o in self.orders.values()
            if status == "all" or (status == "open") == o.is_open
        ]
        rows.sort(key=lambda o: o.time_ms, reverse=True)
        return [o.to_json() for o in rows[: int(q.get("limit") or 50)]]  # type: ignore[attr-defined]

    def _account(self) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "alpaca-account")),
            "account_number": "PA0000FAKE",
            "status": "ACTIVE",
            "crypto_status": "ACTIVE",
            "currency": "USD",
            "cash": str(self.cash),
            "buying_power": str(self.cash * 2),
            "non_marginable_buying_power": str(self.cash),
            # as documented: equity = cash + long_market_value + short_market_value
            "long_market_value": str(sum((v for v in self._values() if v > 0), Decimal(0))),
            "short_market_value": str(sum((v for v in self._values() if v < 0), Decimal(0))),
            "portfolio_value": str(self.cash + sum(self._values(), Decimal(0))),
            "equity": str(self.cash + sum(self._values(), Decimal(0))),
            "last_equity": str(self.cash),
            "pattern_day_trader": False,
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "trade_suspended_by_user": False,
            "multiplier": "2",
            "shorting_enabled": True,
            "daytrade_count": 0,
            "created_at": "2024-01-02T00:00:00Z",
        }

    def _clock(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        if self.market_is_open:
            return {"timestamp": iso(now), "is_open": True,
                    "next_open": iso(now + timedelta(hours=20)), "next_close": iso(now + timedelta(hours=4))}
        return {"timestamp": iso(now), "is_open": False,
                "next_open": iso(now + timedelta(hours=4)), "next_close": iso(now + timedelta(hours=10))}

    def _values(self) -> list[Decimal]:
        """Each position's market value (negative short)."""
        return [self.position(s) * self.prices[s] for s in self.assets if self.position(s)]

    def _positions(self) -> list[dict[str, Any]]:
        out = []
        for symbol, asset in self.assets.items():
            qty = self.position(symbol)
            if not qty:
                continue
            price = self.prices[symbol]
            out.append({
                "asset_id": self._asset_id(symbol), "symbol": symbol.replace("/", ""),
                "exchange": "CRYPTO" if asset.crypto else "NASDAQ",
                "asset_class": "crypto" if asset.crypto else "us_equity",
                "avg_entry_price": str(price), "qty": str(abs(qty)), "side": "long" if qty > 0 else "short",
                "market_value": str(qty * price), "cost_basis": str(qty * price),
            })
        return out

    def _activity(self, f: AlpacaFill) -> dict[str, Any]:
        o = f.order
        assert isinstance(o, AlpacaOrder)
        return {
            "id": f"{f.at.strftime('%Y%m%d%H%M%S%f')}::{f.execution_id}",
            "account_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "alpaca-account")),
            "activity_type": "FILL",
            "transaction_time": iso(f.at),
            "type": "fill" if o.filled_qty >= o.qty else "partial_fill",
            "price": str(f.price),
            "qty": str(f.qty),
            "side": o.side,
            "symbol": o.symbol,
            "leaves_qty": str(o.qty - o.filled_qty),
            "order_id": o.id,
            "cum_qty": str(o.filled_qty),
            "order_status": o.status,
        }

    def _activities(self, q: dict[str, str]) -> list[dict[str, Any]]:
        after = datetime.fromisoformat(q["after"].replace("Z", "+00:00")) if q.get("after") else None
        rows = [self._activity(f) for f in self.fills if after is None or f.at > after]
        if q.get("page_token"):
            ids = [r["id"] for r in rows]
            if q["page_token"] in ids:
                rows = rows[ids.index(q["page_token"]) + 1 :]
        return rows[: int(q.get("page_size") or 100)]

    def _bars(self, q: dict[str, str]) -> dict[str, Any]:
        """Deterministic minute bars from `start`, never past now (the forming bar included)."""
        symbol = self._slash(q.get("symbols", ""))
        if symbol not in self.assets:
            return {"bars": {}, "next_page_token": None}
        unit = {"Min": 60, "Hour": 3600, "Day": 86400}
        tf = q.get("timeframe", "1Min")
        amount = int("".join(ch for ch in tf if ch.isdigit()) or 1)
        step = timedelta(seconds=amount * unit["".join(ch for ch in tf if ch.isalpha())])
        now = datetime.now(UTC)
        start = datetime.fromisoformat(q["start"].replace("Z", "+00:00")) if q.get("start") else now - step * 10
        epoch = datetime(2000, 1, 1, tzinfo=UTC)
        start = epoch + ((start - epoch) // step) * step
        rng = random.Random(f"{symbol}:{start.isoformat()}")
        price = float(self.prices[symbol])
        bars = []
        t = start
        while t <= now and len(bars) < int(q.get("limit") or 1000):
            o = price
            price += rng.choice((-1, 0, 1)) * 0.05
            bars.append({"t": iso(t), "o": o, "h": max(o, price) + 0.02, "l": min(o, price) - 0.02,
                         "c": price, "v": 100 + rng.randrange(100), "n": 10, "vw": (o + price) / 2})
            t += step
        return {"bars": {q.get("symbols", symbol): bars}, "next_page_token": None}

    # -- websockets --------------------------------------------------------------------------

    async def _ws_trading(self, request: web.Request) -> web.StreamResponse:
        if self.refusing:
            return web.Response(status=503, text="stream unavailable")
        ws = await self.open_socket(request)
        authorized = False
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                data = json.loads(msg.data)
                if data.get("action") == "authenticate":
                    creds = data.get("data") or {}
                    authorized = creds.get("key_id") == self.api_key and creds.get("secret_key") == self.secret
                    status = "authorized" if authorized else "unauthorized"
                    await ws.send_str(json.dumps(
                        {"stream": "authorization", "data": {"action": "authenticate", "status": status}}
                    ))
                elif data.get("action") == "listen" and authorized:
                    if self.listen_lag_s:  # no trade update reaches this socket meanwhile
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._listens_land.wait(), self.listen_lag_s)
                    self._trading.add(ws)
                    await ws.send_str(json.dumps({"stream": "listening", "data": {"streams": ["trade_updates"]}}))
        finally:
            self._trading.discard(ws)
            self.forget_socket(ws)
        return ws

    async def _ws_data(self, request: web.Request) -> web.StreamResponse:
        if self.refusing:
            return web.Response(status=503, text="stream unavailable")
        ws = await self.open_socket(request)
        await ws.send_bytes(msgpack.packb([{"T": "success", "msg": "connected"}]))
        subs: dict[str, set[str]] = {"quotes": set(), "trades": set(), "bars": set()}
        try:
            async for msg in ws:
                if msg.type != WSMsgType.BINARY:
                    continue
                data = msgpack.unpackb(msg.data)
                if data.get("action") == "auth":
                    if data.get("key") == self.api_key and data.get("secret") == self.secret:
                        await ws.send_bytes(msgpack.packb([{"T": "success", "msg": "authenticated"}]))
                    else:
                        await ws.send_bytes(msgpack.packb([{"T": "error", "code": 402, "msg": "auth failed"}]))
                        await ws.close()
                elif data.get("action") == "subscribe":
                    for channel in subs:
                        subs[channel].update(s for s in data.get(channel, []) if s in self.assets)
                    self._data[ws] = subs
                    ack = {"T": "subscription", **{k: sorted(v) for k, v in subs.items()}}
                    await ws.send_bytes(msgpack.packb([ack]))
        finally:
            self._data.pop(ws, None)
            self.forget_socket(ws)
        return ws

    def _spawn(self, coro: Any) -> None:
        """Send on a data socket (msgpack bytes) in the background, errors ignored."""
        async def guarded() -> None:
            with contextlib.suppress(Exception):
                await coro

        task = asyncio.ensure_future(guarded())
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def publish_tick(self, prints: dict[str, dict[str, Any]]) -> None:
        """FakeMarket moved every price and crossed the resting orders: one msgpack frame of
        quotes and trades (and minute bars every tenth tick) to each data socket."""
        self._ticks += 1
        if self._malformed:
            for ws in list(self._data):
                self._spawn(ws.send_bytes(b"\xc1\xc1 not msgpack"))
            for ws in list(self._trading):
                self._spawn(ws.send_str("{not json"))
            self._malformed -= 1
        now = msgpack.Timestamp.from_datetime(datetime.now(UTC))
        for ws, subs in list(self._data.items()):
            frame = []
            for symbol in subs["quotes"]:
                bid, ask = self.quote(symbol)
                frame.append({"T": "q", "S": symbol, "bx": "V", "bp": float(bid), "bs": 3.0, "ax": "V",
                              "ap": float(ask), "as": 2.0, "c": ["R"], "z": "C", "t": now})
            for symbol in subs["trades"]:
                frame.append({"T": "t", "S": symbol, "i": next(self.trade_ids), "x": "V",
                              "p": float(self.prices[symbol]), "s": 5.0, "c": ["@"], "z": "C", "t": now})
            if self._ticks % 10 == 1:
                minute = msgpack.Timestamp.from_datetime(datetime.now(UTC).replace(second=0, microsecond=0))
                for symbol in subs["bars"]:
                    p = float(self.prices[symbol])
                    frame.append({"T": "b", "S": symbol, "o": p, "h": p, "l": p, "c": p, "v": 10.0,
                                  "t": minute, "n": 3, "vw": p})
            if frame:
                self._spawn(ws.send_bytes(msgpack.packb(frame)))
