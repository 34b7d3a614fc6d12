"""CcxtVenue: any ccxt exchange behind the `Venue` protocol, streaming through ccxt.pro.

- Streams (ticker, book, trades, candles, own orders and fills) each run a `watch_*` loop;
  a stream the exchange lacks is polled over REST instead.
- Any stream error, or silence while subscribed, makes one venue-wide reconnect: close the
  sockets, back off with jitter, let every loop watch again (ccxt resubscribes). The first
  message after that marks the venue connected, backfills candles and trades over REST and
  (through `ConnectionEvent(attempt>0)`) lets the engine reconcile orders.
- Orders carry our client order id in the exchange's own parameter. A submission that times
  out is looked up by that id before any retry, so a retry never makes a second order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import (
    BookEvent,
    CandleEvent,
    ExecutionReport,
    TickerEvent,
    TradeEvent,
)
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Candle
from tui_trader.core.orders import Order
from tui_trader.core.positions import Balance
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues.base import Emit, VenueCapabilities, VenueError, VenueOrder
from tui_trader.venues.ccxt import convert, exchanges
from tui_trader.venues.ccxt.history import AccountHistory
from tui_trader.venues.resilience import Backoff, ConnectionMonitor, TokenBucket

log = logging.getLogger(__name__)

ORDER_TYPES = {OrderType.MARKET: "market", OrderType.LIMIT: "limit"}


def deep_merge(target: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = value
    return target


class CcxtVenue(AccountHistory):
    kind = "ccxt"

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
    ) -> None:
        if not settings.exchange:
            raise ConfigError(
                f'venues.{name}.exchange is missing: set it to a ccxt exchange id such as "binance"'
            )
        self.name = name
        self.settings = settings
        self.clock = clock
        self.exchange_id = settings.exchange
        self.is_live = settings.is_live
        self._credentials = credentials or Credentials()
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
        self.capabilities = VenueCapabilities()
        self.instruments: dict[str, Instrument] = {}
        self._ex: Any = None
        self._emit: Emit = lambda event: None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._specs: dict[str, tuple[Callable[[], Awaitable[Any]], Callable[[Any], None]]] = {}
        self._generation = 0
        self._reconnect_lock = asyncio.Lock()
        self._retried_at = 0.0  # loop time the last reconnect attempt restarted the streams
        self._closing = False
        self._cid_by_vid: dict[str, str] = {}
        self._symbol_by_cid: dict[str, str] = {}
        self._last_candle: dict[tuple[str, str], int] = {}
        self._last_trade: dict[str, int] = {}  # newest trade print's venue time, per symbol
        self._trade_ids: dict[str, _RecentIds] = {}
        # where the data stopped when the connection went: live messages after the reconnect
        # move _last_candle / _last_trade past the gap before the backfill runs
        self._gap_from: tuple[dict[tuple[str, str], int], dict[str, int]] | None = None
        self._fills_due = asyncio.Event()  # an order changed: poll fills now (no fills stream)
        self._fills_since: dict[str, int] = {}
        self._fills_polled: set[str] = set()
        self.counters = {
            "reconnects": 0,
            "rate_limited": 0,
            "submit_retries": 0,
            "found_by_client_id": 0,
        }

    # -- the ccxt client -----------------------------------------------------------------------

    def _make_exchange(self) -> Any:
        import ccxt.async_support as ccxt_async
        import ccxt.pro as ccxt_pro

        cls = getattr(ccxt_pro, self.exchange_id, None) or getattr(
            ccxt_async, self.exchange_id, None
        )
        if cls is None:
            raise ConfigError(
                f"venues.{self.name}.exchange: {self.exchange_id!r} is not a ccxt exchange id; "
                "see https://docs.ccxt.com for the list"
            )
        options = dict(self.settings.options)
        urls = options.pop("urls", None)
        config: dict[str, Any] = {"enableRateLimit": True, **options}
        config["options"] = {
            "warnOnFetchOpenOrdersWithoutSymbol": False,
            **exchanges.CCXT_OPTIONS.get(self.exchange_id, {}),
            **(options.get("options") or {}),
        }
        if self._credentials.api_key:
            config["apiKey"] = self._credentials.api_key
            config["secret"] = _unescape_pem(self._credentials.secret)
            if self._credentials.passphrase:
                config["password"] = self._credentials.passphrase
        # ccxt logs request headers (the API key) at DEBUG: keep its loggers at INFO or above.
        ccxt_log = logging.getLogger("ccxt")
        if ccxt_log.getEffectiveLevel() < logging.INFO:
            ccxt_log.setLevel(logging.INFO)
        ex = cls(config)
        if self.settings.sandbox:
            try:
                ex.set_sandbox_mode(True)
            except Exception:
                raise ConfigError(
                    f"venues.{self.name}: {self.exchange_id} has no sandbox/testnet in ccxt; "
                    "set sandbox = false (and arm live) or pick another exchange"
                ) from None
        if urls:  # after the sandbox switch, which replaces urls["api"] with the testnet's
            deep_merge(ex.urls, urls)
        has = ex.has
        self.capabilities = VenueCapabilities(
            stop=bool(has.get("createStopOrder")),
            stop_limit=bool(has.get("createStopLimitOrder")),
            post_only=bool(has.get("createPostOnlyOrder", True)),
            amend=bool(has.get("editOrder")) and self.exchange_id in exchanges.AMEND_IN_PLACE,
            reduce_only=bool(has.get("createReduceOnlyOrder")),
        )
        return ex

    def _safe(self, exc: BaseException) -> str:
        """An exception as one line with credentials scrubbed (error bodies echo requests)."""
        text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        return self._credentials.redact(text)[:300]

    # -- Venue protocol: lifecycle ----------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self.monitor.state

    async def connect(self, emit: Emit) -> None:
        self._emit = emit
        self.monitor.emit = emit
        self.monitor.connecting()
        self._ex = self._make_exchange()
        await self._rest(self._ex.load_markets, what="load markets")
        self.instruments = {
            s: convert.instrument(self.name, m, self._ex.precisionMode)
            for s, m in self._ex.markets.items()
            if m.get("spot", True) and m.get("active", True) is not False
        }
        self.monitor.connected(f"{self.exchange_id}{' testnet' if self.settings.sandbox else ''}")
        if self._credentials.api_key:
            has = self._ex.has
            if has.get("watchOrders"):
                self._start("orders", self._ex.watch_orders, self._on_orders)
            if has.get("watchMyTrades"):
                self._start("fills", self._ex.watch_my_trades, self._on_fills)
            else:  # coinbase: order updates stream, fills do not
                self._start("fills", self._poll_fills, self._on_fills)
        self._tasks["watchdog"] = asyncio.create_task(
            self._watchdog(), name=f"{self.name}-watchdog"
        )

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._ex is not None:
            with contextlib.suppress(Exception):
                await self._ex.close()
        self.monitor.closed()

    async def load_markets(self) -> dict[str, Instrument]:
        wanted = self.settings.symbols or list(self.instruments)
        missing = [s for s in wanted if s not in self.instruments]
        if missing:
            raise ConfigError(
                f"venues.{self.name}.symbols: {', '.join(missing)} not listed by {self.exchange_id}"
            )
        return {s: self.instruments[s] for s in wanted}

    async def subscribe(self, symbols: Sequence[str]) -> None:
        has = self._ex.has
        # binance's watchTicker defaults to the mini ticker, which has no bid/ask
        ticker_params = {"name": "ticker"} if self.exchange_id.startswith("binance") else {}
        for symbol in symbols:
            if has.get("watchTicker"):
                self._start(
                    f"ticker:{symbol}",
                    partial(self._ex.watch_ticker, symbol, ticker_params),
                    self._on_ticker,
                )
            else:
                self._start(
                    f"ticker:{symbol}",
                    partial(self._poll, self._ex.fetch_ticker, symbol),
                    self._on_ticker,
                )
            if has.get("watchOrderBook"):
                self._start(
                    f"book:{symbol}",
                    partial(self._ex.watch_order_book, symbol),
                    partial(self._on_book, symbol),
                )
            if has.get("watchTrades"):
                self._start(
                    f"trades:{symbol}", partial(self._ex.watch_trades, symbol), self._on_trades
                )
            for tf in self.settings.candles:
                watch = (
                    partial(self._ex.watch_ohlcv, symbol, tf)
                    if has.get("watchOHLCV")
                    else partial(self._poll, self._ex.fetch_ohlcv, symbol, tf, None, 2)
                )
                self._start(
                    f"candles:{symbol}:{tf}",
                    watch,
                    partial(self._on_candles_for, symbol, tf),
                )

    def _on_book(self, symbol: str, raw: Any) -> None:
        self._emit(BookEvent(convert.book(self.name, symbol, raw)))

    def _on_candles_for(self, symbol: str, timeframe: str, rows: Any) -> None:
        self._on_candles(symbol, timeframe, rows)

    # -- streams --------------------------------------------------------------------------------

    def _start(
        self, key: str, watch: Callable[[], Awaitable[Any]], handle: Callable[[Any], None]
    ) -> None:
        if key not in self._tasks:
            self._specs[key] = (watch, handle)
            self._tasks[key] = asyncio.create_task(
                self._stream(key, watch, handle), name=f"{self.name}-{key}"
            )

    @property
    def _public_streams(self) -> bool:
        return any(k.split(":")[0] in ("ticker", "book", "trades", "candles") for k in self._tasks)

    async def _poll(self, fetch: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """REST polling where the exchange has no stream: the same loop, a slower cadence."""
        await asyncio.sleep(self.settings.poll_interval_s)
        return await fetch(*args)

    async def _stream(
        self, key: str, watch: Callable[[], Awaitable[Any]], handle: Callable[[Any], None]
    ) -> None:
        gen = self._generation
        while not self._closing:
            try:
                data = await watch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._closing:
                    return
                if _is_auth_error(exc) or (
                    key in ("orders", "fills") and not _is_network_error(exc)
                ):
                    # reconnecting cannot fix bad keys; fills still arrive by reconciliation
                    reason = "authentication failed" if _is_auth_error(exc) else type(exc).__name__
                    self.monitor.set(
                        ConnectionState.DEGRADED,
                        f"{key} stream stopped: {reason}; check `tui-trader keys list`",
                    )
                    return
                await self._recover(gen, f"{key}: {self._safe(exc)}")
                gen = self._generation
                continue
            gen = self._generation
            self.monitor.message()
            try:
                handle(data)
            except Exception as exc:  # a bad message must not kill the stream
                log.warning("%s: %s message skipped: %s", self.name, key, self._safe(exc))

    async def _recover(self, gen: int, reason: str) -> None:
        """One reconnect for the whole venue, however many streams noticed the failure."""
        async with self._reconnect_lock:
            if gen != self._generation or self._closing:
                return
            self._generation += 1
            self.counters["reconnects"] += 1
            if self._gap_from is None:  # the first attempt of this outage: the gap starts here
                self._gap_from = (dict(self._last_candle), dict(self._last_trade))
            delay = self.monitor.reconnecting(reason)
            log.info("%s: reconnecting (%s)", self.name, reason)
            # A watch awaiting a socket we close may never return: restart every other stream.
            me = asyncio.current_task()
            restart = [k for k, t in self._tasks.items() if k in self._specs and t is not me]
            for key in restart:
                self._tasks[key].cancel()
            for key in restart:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._tasks[key]
            with contextlib.suppress(Exception):
                await self._ex.close_ws_clients()
            await asyncio.sleep(delay)
            for key in restart:
                watch, handle = self._specs[key]
                self._tasks[key] = asyncio.create_task(
                    self._stream(key, watch, handle), name=f"{self.name}-{key}"
                )
            self._retried_at = asyncio.get_running_loop().time()
            if not self._public_streams:
                self.monitor.connected()

    async def _watchdog(self) -> None:
        period = max(0.05, min(1.0, self.monitor.stall_after_s / 4))
        while not self._closing:
            await asyncio.sleep(period)
            if self._public_streams and self.monitor.stalled():
                age = self.monitor.message_age() or 0.0
                self.monitor.degraded(f"stalled: no message for {age:.1f}s")
                await self._recover(self._generation, f"stalled {age:.1f}s")
            elif self._public_streams and self._retry_silent():
                # an attempt that neither errors nor delivers (kucoin: an expired ws token
                # answered with an error message ccxt.pro raises inside its receive loop)
                await self._recover(self._generation, "no message since reconnecting")

    def _retry_silent(self) -> bool:
        return (
            self.monitor.state is ConnectionState.RECONNECTING
            and not self._reconnect_lock.locked()
            and asyncio.get_running_loop().time() - self._retried_at > self.monitor.stall_after_s
        )

    def _on_ticker(self, t: dict[str, Any]) -> None:
        self._emit(TickerEvent(convert.ticker(self.name, t)))

    def _on_trades(self, trades: list[dict[str, Any]]) -> None:
        for t in trades:
            self._remember_trade(t)
            self._emit(TradeEvent(convert.trade_print(self.name, t)))

    def _remember_trade(self, t: dict[str, Any]) -> None:
        symbol = t["symbol"]
        self._last_trade[symbol] = max(self._last_trade.get(symbol, 0), int(t.get("timestamp") or 0))
        self._trade_ids.setdefault(symbol, _RecentIds()).add(str(t.get("id")))

    def _on_candles(self, symbol: str, tf: str, rows: list[list[Any]]) -> None:
        tf_ms = self._ex.parse_timeframe(tf) * 1000
        now_ms = int(self.clock.now().timestamp() * 1000)
        for row in rows:
            candle = convert.candle(symbol, tf, row, now_ms, tf_ms)
            if candle.closed:
                self._last_candle[(symbol, tf)] = max(
                    self._last_candle.get((symbol, tf), 0), int(row[0])
                )
            self._emit(CandleEvent(self.name, candle))

    def _on_orders(self, orders: list[dict[str, Any]]) -> None:
        if orders:
            self._fills_due.set()
        for o in orders:
            cid = o.get("clientOrderId")
            if self.exchange_id in exchanges.WS_CLIENT_ID_IN_INFO_ONLY:  # kraken: order_userref
                cid = (o.get("info") or {}).get(exchanges.client_id_params(self.exchange_id)[1])
            if not cid:
                continue
            if o.get("id") is not None:
                self._cid_by_vid[str(o["id"])] = cid
            status = convert.STATUS.get(o.get("status") or "")
            if status is not None:
                self._emit(
                    ExecutionReport(
                        self.name,
                        cid,
                        status,
                        self.clock.now(),
                        str(o.get("id")),
                        None if status is OrderStatus.ACCEPTED else f"venue: {o.get('status')}",
                    )
                )

    def _on_fills(self, trades: list[dict[str, Any]]) -> None:
        for t in trades:
            info = t.get("info") or {}
            cid = (
                info.get("c")
                or info.get(exchanges.client_id_params(self.exchange_id)[1])  # okx: clOrdId
                or t.get("clientOrderId")
                or self._cid_by_vid.get(str(t.get("order")))
            )
            if not cid:
                continue
            f = convert.fill(
                self.name, self._with_fee(t), cid, exchanges.WS_FILL_FEE_SIGN.get(self.exchange_id, 1)
            )
            self._emit(ExecutionReport(self.name, cid, None, f.ts, f.venue_order_id, None, f))

    def _with_fee(self, t: dict[str, Any]) -> dict[str, Any]:
        """A streamed fill without its fee (kucoin's order feed has none): the market's maker or
        taker rate times the notional, in the quote, rather than a fill that cost nothing."""
        if (t.get("fee") or {}).get("cost") is not None:
            return t
        market = self._ex.markets.get(t["symbol"]) if self._ex.markets else None
        rate = (market or {}).get("maker" if t.get("takerOrMaker") == "maker" else "taker")
        if not rate or not market:
            return t
        cost = convert.dec(t["amount"]) * convert.dec(t["price"]) * convert.dec(rate)
        return {**t, "fee": {"cost": str(cost), "currency": market["quote"]}}

    async def _backfill(self) -> None:
        """After a reconnect: closed candles and trades we missed, from REST."""
        now_ms = int(self.clock.now().timestamp() * 1000)
        candles_from, trades_from = self._gap_from or (dict(self._last_candle), dict(self._last_trade))
        self._gap_from = None
        for (symbol, tf), last in candles_from.items():
            tf_ms = self._ex.parse_timeframe(tf) * 1000
            rows = await self._rest(
                self._ex.fetch_ohlcv, symbol, tf, last + tf_ms, 500, what="backfill candles"
            )
            for row in rows:
                if int(row[0]) > last:
                    candle = convert.candle(symbol, tf, row, now_ms, tf_ms)
                    self._emit(CandleEvent(self.name, candle))
                    if candle.closed:
                        key = (symbol, tf)
                        self._last_candle[key] = max(self._last_candle.get(key, 0), int(row[0]))
        for symbol, ts in trades_from.items():
            for t in await self._rest(
                self._ex.fetch_trades,
                symbol,
                ts,
                500,
                {"until": now_ms} if self.exchange_id in exchanges.TRADES_SINCE_NEEDS_UNTIL else {},
                what="backfill trades",
            ):
                # ids have no common order (numbers, uuids): new = not among those seen
                if int(t.get("timestamp") or 0) >= ts and str(t.get("id")) not in self._trade_ids[symbol]:
                    self._remember_trade(t)
                    self._emit(TradeEvent(convert.trade_print(self.name, t)))

    # -- REST with rate-limit backoff ---------------------------------------------------------

    async def _rest(
        self, fn: Callable[..., Awaitable[Any]], *args: Any, what: str, attempts: int = 5, **kw: Any
    ) -> Any:
        import ccxt

        backoff = Backoff(self.monitor.backoff.base_s, self.monitor.backoff.cap_s)
        for attempt in range(attempts):
            try:
                return await fn(*args, **kw)
            except (ccxt.RateLimitExceeded, ccxt.DDoSProtection) as exc:  # 429 / 418
                self.counters["rate_limited"] += 1
                if attempt == attempts - 1:
                    raise VenueError(f"{self.name}: {what}: {self._safe(exc)}") from None
                await asyncio.sleep(backoff.next_delay())
            except ccxt.NetworkError as exc:
                if attempt == attempts - 1:
                    raise VenueError(f"{self.name}: {what}: {self._safe(exc)}") from None
                await asyncio.sleep(backoff.next_delay())
            except ccxt.AuthenticationError:
                raise VenueError(
                    f"{self.name}: {what}: authentication failed; "
                    f"run `tui-trader keys set {self.name}`"
                ) from None
            except ccxt.BaseError as exc:
                if _is_auth_error(exc):  # kraken's EAPI:Invalid signature is an ExchangeError
                    raise VenueError(
                        f"{self.name}: {what}: authentication failed; "
                        f"run `tui-trader keys set {self.name}`"
                    ) from None
                raise VenueError(f"{self.name}: {what}: {self._safe(exc)}") from None
        raise VenueError(f"{self.name}: {what} failed")  # pragma: no cover

    # -- Venue protocol: data ------------------------------------------------------------------

    async def fetch_candles(
        self, symbol: str, timeframe: str, since: datetime | None = None, limit: int = 500
    ) -> list[Candle]:
        since_ms = None if since is None else int(since.timestamp() * 1000)
        rows = await self._rest(
            self._ex.fetch_ohlcv, symbol, timeframe, since_ms, limit, what="fetch candles"
        )
        tf_ms = self._ex.parse_timeframe(timeframe) * 1000
        now_ms = int(self.clock.now().timestamp() * 1000)
        return [convert.candle(symbol, timeframe, r, now_ms, tf_ms) for r in rows]

    async def fetch_balances(self) -> dict[str, Balance]:
        if not self._credentials.api_key:
            return {}
        raw = await self._rest(self._ex.fetch_balance, what="fetch balances")
        out = {}
        for ccy, total in (raw.get("total") or {}).items():
            if total:
                out[ccy] = Balance(
                    ccy, convert.dec(total), convert.dec((raw.get("free") or {}).get(ccy))
                )
        return out

    # -- Venue protocol: orders ----------------------------------------------------------------

    def _order_args(
        self, order: Order
    ) -> tuple[str, str, str, float, float | None, dict[str, Any]]:
        typ = ORDER_TYPES.get(order.type)
        if typ is None:
            raise VenueError(
                f"{order.type.value} orders are emulated by the engine, "
                f"not sent to {self.exchange_id}"
            )
        inst = self.instruments.get(order.symbol)
        qty = inst.round_qty(order.quantity) if inst else order.quantity
        price = (
            None
            if order.price is None
            else (inst.round_price(order.price) if inst else order.price)
        )
        create_param, _ = exchanges.client_id_params(self.exchange_id)
        params: dict[str, Any] = {create_param: order.client_order_id}
        in_base = exchanges.MARKET_BUY_IN_BASE.get(self.exchange_id)
        if in_base and order.type is OrderType.MARKET and order.side.value == "buy":
            params.update(in_base(str(qty)))
        if order.post_only:
            params["postOnly"] = True
        if order.type is OrderType.LIMIT and order.time_in_force.value in ("ioc", "fok"):
            params["timeInForce"] = order.time_in_force.value.upper()
        return (
            order.symbol,
            typ,
            order.side.value,
            float(qty),
            None if price is None else float(price),
            params,
        )

    async def create_order(self, order: Order) -> None:
        import ccxt

        symbol, typ, side, qty, price, params = self._order_args(order)
        cid = order.client_order_id
        self._symbol_by_cid[cid] = symbol
        backoff = Backoff(self.monitor.backoff.base_s, self.monitor.backoff.cap_s)
        for attempt in range(self.max_submit_attempts):
            if attempt:
                self.counters["submit_retries"] += 1
                existing = await self._lookup(cid, symbol)
                if existing is not None:  # the earlier attempt did reach the venue
                    self.counters["found_by_client_id"] += 1
                    self._report_found(existing)
                    return
            await self.order_bucket.take()
            try:
                res = await self._ex.create_order(symbol, typ, side, qty, price, params)
            except (
                ccxt.NetworkError,
                ccxt.RateLimitExceeded,
            ) as exc:  # outcome unknown: ask before retrying
                if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):  # not nested
                    self.counters["rate_limited"] += 1
                log.info(
                    "%s: submit %s: %s; checking by client id", self.name, cid, type(exc).__name__
                )
                await asyncio.sleep(backoff.next_delay())
                continue
            except ccxt.BaseError as exc:
                if _is_auth_error(exc):
                    self._reject(
                        cid, "authentication failed; run `tui-trader keys set " + self.name + "`"
                    )
                    return
                if "duplicate" in str(exc).lower():  # the venue already has this client id
                    existing = await self._lookup(cid, symbol)
                    if existing is not None:
                        self.counters["found_by_client_id"] += 1
                        self._report_found(existing)
                        return
                self._reject(cid, self._safe(exc))
                return
            vid = None if res.get("id") is None else str(res["id"])
            if vid:
                self._cid_by_vid[vid] = cid
            status = convert.STATUS.get(res.get("status") or "open", OrderStatus.ACCEPTED)
            self._emit(
                ExecutionReport(
                    self.name,
                    cid,
                    OrderStatus.ACCEPTED if res.get("status") == "closed" else status,
                    self.clock.now(),
                    vid,
                )
            )
            return
        raise VenueError(
            f"{self.name}: order {cid} not confirmed after "
            f"{self.max_submit_attempts} attempts; reconciling"
        )

    def _reject(self, cid: str, reason: str) -> None:
        self._emit(
            ExecutionReport(self.name, cid, OrderStatus.REJECTED, self.clock.now(), None, reason)
        )

    def _report_found(self, vo: VenueOrder) -> None:
        if vo.venue_order_id:
            self._cid_by_vid[vo.venue_order_id] = vo.client_order_id
        status = convert.STATUS.get(vo.status, OrderStatus.ACCEPTED)
        self._emit(
            ExecutionReport(
                self.name, vo.client_order_id, status, self.clock.now(), vo.venue_order_id
            )
        )

    async def _lookup(self, cid: str, symbol: str) -> VenueOrder | None:
        try:
            return await self.fetch_order(cid, symbol)
        except VenueError:
            return None

    async def cancel_order(self, order: Order) -> None:
        import ccxt

        _, param = exchanges.client_id_params(self.exchange_id)
        await self.order_bucket.take()
        try:
            vid = order.venue_order_id
            if not param and not vid:  # cancel by venue id only: find it by ours first
                found = await self.fetch_order(order.client_order_id, order.symbol)
                vid = found.venue_order_id if found else None
                if not vid:
                    raise VenueError(f"{self.name}: order {order.client_order_id} not found")
            await self._rest(
                self._ex.cancel_order,
                vid or "",
                order.symbol,
                {param: order.client_order_id} if param else {},
                what="cancel order",
            )
        except VenueError as exc:
            self._emit(
                ExecutionReport(
                    self.name,
                    order.client_order_id,
                    None,
                    self.clock.now(),
                    order.venue_order_id,
                    f"cancel refused: {exc}",
                )
            )
            return
        except ccxt.BaseError as exc:  # pragma: no cover - _rest wraps these
            raise VenueError(self._safe(exc)) from None
        self._emit(
            ExecutionReport(
                self.name,
                order.client_order_id,
                OrderStatus.CANCELLED,
                self.clock.now(),
                order.venue_order_id,
                "cancelled",
            )
        )

    async def amend_order(
        self, order: Order, quantity: Decimal | None = None, price: Decimal | None = None
    ) -> None:
        """Change price/quantity in place where the exchange can (`capabilities.amend`)."""
        if not self.capabilities.amend:
            raise VenueError(f"{self.exchange_id} cannot amend orders; cancel and replace instead")
        symbol, typ, side, qty, px, params = self._order_args(order)
        await self.order_bucket.take()
        await self._rest(
            self._ex.edit_order,
            order.venue_order_id,
            symbol,
            typ,
            side,
            float(quantity) if quantity is not None else qty,
            float(price) if price is not None else px,
            params,
            what="amend order",
        )

class _RecentIds:
    """The ids of the last `size` trade prints of a symbol, for "seen it already?"."""

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self._order: deque[str] = deque()
        self._ids: set[str] = set()

    def add(self, trade_id: str) -> None:
        if trade_id in self._ids:
            return
        self._order.append(trade_id)
        self._ids.add(trade_id)
        if len(self._order) > self.size:
            self._ids.discard(self._order.popleft())

    def __contains__(self, trade_id: object) -> bool:
        return trade_id in self._ids


def _is_auth_error(exc: BaseException) -> bool:
    import ccxt

    return isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied) or any(
        text in str(exc) for text in exchanges.AUTH_ERROR_TEXTS
    )


def _is_network_error(exc: BaseException) -> bool:
    import ccxt

    return isinstance(exc, ccxt.NetworkError)


def _unescape_pem(secret: str) -> str:
    """A PEM key pasted on one line, as Coinbase's key file shows it ("\\n" for newlines):
    `keys set` reads one line, ccxt needs the real newlines."""
    if secret.startswith("-----BEGIN") and "\\n" in secret:
        return secret.replace("\\n", "\n")
    return secret
