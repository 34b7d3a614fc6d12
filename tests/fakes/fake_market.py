"""The exchange-agnostic heart of every fake exchange: prices, balances, orders, matching, faults.

Each fake (Binance, OKX, Bybit ...) is a thin wire layer over `FakeMarket`: it turns REST
requests into `place` / `cancel` / lookups, and turns the market's callbacks into that
exchange's own message formats:

- `publish_order(order, trade)`  an order changed (new, filled, cancelled); `trade` is the
  fill that changed it, if any. Wire layers build their private-stream message(s) and hand
  them to `push_private`, which applies the duplicate / reorder / stall faults.
- `publish_market(symbol, trade)` one market tick: a public trade printed, prices moved.

Symbols are unified ("BTC/USDT"); sides "buy" / "sell"; types "limit" / "market"; statuses
"new", "accepted" (queued, e.g. a market order while the market is closed), "partially_filled",
"filled", "canceled". Every wire layer maps these to its own words.

What differs between exchanges' rules is a hook with a spot-crypto default: `stamp` (event
times: a simulated clock, or the wall clock), `new_order_id` / `new_trade_id` (counters, or
uuids), `make_order` / `make_trade` (a subclass with the exchange's own fields), `fee`,
`execution_price` (where a market order fills, or None while it cannot), `crosses` (whether a
resting limit is reached), `settle` (balances per currency, or one cash account),
`price_step`, `half_step`, and `publish_tick` (one tick's market data, all symbols at once).

The exchange's clock (`now_ms`) is the wall clock, as a venue's server is and as the client
reads its own: a client back from a drop asks for the candles since its last one up to its now,
and an exchange whose bars were stamped from a fixed date would have it read months back, page
after page (seconds in every drop test). It moves at least a tick each tick and a ms each event
(events stay ordered). A test that needs a date of its own passes `start_ms`: a simulated clock
from there, only those steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from fakes.faults import FaultSwitches, HttpFault
from fakes.serve import serve_loopback

FEE_RATE = Decimal("0.001")
OPEN = ("new", "accepted", "partially_filled")


def wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class FakeOrder:
    order_id: int | str
    client_order_id: str
    symbol: str  # unified, BTC/USDT
    side: str  # buy / sell
    type: str  # limit / market
    quantity: Decimal
    price: Decimal | None
    time_ms: int
    status: str = "new"
    executed: Decimal = Decimal(0)
    quote: Decimal = Decimal(0)
    tif: str = "GTC"
    update_ms: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.executed

    @property
    def average(self) -> Decimal:
        return self.quote / self.executed if self.executed else Decimal(0)


@dataclass
class FakeTrade:
    trade_id: int | str
    order: FakeOrder
    qty: Decimal
    price: Decimal
    time_ms: int
    commission: Decimal = field(default=Decimal(0))
    made_at: float = field(default_factory=time.monotonic)  # wall clock, for soak diagnostics

    @property
    def is_maker(self) -> bool:
        return self.order.type == "limit"


class OrderRefused(Exception):
    """The fake refuses an order; the wire layer turns `kind` into the exchange's error."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "duplicate" or "insufficient"


class FakeMarket(FaultSwitches):
    """Prices that walk, a shallow book around them, orders that fill; no wire format."""

    # Binance: "newClientOrderId: a unique id among open orders". Where true, a client id of a
    # finished order is accepted again, as a second order: the fake counts it in `made_twice`.
    client_id_unique_among_open_only = False

    def __init__(
        self,
        symbols: Iterable[str] = ("BTC/USDT", "ETH/USDT"),
        *,
        api_key: str = "test-key",
        seed: int = 7,
        start_ms: int | None = None,
    ) -> None:
        self._init_faults()
        self.symbols = list(symbols)
        self.api_key = api_key
        self.rng = random.Random(seed)
        self.follows_wall_clock = start_ms is None
        self.now_ms = wall_ms() if start_ms is None else start_ms
        self.prices: dict[str, Decimal] = {
            s: Decimal("100.00") * (i + 1) for i, s in enumerate(self.symbols)
        }
        self.balances: dict[str, Decimal] = {
            "USDT": Decimal("1000000"),
            **{s.split("/")[0]: Decimal("1000") for s in self.symbols},
        }
        self.orders: dict[str, FakeOrder] = {}  # by client order id
        self.trades: list[FakeTrade] = []
        self.public_trades: dict[str, list[dict[str, Any]]] = {s: [] for s in self.symbols}
        self.duplicate_submissions = 0  # refused as duplicates (harmless)
        self.made_twice: list[str] = []  # client ids accepted a second time: an order sent twice
        self.replaced: list[FakeOrder] = []  # the first orders of those ids
        self.requests: list[tuple[str, str]] = []
        self.request_times: list[tuple[float, str, str]] = []  # (monotonic, method, path)
        self.tick_interval_s = 0.05
        self.public_trade_ids = itertools.count(1)  # tests may renumber them
        self._order_ids = itertools.count(1000)
        self._trade_ids = itertools.count(1)
        self._sockets: set[web.WebSocketResponse] = set()
        self.refusing = False  # new sockets answered HTTP 503 (`refuse_connections`)
        self._sending: set[asyncio.Future[None]] = set()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._pump: asyncio.Task[None] | None = None

    # -- what a wire layer provides -------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def publish_order(self, order: FakeOrder, trade: FakeTrade | None) -> None:
        """An order changed; push the exchange's private message(s) with `push_private`."""

    async def publish_market(self, symbol: str, trade: dict[str, Any]) -> None:
        """One tick: push the exchange's public messages."""

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, *, tick_interval_s: float = 0.05) -> Any:
        app = web.Application()
        self.routes(app)
        self._runner, self._port = await serve_loopback(app)
        self.tick_interval_s = tick_interval_s
        self._pump = asyncio.create_task(self._market_pump(), name=f"{type(self).__name__}-pump")
        return self

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}"

    async def open_socket(self, request: web.Request) -> web.WebSocketResponse:
        """Accept a websocket and track it for `drop_connections` and `stop`; the handler
        calls `forget_socket` in its `finally`."""
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self._sockets.add(ws)
        return ws

    def forget_socket(self, ws: web.WebSocketResponse) -> None:
        self._sockets.discard(ws)

    @staticmethod
    async def json_frames(ws: web.WebSocketResponse) -> AsyncIterator[Any]:
        """Each text frame the client sends, decoded; other frames are skipped."""
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                yield json.loads(msg.data)

    async def drop_connections(self) -> None:
        """Close every websocket abruptly (the exchange restarting, a NAT timeout ...)."""
        self.faults_injected.append("drop")
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1006)

    def refuse_connections(self, on: bool = True) -> None:
        """New sockets get HTTP 503 (the stream host is down; REST still answers): each
        reconnect attempt fails until it is called with False. The wire layer's socket
        handlers answer so while `refusing`."""
        if on:
            self.faults_injected.append("refuse")
        self.refusing = on

    def take_http_fault(self, method: str = "", path: str = "") -> int | None:
        """The status of the next injected HTTP fault (429, 418, 5xx) for this request, or None."""
        fault = self.take_fault(method, path)
        return None if fault is None else fault.status

    def take_fault(self, method: str = "", path: str = "") -> HttpFault | None:
        """The next injected HTTP fault this request matches (it is used up), or None."""
        for i, fault in enumerate(self._http_faults):
            if fault.matches(method, path):
                return self._http_faults.pop(i)
        return None

    def log_request(self, method: str, path: str) -> None:
        self.requests.append((method, path))
        self.request_times.append((time.monotonic(), method, path))

    def server_time_ms(self) -> int:
        """The exchange's clock (the true time plus any injected skew), for signed requests."""
        return int(time.time() * 1000) + self.clock_skew_ms

    # -- trading --------------------------------------------------------------------------

    def place(
        self,
        symbol: str,
        side: str,
        type_: str,
        quantity: Decimal,
        price: Decimal | None,
        client_order_id: str | None,
        *,
        tif: str = "GTC",
        **extra: Any,
    ) -> FakeOrder:
        """Accept an order (market orders fill at once, in two halves); raises OrderRefused.
        `extra` goes to `make_order` (an exchange's own order fields)."""
        cid = client_order_id or f"fake-{next(self._order_ids)}"
        earlier = self.orders.get(cid)
        if earlier is not None and (earlier.is_open or not self.client_id_unique_among_open_only):
            self.duplicate_submissions += 1
            raise OrderRefused("duplicate", f"duplicate client order id {cid}")
        if earlier is not None:  # accepted again: the exchange now has two orders for one id
            self.made_twice.append(cid)
            self.replaced.append(earlier)
        if self._reject_next:
            self._reject_next -= 1
            raise OrderRefused("insufficient", "insufficient balance for requested action")
        at = self.stamp()
        order = self.make_order(self.new_order_id(), cid, symbol, side, type_, quantity, price, at, tif=tif, **extra)
        order.update_ms = at
        self.orders[cid] = order
        self.publish_order(order, None)
        if type_ == "market":
            fill_at = self.execution_price(order)
            if fill_at is None:  # it cannot fill now (the market is closed): queued
                order.status = "accepted"
                return order
            half = (quantity / 2).quantize(self.half_step(order))
            for qty in [half, quantity - half] if half > 0 else [quantity]:
                self._execute(order, qty, fill_at)
        else:
            self._cross(symbol)
        return order

    def take_ack_delay(self) -> float:
        """Seconds to hold the next order's HTTP answer (the delayed-ack fault), else 0."""
        if not self._ack_delay_count:
            return 0.0
        self._ack_delay_count -= 1
        return self._ack_delay_s

    def cancel(self, order: FakeOrder) -> bool:
        if not order.is_open:
            return False
        order.status = "canceled"
        order.update_ms = self.stamp()
        self.publish_order(order, None)
        return True

    def amend(self, order: FakeOrder, quantity: Decimal | None, price: Decimal | None) -> None:
        if quantity is not None:
            order.quantity = quantity
        if price is not None:
            order.price = price
        order.update_ms = self.stamp()
        self.publish_order(order, None)
        self._cross(order.symbol)

    def by_order_id(self, order_id: str | int) -> FakeOrder | None:
        return next((o for o in self.orders.values() if str(o.order_id) == str(order_id)), None)

    def open_orders(self, symbol: str | None = None) -> list[FakeOrder]:
        return [o for o in self.orders.values() if o.is_open and symbol in (None, o.symbol)]

    def set_price(self, symbol: str, price: Decimal | str) -> None:
        self.prices[symbol] = Decimal(str(price))
        self._cross(symbol)

    def fill(
        self, client_order_id: str, qty: Decimal | None = None, price: Decimal | None = None
    ) -> FakeTrade:
        """Fill (part of) a working order now, e.g. a limit order the market reached."""
        order = self.orders[client_order_id]
        qty = order.remaining if qty is None else qty
        return self._execute(order, qty, price or order.price or self.prices[order.symbol])

    def _execute(self, order: FakeOrder, qty: Decimal, price: Decimal) -> FakeTrade:
        trade = self.make_trade(order, qty, price, self.stamp())
        order.executed += qty
        order.quote += qty * price
        order.status = "filled" if order.executed >= order.quantity else "partially_filled"
        order.update_ms = trade.time_ms
        self.trades.append(trade)
        self.settle(trade)
        self.publish_order(order, trade)
        return trade

    def _cross(self, symbol: str) -> None:
        for order in list(self.orders.values()):
            if order.symbol == symbol and order.is_open and order.price is not None and self.crosses(order):
                self._execute(order, order.remaining, order.price)

    # -- an exchange's own rules (defaults: a spot crypto exchange) ---------------------------

    def stamp(self) -> int:
        """The exchange time of the next event, in ms: its clock, at least one ms later."""
        return self.advance(1)

    def advance(self, ms: int) -> int:
        """Move the exchange's clock `ms` on, and up to the wall clock where it follows it."""
        self.now_ms += ms
        if self.follows_wall_clock:
            self.now_ms = max(self.now_ms, wall_ms())
        return self.now_ms

    def new_order_id(self) -> int | str:
        return next(self._order_ids)

    def new_trade_id(self) -> int | str:
        return next(self._trade_ids)

    def make_order(
        self, order_id: int | str, cid: str, symbol: str, side: str, type_: str, quantity: Decimal,
        price: Decimal | None, time_ms: int, **fields: Any,
    ) -> FakeOrder:  # fmt: skip
        return FakeOrder(order_id, cid, symbol, side, type_, quantity, price, time_ms, **fields)

    def make_trade(self, order: FakeOrder, qty: Decimal, price: Decimal, time_ms: int) -> FakeTrade:
        return FakeTrade(self.new_trade_id(), order, qty, price, time_ms, self.fee(order, qty, price))

    def fee(self, order: FakeOrder, qty: Decimal, price: Decimal) -> Decimal:
        return (qty * price * FEE_RATE).quantize(Decimal("0.00000001"))

    def execution_price(self, order: FakeOrder) -> Decimal | None:
        """Where a market order fills now; None when it cannot (it waits, `accepted`)."""
        return self.prices[order.symbol]

    def crosses(self, order: FakeOrder) -> bool:
        """Whether the market reaches a resting limit order now (the last price, by default)."""
        price = self.prices[order.symbol]
        assert order.price is not None
        return (order.side == "buy" and price <= order.price) or (order.side == "sell" and price >= order.price)

    def settle(self, trade: FakeTrade) -> None:
        """Move the balances: the base currency one way, the quote and the fee the other."""
        order = trade.order
        base, quote = order.symbol.split("/")
        sign = 1 if order.side == "buy" else -1
        self.balances[base] = self.balances.get(base, Decimal(0)) + sign * trade.qty
        self.balances[quote] = (
            self.balances.get(quote, Decimal(0)) - sign * trade.qty * trade.price - trade.commission
        )

    def price_step(self, symbol: str) -> Decimal:
        """How far a price moves at most a tick is twice this (and the lowest it may go)."""
        return Decimal("0.01")

    def half_step(self, order: FakeOrder) -> Decimal:
        """The quantity step a market order is split in two halves at."""
        return Decimal("0.00001")

    def trades_for(self, symbol: str | None = None) -> list[FakeTrade]:
        return [t for t in self.trades if symbol in (None, t.order.symbol)]

    # -- market data ----------------------------------------------------------------------

    def levels(self, symbol: str, depth: int = 5) -> tuple[list[list[str]], list[list[str]]]:
        """Bids and asks as [price, size] strings, one cent apart around the price."""
        p = self.prices[symbol]
        bids = [[str(p - Decimal("0.01") * (i + 1)), "1.0"] for i in range(depth)]
        asks = [[str(p + Decimal("0.01") * (i + 1)), "1.0"] for i in range(depth)]
        return bids, asks

    def candle_start(self, step_ms: int) -> int:
        return self.now_ms - self.now_ms % step_ms

    async def _market_pump(self) -> None:
        """Move prices, print trades, cross resting orders and publish every tick."""
        while True:
            await asyncio.sleep(self.tick_interval_s)
            self.advance(int(self.tick_interval_s * 1000))
            prints: dict[str, dict[str, Any]] = {}
            for symbol in list(self.prices):
                tick = self.price_step(symbol)
                step = Decimal(self.rng.choice((-2, -1, 0, 1, 2))) * tick
                self.prices[symbol] = max(tick, self.prices[symbol] + step)
                tid = next(self.public_trade_ids)
                trade = {
                    "id": tid,
                    "price": str(self.prices[symbol]),
                    "qty": "0.5",
                    "time": self.now_ms,
                    "side": "sell" if tid % 2 else "buy",
                }
                self.public_trades[symbol].append(trade)
                del self.public_trades[symbol][:-1000]
                self._cross(symbol)
                prints[symbol] = trade
            if not self._stalled:
                await self.publish_tick(prints)

    async def publish_tick(self, prints: dict[str, dict[str, Any]]) -> None:
        """One tick's market data, every symbol's print: by default one `publish_market` each."""
        for symbol, trade in prints.items():
            await self.publish_market(symbol, trade)

    # -- sending --------------------------------------------------------------------------

    def push_private(self, sockets: Iterable[web.WebSocketResponse], messages: list[Any]) -> None:
        """Send private messages, with the duplicate / reorder / stall faults applied."""
        if self._duplicate_fills and messages:
            messages = [*messages, messages[-1]]
        if self._reorder_fills:
            messages = list(reversed(messages))
        if self._stalled or self._private_stalled:
            return  # lost on the wire: reconciliation must find these fills over REST
        for ws in list(sockets):
            for message in messages:
                task = asyncio.ensure_future(self.send(ws, message))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)

    async def send_public(self, ws: web.WebSocketResponse, payload: Any) -> None:
        """Send one public message, preceded by garbage if the malformed fault is on."""
        if self._malformed:
            self._malformed -= 1
            await self.send(ws, "{not json")
        await self.send(ws, payload)

    @staticmethod
    async def send(ws: web.WebSocketResponse, payload: Any) -> None:
        with contextlib.suppress(Exception):
            await ws.send_str(payload if isinstance(payload, str) else json.dumps(payload))
