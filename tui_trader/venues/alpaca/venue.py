"""AlpacaVenue: US stocks and crypto through alpaca-py behind the `Venue` protocol.

Split by concern: `streams.py` (the three sockets, each watched; reconnects), `orders.py`
(submit once, cancel, market-hours rules), `history.py` (open orders, order by our id, fills,
for reconciliation), `convert.py` (alpaca-py models to ours), `hours.py` (the market clock).
This module builds the clients and holds what they share:

- REST (trading, assets, clock, bars, activities) is synchronous in alpaca-py: every call runs
  in a worker thread (`asyncio.to_thread`) with a request timeout, so the loop never blocks;
- one `RateGate` per venue: a 429 closes it until Alpaca's `X-RateLimit-Reset` (or
  `Retry-After`, or our backoff), and every request waits for it;
- market hours come from the clock endpoint, refreshed every minute and at each open/close.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.enums import AssetClass, ConnectionState
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import NoticeEvent
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Candle
from tui_trader.core.positions import Balance
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues.alpaca import convert
from tui_trader.venues.alpaca.history import AlpacaHistory
from tui_trader.venues.alpaca.hours import MarketClock
from tui_trader.venues.alpaca.orders import AlpacaOrders
from tui_trader.venues.alpaca.streams import PRIVATE, AlpacaStreams, _host
from tui_trader.venues.backfill import Hole
from tui_trader.venues.base import Emit, VenueCapabilities, VenueError
from tui_trader.venues.ratelimit import RateGate
from tui_trader.venues.resilience import Backoff, ConnectionMonitor, TokenBucket, cancel_tasks, stop_tasks
from tui_trader.venues.streams import StreamBoard

log = logging.getLogger(__name__)

# Alpaca documents no window after which an order that has not arrived never will: a "not
# found" by client order id is believed this long after sending (reconcile waits until then).
NOT_FOUND_FINAL_S = 60.0


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


class AlpacaVenue(AlpacaStreams, AlpacaOrders, AlpacaHistory):
    kind = "alpaca"
    takes_keys = True  # `venue reconnect` reads them again (`reconnect_with`)
    # back once its sockets are open and "listen" sent, before Alpaca answers "listening": the
    # engine reads back once more this long after a reconnect's reconcile (engine/reconnect.py)
    read_back_again_s = 5.0

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
        rest_timeout_s: float = 10.0,
        clock_refresh_s: float = 60.0,
        not_found_final_after_s: float = NOT_FOUND_FINAL_S,
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
        self.streams = StreamBoard(self.monitor.stall_after_s)
        self.rate_gate = RateGate(name, base_s=settings.backoff_base_s, cap_s=max(120.0, settings.backoff_cap_s))
        rate = order_rate or settings.order_rate_per_s
        self.order_bucket = TokenBucket(rate, max(1.0, rate * 2))
        self.rest_timeout_s = rest_timeout_s
        self.clock_refresh_s = clock_refresh_s
        self.not_found_final_after_s = not_found_final_after_s
        self.hours = MarketClock()
        self.instruments: dict[str, Instrument] = {}
        self._crypto_ids: dict[str, str] = {s.replace("/", ""): s for s in settings.crypto_symbols}
        self._trading: Any = None
        self._stock_data: Any = None
        self._crypto_data: Any = None
        self._emit: Emit = lambda event: None
        self._streams: dict[str, Any] = {}  # "trade_updates" | "stocks" | "crypto" -> alpaca-py stream
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
        self._gap_from: dict[str, datetime] | None = None
        self._held_bars: dict[str, list[Candle]] = {}
        self.holes: deque[Hole] = deque(maxlen=100)
        self._working: dict[str, Decimal] = {}
        self._probing = False
        self._probed_at = 0.0
        self._relearn = False
        self.counters = {
            "reconnects": 0,
            "rate_limited": 0,
            "found_by_client_id": 0,
            "duplicate_fills": 0,
            "malformed": 0,
        }

    # -- clients -------------------------------------------------------------------------------

    def _make_clients(self) -> None:
        self._trading, self._stock_data, self._crypto_data = self._clients(self._credentials)

    def _clients(self, credentials: Credentials) -> tuple[Any, Any, Any]:
        """alpaca-py's trading, stock data and crypto data REST clients, signed with `credentials`."""
        from alpaca.data.historical import CryptoHistoricalDataClient, StockHistoricalDataClient
        from alpaca.trading.client import TradingClient

        _quiet_loggers()
        key, secret = credentials.api_key, credentials.secret
        data_rest = (
            _host(self.settings.data_url_override, {"ws": "http", "wss": "https"})
            if self.settings.data_url_override
            else None
        )
        trading = TradingClient(key, secret, paper=self.settings.paper, url_override=self.settings.url_override or None)
        clients = (
            trading,
            StockHistoricalDataClient(key, secret, url_override=data_rest),
            CryptoHistoricalDataClient(key, secret, url_override=data_rest),
        )
        for client in clients:
            client._session = _timeout_session(self.rest_timeout_s)
            client._retry = 0  # 429s wait on our rate gate, not a blocking 3 s sleep in a thread
        return clients

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
        self._streams[PRIVATE] = self._make_stream(PRIVATE)
        self._start(PRIVATE)
        self._tasks["watchdog"] = asyncio.create_task(self._watchdog(), name=f"{self.name}-watchdog")
        self._tasks["clock"] = asyncio.create_task(self._clock_loop(), name=f"{self.name}-clock")
        # fills are only safe once trade updates flow: wait (briefly) for the socket
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._until(lambda: PRIVATE in self._ready | self._dead), 5.0)

    async def reconnect_with(self, credentials: Credentials | None) -> None:
        """`tui-trader venue reconnect NAME`: the venue reconnected with `credentials` (the keys
        read again from the keyring): the account is read with them first, on new REST clients;
        refused (or Alpaca unreachable), this raises and nothing changed. Then every socket is
        opened again with them, one stopped for refused keys too; back, the engine reconciles."""
        credentials = credentials or Credentials()
        async with self._reconnect_lock:
            clients = self._clients(credentials)
            await self._rest(clients[0].get_account, what="account")  # bad keys stop here
            self._credentials = credentials
            self._trading, self._stock_data, self._crypto_data = clients
            self._generation += 1
            self.counters["reconnects"] += 1
            self.monitor.reconnecting("reconnecting with the keys read again", now=True)
            names = list(self._streams)
            self.streams.resume(names, "keys read again; subscribing")
            self.streams.restarting(names, "reconnecting with the keys read again")
            self._working.clear()  # the reconcile after the reconnect settles them; the probe relearns
            self._relearn = True
            await stop_tasks(*(self._tasks.pop(k) for k in list(self._streams) if k in self._tasks))
            for key, old in list(self._streams.items()):
                await self._close_stream(old)
                self._streams[key] = self._make_stream(key)  # signed with the new keys
                if key != PRIVATE:
                    self._streams[key]._handlers = old._handlers  # the symbols subscribed
            self._ready.clear()
            self._dead.clear()
            for key in self._streams:
                self._start(key)

    async def _until(self, cond: Callable[[], bool]) -> None:
        while not cond():
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        self._closing = True
        tasks = await cancel_tasks(self._tasks)  # alpaca-py's receive loop can swallow a cancel (3.11)
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
            channels: list[tuple[str, Callable[[Any], Any]]] = [("quotes", self._on_quote), ("trades", self._on_trade)]
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

    def fee_rates(self, symbol: str) -> tuple[float, float]:
        """(maker, taker): stocks trade commission-free; crypto at Alpaca's first volume tier
        (0.15 % maker, 0.25 % taker: alpaca.markets/support/crypto-maker-taker-gmt-faq); a
        higher tier is set with [venues.NAME] maker_fee / taker_fee."""
        return (0.0015, 0.0025) if self._is_crypto(symbol) else (0.0, 0.0)

    def market_open(self, symbol: str, now: datetime) -> bool:
        """Engine pre-trade hook. With extended hours on, orders pass and `create_order` keeps
        them to limit orders flagged `extended_hours`."""
        inst = self.instruments.get(symbol)
        if inst is not None and inst.always_open:
            return True
        return self.hours.open_at(now) or self.settings.extended_hours

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

    # -- REST with rate-limit backoff ---------------------------------------------------------

    def _rate_limited(self, exc: Any) -> None:
        """A 429: close the gate for what Alpaca asks (X-RateLimit-Reset, Retry-After), say so once."""
        self.counters["rate_limited"] += 1
        was_closed = self.rate_gate.closed
        headers = dict(getattr(getattr(exc, "response", None), "headers", None) or {})
        self.rate_gate.hit(429, headers)
        if not was_closed:
            text = self.rate_gate.describe()
            log.warning("%s: %s", self.name, text)
            self._emit(NoticeEvent(self.clock.now(), "warning", text, self.name))

    async def _rest(self, fn: Callable[..., Any], *args: Any, what: str, attempts: int = 5) -> Any:
        import requests
        from alpaca.common.exceptions import APIError

        backoff = Backoff(self.monitor.backoff.base_s, self.monitor.backoff.cap_s)
        for attempt in range(attempts):
            await self.rate_gate.wait()
            try:
                result = await asyncio.to_thread(fn, *args)
            except APIError as exc:
                status = exc.status_code or 0
                if status == 429:
                    self._rate_limited(exc)
                    if attempt < attempts - 1:
                        continue  # the gate holds the retry
                elif status >= 500 and attempt < attempts - 1:
                    await asyncio.sleep(backoff.next_delay())
                    continue
                if status == 401:
                    raise VenueError(
                        f"{self.name}: {what}: authentication failed; run `tui-trader keys set {self.name}`"
                    ) from None
                if status == 429:
                    raise VenueError(f"{self.name}: {what}: HTTP 429 {self.rate_gate.describe()}") from None
                raise VenueError(f"{self.name}: {what}: HTTP {status} {self._safe(exc)}") from None
            except requests.RequestException as exc:
                if attempt == attempts - 1:
                    raise VenueError(f"{self.name}: {what}: {self._safe(exc)}") from None
                await asyncio.sleep(backoff.next_delay())
            else:
                self.rate_gate.ok()
                return result
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
        """The cash and the positions at Alpaca's value (its equity), with that value of each
        position (`Balance.valued`: the engine takes out the part it holds itself). Stocks held
        there from before tui_trader are in it; the cash alone left them out, and on a margin
        account that borrowed against them it read negative."""
        return (await self.fetch_account())[0]

    async def fetch_positions(self) -> dict[str, Decimal]:
        """Quantities Alpaca holds per symbol (signed); a check on our fill-based positions."""
        rows = await self._rest(self._trading.get_all_positions, what="fetch positions")
        return {symbol: qty for symbol, qty, _ in self._held(rows)}

    async def fetch_account(self) -> tuple[dict[str, Balance], dict[str, Decimal]]:
        """The balances and the positions from one read of the account and one of its
        positions (the balances value the positions: read once for both)."""
        account = await self._rest(self._trading.get_account, what="fetch balances")
        rows = await self._rest(self._trading.get_all_positions, what="fetch positions")
        held = self._held(rows)
        cash, ccy = convert.dec(account.cash), account.currency or "USD"
        valued = tuple((symbol, qty, abs(convert.dec(p.market_value)).copy_sign(qty)) for symbol, qty, p in held if qty)
        total = cash + sum((v for _, _, v in valued), Decimal(0))
        return {ccy: Balance(ccy, total, cash, valued=valued)}, {symbol: qty for symbol, qty, _ in held}

    def _held(self, rows: list[Any]) -> list[tuple[str, Decimal, Any]]:
        """(symbol, signed quantity, the position) of each of Alpaca's positions."""
        return [
            (self._symbol(p.symbol), convert.dec(p.qty) * (-1 if convert.enum_value(p.side) == "short" else 1), p)
            for p in rows
        ]
