"""AlpacaVenue: US stocks and crypto through alpaca-py behind the `Venue` protocol.

- REST (trading, assets, clock, bars, activities) is synchronous in alpaca-py: every call runs
  in a worker thread (`asyncio.to_thread`) with a request timeout, so the loop never blocks.
- The three sockets (trade updates, stock data, crypto data) are alpaca-py stream objects
  driven by our own loop: alpaca-py connects, authenticates, subscribes and decodes; we own
  reconnects (one venue-wide reconnect with backoff and jitter through `ConnectionMonitor`),
  stall detection and the connection state. The first message after a reconnect marks the
  venue connected, which makes the engine reconcile orders and fills by client order id.
- Market hours come from the clock endpoint. Outside the regular session market orders are
  refused; with `extended_hours = true` limit orders go out with `extended_hours=True`.
- Fill ids are the trade update's execution id (and the same id inside a FILL activity), so a
  fill seen on the stream and again by reconciliation counts once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.enums import AssetClass, ConnectionState, OrderStatus, OrderType, TimeInForce
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import (
    BookEvent,
    CandleEvent,
    ExecutionReport,
    TickerEvent,
    TradeEvent,
)
from tui_trader.core.fills import Fill
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Candle
from tui_trader.core.orders import Order
from tui_trader.core.positions import Balance
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues.alpaca import convert
from tui_trader.venues.alpaca.hours import MarketClock
from tui_trader.venues.base import Emit, VenueCapabilities, VenueError, VenueOrder
from tui_trader.venues.resilience import Backoff, ConnectionMonitor, TokenBucket

log = logging.getLogger(__name__)

FILL_LOOKBACK = timedelta(days=7)  # reconciliation with no `since`: fills this far back
SEEN_FILLS = 10_000  # execution ids remembered for stream dedupe


def _quiet_loggers() -> None:
    """alpaca-py sends keys in headers and the ws auth frame; `websockets` logs frames at DEBUG."""
    for name in ("alpaca", "websockets"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


def _timeout_session(timeout_s: float) -> Any:
    """alpaca-py's requests session has no timeout: a lost answer would hang a thread forever."""
    import requests

    class TimeoutSession(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", timeout_s)
            return super().request(*args, **kwargs)

    return TimeoutSession()


def _host(url: str, scheme_map: dict[str, str]) -> str:
    parts = urlsplit(url)
    return f"{scheme_map.get(parts.scheme, parts.scheme)}://{parts.netloc}"


class AlpacaVenue:
    kind = "alpaca"

    def __init__(
        self,
        name: str,
        settings: VenueSettings,
        clock: Clock,
        *,
        credentials: Credentials | None = None,
        stall_after_s: float | None = None,
        backoff: Backoff | None = None,
        order_rate: float | None = None,
        max_submit_attempts: int = 4,
        rest_timeout_s: float = 10.0,
        clock_refresh_s: float = 60.0,
    ) -> None:
        if settings.feed not in ("iex", "sip"):
            raise ConfigError(f'venues.{name}.feed: {settings.feed!r} is not an Alpaca stock feed; use "iex" or "sip"')
        self.name = name
        self.settings = settings
        self.clock = clock
        self.is_live = settings.is_live
        self._credentials = credentials or Credentials()
        self.capabilities = VenueCapabilities(
            stop=True, stop_limit=True, trailing_stop=False, post_only=False, ioc_fok=True, shorting=True
        )
        self.monitor = ConnectionMonitor(
            name,
            clock,
            stall_after_s=stall_after_s or settings.stall_after_s,
            backoff=backoff or Backoff(settings.backoff_base_s, settings.backoff_cap_s),
        )
        self.monitor.on_recovered(self._backfill)
        rate = order_rate or settings.order_rate_per_s
        self.order_bucket = TokenBucket(rate, max(1.0, rate * 2))
        self.max_submit_attempts = max_submit_attempts
        self.rest_timeout_s = rest_timeout_s
        self.clock_refresh_s = clock_refresh_s
        self.hours = MarketClock()
        self.instruments: dict[str, Instrument] = {}
        self._crypto_ids: dict[str, str] = {s.replace("/", ""): s for s in settings.crypto_symbols}
        self._trading: Any = None
        self._stock_data: Any = None
        self._crypto_data: Any = None
        self._emit: Emit = lambda event: None
        self._streams: dict[str, Any] = {}  # "trading" | "stocks" | "crypto" -> alpaca-py stream
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._ready: set[str] = set()
        self._dead: set[str] = set()  # stopped for good (bad keys, no subscription)
        self._generation = 0
        self._reconnect_lock = asyncio.Lock()
        self._closing = False
        self._clock_at = 0.0
        self._cid_by_vid: dict[str, str] = {}
        self._seen: set[str] = set()
        self._seen_order: deque[str] = deque()
        self._last_price: dict[str, float] = {}
        self._mid: dict[str, float] = {}
        self._last_bar: dict[str, datetime] = {}
        self.counters = {
            "reconnects": 0,
            "rate_limited": 0,
            "submit_retries": 0,
            "found_by_client_id": 0,
            "duplicate_fills": 0,
            "malformed": 0,
        }

    # -- clients -------------------------------------------------------------------------------

    def _make_clients(self) -> None:
        from alpaca.data.historical import CryptoHistoricalDataClient, StockHistoricalDataClient
        from alpaca.trading.client import TradingClient

        _quiet_loggers()
        key, secret = self._credentials.api_key, self._credentials.secret
        data_rest = (
            _host(self.settings.data_url_override, {"ws": "http", "wss": "https"})
            if self.settings.data_url_override
            else None
        )
        self._trading = TradingClient(
            key, secret, paper=self.settings.paper, url_override=self.settings.url_override or None
        )
        self._stock_data = StockHistoricalDataClient(key, secret, url_override=data_rest)
        self._crypto_data = CryptoHistoricalDataClient(key, secret, url_override=data_rest)
        for client in (self._trading, self._stock_data, self._crypto_data):
            client._session = _timeout_session(self.rest_timeout_s)
            client._retry = 0  # 429s back off through our Backoff, not a blocking 3 s sleep

    def _ws_params(self) -> dict[str, Any]:
        return {"ping_interval": 10, "ping_timeout": 20, "close_timeout": 1, "open_timeout": 10,
                "max_queue": 1024}

    def _make_stream(self, key: str) -> Any:
        key_id, secret = self._credentials.api_key, self._credentials.secret
        if key == "trading":
            from alpaca.trading.stream import TradingStream

            url = (
                _host(self.settings.url_override, {"http": "ws", "https": "wss"}) + "/stream"
                if self.settings.url_override
                else None
            )
            stream = TradingStream(key_id, secret, paper=self.settings.paper, url_override=url,  # type: ignore[arg-type]
                                   websocket_params=self._ws_params())
            stream.subscribe_trade_updates(self._on_trade_update)
            return stream
        base = self.settings.data_url_override
        if key == "stocks":
            from alpaca.data.enums import DataFeed
            from alpaca.data.live import StockDataStream

            url = _host(base, {}) + f"/v2/{self.settings.feed}" if base else None
            return StockDataStream(key_id, secret, feed=DataFeed(self.settings.feed), url_override=url,
                                   websocket_params=self._ws_params())
        from alpaca.data.live import CryptoDataStream

        url = _host(base, {}) + "/v1beta3/crypto/us" if base else None
        return CryptoDataStream(key_id, secret, url_override=url, websocket_params=self._ws_params())

    def _safe(self, exc: BaseException) -> str:
        """One line, credentials scrubbed; an Alpaca API error shows its message only."""
        text = str(exc)
        with contextlib.suppress(Exception):
            text = str(exc.message)  # type: ignore[attr-defined]
        return self._credentials.redact(f"{type(exc).__name__}: {text}".replace("\n", " "))[:300]

    # -- Venue protocol: lifecycle --------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self.monitor.state

    async def connect(self, emit: Emit) -> None:
        self._emit = emit
        self.monitor.emit = emit
        if not (self._credentials.api_key and self._credentials.secret):
            raise ConfigError(
                f"venues.{self.name}: Alpaca needs API keys; run `tui-trader keys set {self.name}` "
                f"({'paper' if self.settings.paper else 'live'} account keys)"
            )
        self.monitor.connecting()
        self._make_clients()
        await self._rest(self._trading.get_account, what="account")  # bad keys stop here
        await self._refresh_clock()
        await self._load_instruments()
        self.monitor.connected(f"alpaca {'paper' if self.settings.paper else 'LIVE'}")
        self._streams["trading"] = self._make_stream("trading")
        self._start("trading")
        self._tasks["watchdog"] = asyncio.create_task(self._watchdog(), name=f"{self.name}-watchdog")
        self._tasks["clock"] = asyncio.create_task(self._clock_loop(), name=f"{self.name}-clock")
        # fills are only safe once trade updates flow: wait (briefly) for the socket
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._until(lambda: "trading" in self._ready | self._dead), 5.0)

    async def _until(self, cond: Callable[[], bool]) -> None:
        while not cond():
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        self._closing = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:  # bounded: alpaca-py's receive loop can swallow a cancel (asyncio.wait_for, 3.11)
            await asyncio.wait(tasks, timeout=2.0)
        for stream in self._streams.values():
            await self._close_stream(stream)  # a closed socket ends any loop that kept running
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        self._tasks.clear()
        self.monitor.closed()

    async def _load_instruments(self) -> None:
        symbols = [*self.settings.symbols, *self.settings.crypto_symbols]
        assets = await asyncio.gather(*(self._asset(s) for s in symbols))
        missing = [s for s, a in zip(symbols, assets, strict=True) if a is None]
        if missing:
            raise ConfigError(f"venues.{self.name}.symbols: {', '.join(missing)} not listed by Alpaca")
        for symbol, asset in zip(symbols, assets, strict=True):
            inst = convert.instrument(self.name, asset)
            if inst.symbol != symbol:  # Alpaca answers BTC/USD for BTCUSD: keep the configured name
                inst = dataclasses.replace(inst, symbol=symbol)
            if not asset.tradable:
                log.warning("%s: %s is not tradable at Alpaca (data only)", self.name, symbol)
            self.instruments[symbol] = inst

    async def _asset(self, symbol: str) -> Any:
        try:
            return await self._rest(self._trading.get_asset, symbol, what=f"asset {symbol}")
        except VenueError as exc:
            if "404" in str(exc) or "not found" in str(exc).lower():
                return None
            raise

    async def load_markets(self) -> dict[str, Instrument]:
        return dict(self.instruments)

    async def subscribe(self, symbols: Sequence[str]) -> None:
        crypto = [s for s in symbols if self._is_crypto(s)]
        stocks = [s for s in symbols if not self._is_crypto(s)]
        for key, group in (("stocks", stocks), ("crypto", crypto)):
            if not group:
                continue
            stream = self._streams.get(key)
            if stream is None:
                stream = self._streams[key] = self._make_stream(key)
            channels: list[tuple[str, Callable[[Any], Any]]] = [
                ("quotes", self._on_quote), ("trades", self._on_trade)
            ]
            if self.settings.candles:
                channels.append(("bars", self._on_bar))
            for channel, handler in channels:
                for symbol in group:
                    stream._handlers[channel][symbol] = handler
            if key not in self._tasks:
                self._start(key)
            elif stream._running:
                await stream._send_subscribe_msg()

    def _is_crypto(self, symbol: str) -> bool:
        inst = self.instruments.get(symbol)
        return inst.asset_class is AssetClass.CRYPTO if inst else symbol in self.settings.crypto_symbols

    def market_open(self, symbol: str, now: datetime) -> bool:
        """Engine pre-trade hook. With extended hours on, orders pass and `create_order` keeps
        them to limit orders flagged `extended_hours`."""
        inst = self.instruments.get(symbol)
        if inst is not None and inst.always_open:
            return True
        return self.hours.open_at(now) or self.settings.extended_hours

    # -- streams ----------------------------------------------------------------------------

    def _start(self, key: str) -> None:
        self._tasks[key] = asyncio.create_task(self._drive(key), name=f"{self.name}-{key}")

    async def _drive(self, key: str) -> None:
        """alpaca-py connects, authenticates, subscribes and decodes; reconnects are ours."""
        import websockets

        stream = self._streams[key]
        gen = self._generation
        while not self._closing:
            try:
                if not stream._running:
                    await asyncio.wait_for(stream._start_ws(), self.rest_timeout_s)
                    if key != "trading":
                        await stream._send_subscribe_msg()
                    stream._running = True
                    self._ready.add(key)
                    self._alive(handshake=True)
                await stream._consume()
                return  # a stop request (we cancel instead)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # asyncio.wait_for (3.11) can swallow our cancel when the socket failed at
                    # the same moment: honour it, or `_recover` would wait for us forever
                    raise asyncio.CancelledError from None
                if self._closing:
                    return
                if isinstance(exc, ValueError) and _auth_refused(exc):
                    self._dead.add(key)
                    self._ready.discard(key)
                    await self._close_stream(stream)
                    self.monitor.set(
                        ConnectionState.DEGRADED,
                        f"{key} stream stopped: authentication failed; check `tui-trader keys list`",
                    )
                    return
                connection = isinstance(
                    exc, websockets.WebSocketException | OSError | TimeoutError | AttributeError
                )
                if stream._running and not connection:  # a malformed frame: skip it, keep the socket
                    self.counters["malformed"] += 1
                    log.warning("%s: %s message skipped: %s", self.name, key, self._safe(exc))
                    continue
                self._ready.discard(key)
                await self._recover(gen, f"{key}: {self._safe(exc)}")
                gen = self._generation

    async def _close_stream(self, stream: Any) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(stream.close(), 2.0)
        stream._ws = None
        stream._running = False

    def _alive(self, *, handshake: bool = False) -> None:
        """A message: the venue counts as connected once every socket is back and, where data
        should flow, flows again. A server that answers the handshake but sends nothing is still
        stalled: reconciling then would miss the fills it drops next (found by the soak)."""
        if self._all_back() and not (handshake and self._streaming_data(self.clock.now())):
            self.monitor.message()
        else:
            self.monitor.last_message = time.monotonic()

    def _all_back(self) -> bool:
        return all(k in self._ready or k in self._dead for k in self._streams)

    def _silent_after_reconnect(self) -> bool:
        """Every socket reconnected, yet nothing came for `stall_after_s`: reconnect again."""
        age = self.monitor.message_age()
        return (
            self.monitor.state is not ConnectionState.CONNECTED
            and not self._reconnect_lock.locked()
            and bool(self._streams)
            and self._all_back()
            and age is not None
            and age > self.monitor.stall_after_s
        )

    async def _recover(self, gen: int, reason: str) -> None:
        """One reconnect for the whole venue, however many sockets noticed the failure."""
        async with self._reconnect_lock:
            if gen != self._generation or self._closing:
                return
            self._generation += 1
            self.counters["reconnects"] += 1
            delay = self.monitor.reconnecting(reason)
            log.info("%s: reconnecting (%s)", self.name, reason)
            me = asyncio.current_task()
            restart = [k for k, t in self._tasks.items() if k in self._streams and t is not me]
            stopping = [self._tasks[key] for key in restart]
            for task in stopping:
                task.cancel()
            if stopping:
                await asyncio.wait(stopping, timeout=2.0)
            for stream in self._streams.values():
                await self._close_stream(stream)
            self._ready.clear()
            await asyncio.sleep(delay)
            for key in restart:
                self._start(key)

    def _streaming_data(self, now: datetime) -> bool:
        """Silence is a stall only where data should flow: crypto always, stocks in session."""
        return "crypto" in self._streams or ("stocks" in self._streams and self.hours.open_at(now))

    async def _watchdog(self) -> None:
        period = max(0.05, min(1.0, self.monitor.stall_after_s / 4))
        while not self._closing:
            await asyncio.sleep(period)
            if not self._streaming_data(self.clock.now()):
                continue
            age = self.monitor.message_age() or 0.0
            if self.monitor.stalled():
                self.monitor.degraded(f"stalled: no message for {age:.1f}s")
                await self._recover(self._generation, f"stalled {age:.1f}s")
            elif self._silent_after_reconnect():
                await self._recover(self._generation, f"still silent {age:.1f}s after reconnecting")

    async def _clock_loop(self) -> None:
        while not self._closing:
            await asyncio.sleep(1.0)
            due = time.monotonic() - self._clock_at > self.clock_refresh_s
            if due or (self.hours.stale_at(self.clock.now()) and time.monotonic() - self._clock_at > 5):
                with contextlib.suppress(VenueError):
                    await self._refresh_clock()

    async def _refresh_clock(self) -> None:
        self.hours.update(await self._rest(self._trading.get_clock, what="clock"))
        self._clock_at = time.monotonic()

    def _symbol(self, raw: str) -> str:
        return self._crypto_ids.get(raw, raw)

    async def _on_quote(self, q: Any) -> None:
        self._alive()
        symbol = self._symbol(q.symbol)
        if q.bid_price and q.ask_price:
            self._mid[symbol] = (float(q.bid_price) + float(q.ask_price)) / 2
        last = self._last_price.get(symbol) or self._mid.get(symbol, 0.0)
        self._emit(TickerEvent(convert.ticker(self.name, symbol, q, last)))
        self._emit(BookEvent(convert.top_of_book(self.name, symbol, q)))

    async def _on_trade(self, t: Any) -> None:
        self._alive()
        symbol = self._symbol(t.symbol)
        self._last_price[symbol] = float(t.price)
        self._emit(TradeEvent(convert.trade_print(self.name, symbol, t, self._mid.get(symbol, 0.0))))

    async def _on_bar(self, b: Any) -> None:
        self._alive()
        symbol = self._symbol(b.symbol)
        candle = convert.candle(symbol, "1m", b, self.clock.now(), timedelta(minutes=1))
        if candle.closed:
            self._last_bar[symbol] = max(self._last_bar.get(symbol, candle.open_time), candle.open_time)
        self._emit(CandleEvent(self.name, candle))

    async def _on_trade_update(self, u: Any) -> None:
        self._alive()
        o = u.order
        cid, vid = o.client_order_id, str(o.id)
        self._cid_by_vid[vid] = cid
        event = convert.enum_value(u.event)
        if event in ("fill", "partial_fill"):
            if u.execution_id is None or u.qty is None:
                return
            f = convert.fill_from_update(self.name, u, self._crypto_ids)
            if not self._first_sighting(f.fill_id):
                self.counters["duplicate_fills"] += 1
                return
            self._emit(ExecutionReport(self.name, cid, None, f.ts, vid, None, f))
            return
        status = convert.EVENT_STATUS.get(event)
        if status is not None:
            reason = None if status is OrderStatus.ACCEPTED else f"alpaca: {event}"
            self._emit(ExecutionReport(self.name, cid, status, convert.utc(u.timestamp), vid, reason))

    def _first_sighting(self, fill_id: str) -> bool:
        if fill_id in self._seen:
            return False
        self._seen.add(fill_id)
        self._seen_order.append(fill_id)
        if len(self._seen_order) > SEEN_FILLS:
            self._seen.discard(self._seen_order.popleft())
        return True

    async def _backfill(self) -> None:
        """After a reconnect: the closed minute bars we missed, from REST."""
        for symbol, last in list(self._last_bar.items()):
            for candle in await self.fetch_candles(symbol, "1m", last + timedelta(minutes=1)):
                if candle.open_time > last:
                    self._emit(CandleEvent(self.name, candle))
                    if candle.closed:
                        self._last_bar[symbol] = candle.open_time

    # -- REST with rate-limit backoff ---------------------------------------------------------

    async def _rest(self, fn: Callable[..., Any], *args: Any, what: str, attempts: int = 5) -> Any:
        import requests
        from alpaca.common.exceptions import APIError

        backoff = Backoff(self.monitor.backoff.base_s, self.monitor.backoff.cap_s)
        for attempt in range(attempts):
            try:
                return await asyncio.to_thread(fn, *args)
            except APIError as exc:
                status = exc.status_code or 0
                if status == 429 or status >= 500:
                    self.counters["rate_limited"] += status == 429
                    if attempt < attempts - 1:
                        await asyncio.sleep(backoff.next_delay())
                        continue
                if status == 401:
                    raise VenueError(
                        f"{self.name}: {what}: authentication failed; run `tui-trader keys set {self.name}`"
                    ) from None
                raise VenueError(f"{self.name}: {what}: HTTP {status} {self._safe(exc)}") from None
            except requests.RequestException as exc:
                if attempt == attempts - 1:
                    raise VenueError(f"{self.name}: {what}: {self._safe(exc)}") from None
                await asyncio.sleep(backoff.next_delay())
        raise VenueError(f"{self.name}: {what} failed")  # pragma: no cover

    # -- Venue protocol: data ------------------------------------------------------------------

    async def fetch_candles(
        self, symbol: str, timeframe: str, since: datetime | None = None, limit: int = 500
    ) -> list[Candle]:
        from alpaca.data.enums import DataFeed
        from alpaca.data.requests import CryptoBarsRequest, StockBarsRequest

        tf, length = convert.timeframe(timeframe)
        now = self.clock.now()
        start = since or now - length * limit
        if self._is_crypto(symbol):
            req: Any = CryptoBarsRequest(symbol_or_symbols=symbol, timeframe=tf, start=start, limit=limit)
            barset = await self._rest(self._crypto_data.get_crypto_bars, req, what="fetch candles")
        else:
            req = StockBarsRequest(symbol_or_symbols=symbol, timeframe=tf, start=start, limit=limit,
                                   feed=DataFeed(self.settings.feed))
            barset = await self._rest(self._stock_data.get_stock_bars, req, what="fetch candles")
        bars = barset.data.get(symbol, [])
        return [convert.candle(symbol, timeframe, b, now, length) for b in bars]

    async def fetch_balances(self) -> dict[str, Balance]:
        account = await self._rest(self._trading.get_account, what="fetch balances")
        cash = convert.dec(account.cash)
        return {account.currency or "USD": Balance(account.currency or "USD", cash, cash)}

    async def fetch_positions(self) -> dict[str, Decimal]:
        """Quantities Alpaca holds per symbol (signed); a check on our fill-based positions."""
        rows = await self._rest(self._trading.get_all_positions, what="fetch positions")
        return {
            self._symbol(p.symbol): convert.dec(p.qty) * (-1 if convert.enum_value(p.side) == "short" else 1)
            for p in rows
        }

    # -- Venue protocol: orders ----------------------------------------------------------------

    def _time_in_force(self, order: Order, qty: Decimal, crypto: bool, extended: bool) -> Any:
        from alpaca.trading.enums import TimeInForce as Tif

        tif = order.time_in_force
        if crypto:
            return Tif.IOC if tif is TimeInForce.IOC else Tif.GTC
        if extended or qty != qty.to_integral_value():  # Alpaca: fractional and extended are DAY only
            return Tif.DAY
        return {TimeInForce.DAY: Tif.DAY, TimeInForce.IOC: Tif.IOC, TimeInForce.FOK: Tif.FOK}.get(tif, Tif.GTC)

    def _order_request(self, order: Order, extended: bool) -> Any:
        from alpaca.trading.enums import OrderSide
        from alpaca.trading.requests import (
            LimitOrderRequest,
            MarketOrderRequest,
            StopLimitOrderRequest,
            StopOrderRequest,
        )

        inst = self.instruments.get(order.symbol)
        qty = inst.round_qty(order.quantity) if inst else order.quantity
        crypto = inst is not None and inst.asset_class is AssetClass.CRYPTO

        def px(value: Decimal | None) -> float | None:
            if value is None:
                return None
            return float(inst.round_price(value) if inst else value)

        common: dict[str, Any] = {
            "symbol": order.symbol,
            "qty": float(qty),
            "side": OrderSide(order.side.value),
            "time_in_force": self._time_in_force(order, qty, crypto, extended),
            "client_order_id": order.client_order_id,
        }
        if extended:
            common["extended_hours"] = True
        if order.type is OrderType.MARKET:
            return MarketOrderRequest(**common)
        if order.type is OrderType.LIMIT:
            return LimitOrderRequest(limit_price=px(order.price), **common)
        if order.type is OrderType.STOP:
            return StopOrderRequest(stop_price=px(order.stop_price), **common)
        if order.type is OrderType.STOP_LIMIT:
            return StopLimitOrderRequest(limit_price=px(order.price), stop_price=px(order.stop_price), **common)
        raise VenueError(f"{order.type.value} orders are emulated by the engine, not sent to Alpaca")

    def _session_check(self, order: Order) -> tuple[str | None, bool]:
        """(refusal, extended): outside the regular session only extended-hours limit orders go."""
        inst = self.instruments.get(order.symbol)
        if inst is not None and inst.always_open:
            return None, False
        if self.hours.open_at(self.clock.now()):
            return None, False
        if order.type is not OrderType.LIMIT:
            how = (
                "extended hours take limit orders only: use --type limit --price P"
                if self.settings.extended_hours
                else f"set extended_hours = true in [venues.{self.name}] to trade pre- and "
                "after-market with limit orders, or wait for the open"
            )
            return f"market closed: Alpaca takes no {order.type.value} orders outside regular hours; {how}", False
        if not self.settings.extended_hours:
            return "market closed: the regular session is over; set extended_hours = true to trade it", False
        return None, True

    async def create_order(self, order: Order) -> None:
        import requests
        from alpaca.common.exceptions import APIError

        cid = order.client_order_id
        refusal, extended = self._session_check(order)
        if refusal:
            self._reject(cid, refusal)
            return
        try:
            request = self._order_request(order, extended)
        except ValueError as exc:  # alpaca-py's own validation (pydantic)
            self._reject(cid, f"alpaca refused the order shape: {exc}".splitlines()[0])
            return
        backoff = Backoff(self.monitor.backoff.base_s, self.monitor.backoff.cap_s)
        for attempt in range(self.max_submit_attempts):
            if attempt:
                self.counters["submit_retries"] += 1
                existing = await self._lookup(cid)
                if existing is not None:  # the earlier attempt did reach Alpaca
                    self.counters["found_by_client_id"] += 1
                    self._report_found(existing)
                    return
            await self.order_bucket.take()
            try:
                placed = await asyncio.to_thread(self._trading.submit_order, request)
            except APIError as exc:
                status = exc.status_code or 0
                if status == 429 or status >= 500:  # not taken (429) or unknown (5xx): ask, then retry
                    self.counters["rate_limited"] += status == 429
                    await asyncio.sleep(backoff.next_delay())
                    continue
                if status == 401:
                    self._reject(cid, f"authentication failed; run `tui-trader keys set {self.name}`")
                    return
                if "client_order_id" in str(exc) and "unique" in str(exc):  # Alpaca has it already
                    existing = await self._lookup(cid)
                    if existing is not None:
                        self.counters["found_by_client_id"] += 1
                        self._report_found(existing)
                        return
                self._reject(cid, self._message(exc))
                return
            except requests.RequestException as exc:  # timeout / network: outcome unknown
                log.info("%s: submit %s: %s; checking by client id", self.name, cid, type(exc).__name__)
                await asyncio.sleep(backoff.next_delay())
                continue
            vid = str(placed.id)
            self._cid_by_vid[vid] = cid
            status_ = convert.enum_value(placed.status)
            report = OrderStatus.REJECTED if status_ == "rejected" else OrderStatus.ACCEPTED
            self._emit(ExecutionReport(self.name, cid, report, self.clock.now(), vid,
                                       "alpaca: rejected" if report is OrderStatus.REJECTED else None))
            return
        raise VenueError(
            f"{self.name}: order {cid} not confirmed after {self.max_submit_attempts} attempts; reconciling"
        )

    def _message(self, exc: BaseException) -> str:
        with contextlib.suppress(Exception):
            return self._credentials.redact(str(exc.message))  # type: ignore[attr-defined]
        return self._safe(exc)

    def _reject(self, cid: str, reason: str) -> None:
        self._emit(ExecutionReport(self.name, cid, OrderStatus.REJECTED, self.clock.now(), None, reason))

    def _report_found(self, vo: VenueOrder) -> None:
        if vo.venue_order_id:
            self._cid_by_vid[vo.venue_order_id] = vo.client_order_id
        status = convert.EVENT_STATUS.get(vo.status, OrderStatus.ACCEPTED)
        self._emit(ExecutionReport(self.name, vo.client_order_id, status, self.clock.now(), vo.venue_order_id))

    async def _lookup(self, cid: str) -> VenueOrder | None:
        try:
            return await self.fetch_order(cid, "")
        except VenueError:
            return None

    async def amend_order(
        self, order: Order, quantity: Decimal | None = None, price: Decimal | None = None
    ) -> None:
        """Not in place here (`capabilities.amend` is false): the engine cancels and replaces."""
        raise VenueError("Alpaca does not amend orders in place; cancel and replace instead")

    async def cancel_order(self, order: Order) -> None:
        vid = order.venue_order_id
        if vid is None:
            found = await self._lookup(order.client_order_id)
            vid = found.venue_order_id if found else None
        if vid is None:
            self._cancel_refused(order, "Alpaca does not know this order")
            return
        await self.order_bucket.take()
        try:
            await self._rest(self._trading.cancel_order_by_id, vid, what="cancel order")
            after = await self._rest(self._trading.get_order_by_id, vid, what="order after cancel")
        except VenueError as exc:
            self._cancel_refused(order, str(exc))
            return
        if convert.enum_value(after.status) == "canceled":
            self._emit(ExecutionReport(self.name, order.client_order_id, OrderStatus.CANCELLED,
                                       self.clock.now(), vid, "cancelled"))
        # otherwise Alpaca is still cancelling: the trade update says how it ended

    def _cancel_refused(self, order: Order, why: str) -> None:
        self._emit(ExecutionReport(self.name, order.client_order_id, None, self.clock.now(),
                                   order.venue_order_id, f"cancel refused: {why}"))

    async def fetch_open_orders(self) -> list[VenueOrder]:
        from alpaca.trading.enums import QueryOrderStatus
        from alpaca.trading.requests import GetOrdersRequest

        rows = await self._rest(self._trading.get_orders,
                                GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=500),
                                what="fetch open orders")
        out = [convert.venue_order(o, self._crypto_ids) for o in rows]
        for vo in out:
            if vo.venue_order_id:
                self._cid_by_vid[vo.venue_order_id] = vo.client_order_id
        return out

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrder | None:
        try:
            o = await self._rest(self._trading.get_order_by_client_id, client_order_id, what="fetch order")
        except VenueError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise
        return convert.venue_order(o, self._crypto_ids)

    async def fetch_fills(self, since: datetime | None = None) -> list[Fill]:
        """FILL activities (each carries the execution id our stream fills use)."""
        after = since or self.clock.now() - FILL_LOOKBACK
        rows: list[dict[str, Any]] = []
        params: dict[str, Any] = {"after": after.isoformat(), "direction": "asc", "page_size": 100}
        for _ in range(50):
            page = await self._rest(self._trading.get, "/account/activities/FILL", params, what="fetch fills")
            rows += page or []
            if not page or len(page) < params["page_size"]:
                break
            params["page_token"] = page[-1]["id"]
        unknown = {str(a.get("order_id")) for a in rows} - set(self._cid_by_vid)
        if unknown:
            await self._map_orders(after)
        out = []
        for a in rows:
            cid = self._cid_by_vid.get(str(a.get("order_id")))
            if cid:
                out.append(convert.fill_from_activity(self.name, a, cid, self._crypto_ids))
        return out

    async def _map_orders(self, after: datetime) -> None:
        """Activities name the venue order id only: learn client ids from the order list."""
        from alpaca.trading.enums import QueryOrderStatus
        from alpaca.trading.requests import GetOrdersRequest

        req = GetOrdersRequest(status=QueryOrderStatus.ALL, limit=500, after=after - timedelta(days=1))
        for o in await self._rest(self._trading.get_orders, req, what="fetch orders"):
            self._cid_by_vid[str(o.id)] = o.client_order_id


def _auth_refused(exc: ValueError) -> bool:
    text = str(exc).lower()
    return "authenticat" in text or "auth failed" in text or "insufficient subscription" in text
