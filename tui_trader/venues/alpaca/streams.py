"""The Alpaca adapter's sockets: trade updates, stock data, crypto data, each watched.

alpaca-py connects, authenticates, subscribes and decodes each socket; we drive them, own the
reconnects (one venue-wide reconnect with backoff and jitter through `ConnectionMonitor`),
stall detection and the connection state. The venue counts as connected only when every
socket is back and data flows again; the reconcile that follows fills any gap.

The private socket (`trade_updates`) may be quiet for hours; it is silent when something it
owes has not come within `stall_after_s`: an order Alpaca acknowledged over REST, or a working
order REST shows filled or gone (`venues.streams.StreamBoard`). A silent private socket is
reconnected while market data keeps flowing, and the reconcile after it backfills its fills.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.enums import ConnectionState, OrderStatus
from tui_trader.core.events import BookEvent, CandleEvent, ExecutionReport, TickerEvent, TradeEvent
from tui_trader.core.market import Candle
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues.alpaca import convert
from tui_trader.venues.alpaca.hours import MarketClock
from tui_trader.venues.backfill import Hole, say
from tui_trader.venues.base import Emit, VenueOrder
from tui_trader.venues.resilience import ConnectionMonitor, in_background, watchdog_pause
from tui_trader.venues.streams import PrivateProbe, StreamBoard

log = logging.getLogger(__name__)

SEEN_FILLS = 10_000  # execution ids remembered for stream dedupe
PRIVATE = "trade_updates"  # the private socket, by Alpaca's name for it (its status row's too)


HELD_BARS = 600  # live bars held per symbol while its gap is read back, at most
BACKFILL_BARS = 10_000  # the 1m bars read back after an outage (alpaca-py pages up to it)


def _host(url: str, scheme_map: dict[str, str]) -> str:
    parts = urlsplit(url)
    return f"{scheme_map.get(parts.scheme, parts.scheme)}://{parts.netloc}"


def _auth_refused(exc: ValueError) -> bool:
    text = str(exc).lower()
    return "authenticat" in text or "auth failed" in text or "insufficient subscription" in text


class AlpacaStreams(PrivateProbe):
    """Mixed into AlpacaVenue, whose clients, monitor and REST helpers it uses."""

    name: str
    settings: VenueSettings
    clock: Clock
    monitor: ConnectionMonitor
    streams: StreamBoard
    hours: MarketClock
    rest_timeout_s: float
    counters: dict[str, int]
    _credentials: Credentials
    _emit: Emit
    _streams: dict[str, Any]
    _tasks: dict[str, asyncio.Task[None]]
    _ready: set[str]
    _dead: set[str]
    _generation: int
    _reconnect_lock: asyncio.Lock
    _closing: bool
    _cid_by_vid: dict[str, str]
    _crypto_ids: dict[str, str]
    _seen: set[str]
    _seen_order: deque[str]
    _last_price: dict[str, float]
    _mid: dict[str, float]
    _last_bar: dict[str, datetime]
    _gap_from: dict[str, datetime] | None  # each symbol's last closed bar when the outage began
    _held_bars: dict[str, list[Candle]]  # live bars held while the outage's gap is read back
    holes: deque[Hole]  # what backfills after outages could not reach, newest last

    if TYPE_CHECKING:  # provided by AlpacaVenue and AlpacaHistory

        def _safe(self, exc: BaseException) -> str: ...

        async def fetch_candles(
            self, symbol: str, timeframe: str, since: datetime | None = None, limit: int = 500
        ) -> list[Candle]: ...

        async def fetch_open_orders(self) -> list[VenueOrder]: ...

    # -- the sockets ------------------------------------------------------------------------------

    def _ws_params(self) -> dict[str, Any]:
        return {"ping_interval": 10, "ping_timeout": 20, "close_timeout": 1, "open_timeout": 10, "max_queue": 1024}

    def _make_stream(self, key: str) -> Any:
        key_id, secret = self._credentials.api_key, self._credentials.secret
        self.streams.add(key, private=key == PRIVATE, steady=False)
        if key == PRIVATE:
            from alpaca.trading.stream import TradingStream

            url = (
                _host(self.settings.url_override, {"http": "ws", "https": "wss"}) + "/stream"
                if self.settings.url_override
                else None
            )
            stream = TradingStream(key_id, secret, paper=self.settings.paper, url_override=url,  # type: ignore[arg-type]
                                   websocket_params=self._ws_params())
            stream.subscribe_trade_updates(self._on_trade_update)
            dispatch = stream._dispatch

            async def heard(msg: dict[str, Any]) -> None:  # alpaca-py drops Alpaca's answer to "listen"
                if msg.get("stream") == "listening" and "trade_updates" in (msg.get("data") or {}).get("streams", ()):
                    self.streams.subscribed(PRIVATE, "Alpaca is listening; nothing to say since")
                await dispatch(msg)

            stream._dispatch = heard  # type: ignore[method-assign]
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
                    if key != PRIVATE:
                        await stream._send_subscribe_msg()
                    stream._running = True
                    self._ready.add(key)
                    self.streams.waiting(key)
                    self._alive(key, handshake=True)
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
                    refused = (f"authentication failed; run `tui-trader keys set {self.name}`, "
                               f"then `tui-trader venue reconnect {self.name}`")  # fmt: skip
                    self.streams.stopped(key, refused)
                    self.monitor.set(ConnectionState.DEGRADED, f"{key} stream stopped: {refused}")
                    return
                connection = isinstance(exc, websockets.WebSocketException | OSError | TimeoutError | AttributeError)
                if stream._running and not connection:  # a malformed frame: skip it, keep the socket
                    self.counters["malformed"] += 1
                    log.warning("%s: %s message skipped: %s", self.name, key, self._safe(exc))
                    continue
                self._ready.discard(key)
                self.streams.down(key, self._safe(exc)[:200])
                await self._recover(gen, f"{key}: {self._safe(exc)}")
                gen = self._generation

    async def _close_stream(self, stream: Any) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(stream.close(), 2.0)
        stream._ws = None
        stream._running = False

    def _alive(self, key: str | None = None, *, handshake: bool = False) -> None:
        """A message: the venue counts as connected once every socket is back and, where data
        should flow, flows again, and no stream is silent. A server that answers the handshake
        but sends nothing is still stalled: reconciling then would miss the fills it drops next
        (found by the soak)."""
        if key is not None and not handshake:
            self.streams.message(key)
        quiet_handshake = handshake and self._streaming_data(self.clock.now())
        if self._all_back() and not quiet_handshake and not self.streams.unhealthy():
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
            if self._gap_from is None:  # the outage's first attempt: where the bars stopped
                self._gap_from = dict(self._last_bar)
                self._held_bars = {symbol: [] for symbol in self._last_bar}
            self.streams.dropped(list(self._streams), "socket closed to reconnect")
            delay = self.monitor.reconnecting(reason)
            log.info("%s: reconnecting (%s)", self.name, reason)
            me = asyncio.current_task()
            restart = [k for k, t in self._tasks.items() if k in self._streams and t is not me]
            self._working.clear()  # the reconcile after the reconnect settles them; the probe relearns
            self._relearn = True
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
            await watchdog_pause(period)
            silent = self.streams.silent()
            if silent:  # trade_updates owes news it has not brought (market data may flow on)
                summary = self.streams.summary()
                self.monitor.degraded(summary)
                log.warning("%s: %s; reconnecting", self.name, summary)
                await self._recover(self._generation, summary)
                continue
            if self._probe_due():
                self._probing = True
                in_background(self._probe_private(PRIVATE), f"{self.name}-probe")
            if not self._streaming_data(self.clock.now()):
                continue
            age = self.monitor.message_age() or 0.0
            if self.monitor.stalled():
                self.monitor.degraded(f"stalled: no message for {age:.1f}s")
                await self._recover(self._generation, f"stalled {age:.1f}s")
            elif self._silent_after_reconnect():
                await self._recover(self._generation, f"still silent {age:.1f}s after reconnecting")

    # -- messages -------------------------------------------------------------------------------

    def _symbol(self, raw: str) -> str:
        return self._crypto_ids.get(raw, raw)

    def _data_key(self, symbol: str) -> str:
        return "crypto" if symbol in self._crypto_ids.values() else "stocks"

    async def _on_quote(self, q: Any) -> None:
        symbol = self._symbol(q.symbol)
        self._alive(self._data_key(symbol))
        if q.bid_price and q.ask_price:
            self._mid[symbol] = (float(q.bid_price) + float(q.ask_price)) / 2
        last = self._last_price.get(symbol) or self._mid.get(symbol, 0.0)
        self._emit(TickerEvent(convert.ticker(self.name, symbol, q, last)))
        self._emit(BookEvent(convert.top_of_book(self.name, symbol, q)))

    async def _on_trade(self, t: Any) -> None:
        symbol = self._symbol(t.symbol)
        self._alive(self._data_key(symbol))
        self._last_price[symbol] = float(t.price)
        self._emit(TradeEvent(convert.trade_print(self.name, symbol, t, self._mid.get(symbol, 0.0))))

    async def _on_bar(self, b: Any) -> None:
        symbol = self._symbol(b.symbol)
        self._alive(self._data_key(symbol))
        candle = convert.candle(symbol, "1m", b, self.clock.now(), timedelta(minutes=1))
        held = self._held_bars.get(symbol)
        if held is not None and candle.closed:  # after the gap's bars (`_backfill`), not before them
            held.append(candle)
            del held[:-HELD_BARS]
            return
        if candle.closed:
            self._last_bar[symbol] = max(self._last_bar.get(symbol, candle.open_time), candle.open_time)
        self._emit(CandleEvent(self.name, candle))

    async def _on_trade_update(self, u: Any) -> None:
        o = u.order
        cid, vid = o.client_order_id, str(o.id)
        self.streams.arrived(PRIVATE, cid)
        self._alive(PRIVATE)
        self._cid_by_vid[vid] = cid
        event = convert.enum_value(u.event)
        if event in ("fill", "partial_fill"):
            if u.execution_id is None or u.qty is None:
                return
            f = convert.fill_from_update(self.name, u, self._crypto_ids)
            if not self._first_sighting(f.fill_id):
                self.counters["duplicate_fills"] += 1
                return
            if event == "fill":
                self._working.pop(cid, None)
            elif cid in self._working:
                self._working[cid] += f.quantity
            self._emit(ExecutionReport(self.name, cid, None, f.ts, vid, None, f))
            return
        status = convert.EVENT_STATUS.get(event)
        if status is OrderStatus.ACCEPTED:
            self._working.setdefault(cid, convert.dec(o.filled_qty))
        elif status is not None:
            self._working.pop(cid, None)
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
        """After a reconnect: the closed minute bars missed since the outage began, from REST
        (our missed fills come from the reconcile the reconnect triggers). Live bars that came
        meanwhile were held (`_on_bar`) and follow them: a strategy never reads a new bar with
        the gap still open before it. What REST could not give back is said and kept as a hole
        (`holes`: a strategy reads no signal from a window with one, engine/candle_holes.py).
        Minutes with no trade have no bar on Alpaca (a thin stock on IEX): no hole is read
        from a missing minute, only from a read that failed or ran out of pages."""
        gap, self._gap_from = (self._gap_from if self._gap_from is not None else dict(self._last_bar)), None
        try:
            for symbol, last in gap.items():
                await self._backfill_symbol(symbol, last)
        finally:
            for symbol in list(self._held_bars):  # whatever happened, the live bars go on
                self._release(symbol, self._last_bar.get(symbol))

    async def _backfill_symbol(self, symbol: str, last: datetime) -> None:
        start = last + timedelta(minutes=1)
        try:
            candles = await self.fetch_candles(symbol, "1m", start, BACKFILL_BARS)
        except Exception as exc:  # the venue's history unreadable now: the gap stays open, said
            self._say_hole(symbol, start, f"its history could not be read ({self._safe(exc)})")
            candles = []
        newest = last
        for candle in candles:
            if candle.open_time > newest and candle.closed:
                self._emit(CandleEvent(self.name, candle))
                newest = candle.open_time
        if len(candles) >= BACKFILL_BARS:  # a page limit, not the present
            self._say_hole(symbol, newest + timedelta(minutes=1), f"the {len(candles)} read back did not reach them")
        self._last_bar[symbol] = max(self._last_bar.get(symbol, newest), newest)
        self._release(symbol, newest)

    def _release(self, symbol: str, after: datetime | None) -> None:
        """The live bars held for `symbol`, those after `after`, in order."""
        for candle in sorted(self._held_bars.pop(symbol, ()), key=lambda c: c.open_time):
            if after is None or candle.open_time > after:
                self._emit(CandleEvent(self.name, candle))
                self._last_bar[symbol] = after = candle.open_time

    def _say_hole(self, symbol: str, start: datetime, why: str) -> None:
        """The 1m bars of `symbol` from `start` up to the first live bar held (else this minute)."""
        held = self._held_bars.get(symbol) or []
        end = min((c.open_time for c in held), default=self.clock.now().replace(second=0, microsecond=0))
        if end <= start:
            return
        hole = Hole(self.name, symbol, "1m candles", int(start.timestamp() * 1000), int(end.timestamp() * 1000), 0,
                    why=why)  # fmt: skip
        say(hole, self.holes, self._emit, self.clock.now())
