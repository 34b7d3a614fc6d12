"""The ccxt adapter's streams: one `watch_*` loop per stream, each watched on its own.

- Market data per symbol (ticker, book, trades, candles) and the private streams (own orders,
  own fills) each run a loop; a stream the exchange lacks is polled over REST instead.
- A `StreamBoard` knows each stream's state. Market data silent for `stall_after_s` is silent;
  the private stream is silent when something it owes (an order the venue acknowledged over
  REST, an order REST shows filled or gone) has not come within `stall_after_s`.
- Any stream error or silence makes one venue-wide reconnect: close the sockets, back off with
  jitter, every loop watches again (ccxt resubscribes, the clock is measured again). A private
  subscribe refused on a live socket renews the private socket alone where ccxt's is known
  (`exchanges.PRIVATE_WS`): market data flows on while the refusal lasts. One subscription
  refused on a socket shared with others (Coinbase's: `ws_refusals`) is subscribed again
  alone, on its own backoff, the rest of the socket flowing on. The venue counts as
  `connected` only while no stream is down or silent; getting there after a reconnect makes
  the engine reconcile, which backfills the private stream's gap from the fills history.
  Candles and public trades are backfilled over REST here.
- A book's first answer after a subscribe is its snapshot (ccxt's binance loads it over REST,
  OKX and Bybit push it first on the socket, at each subscribe, market data frozen or not):
  the book shown, not its stream back, which is the next answer, an update on it. Taken for
  the stream back, each reconnect attempt of a freeze was a recovery.
- Keys the venue refuses stop every private stream for good (`stopped`, naming `keys set`):
  no reconnect can fix them. The venue stays `degraded`, its market data watched for stalls
  as a connected venue's; back after a reconnect, it is a recovery all the same (backfilled),
  naming the keys. Not while our clock is off the venue's (`_clock_off`): then the
  refusal may be the clock's, and is retried saying so. Errors are judged on the venue's own
  answer (`venue_answer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.enums import ConnectionState, OrderStatus
from tui_trader.core.events import BookEvent, CandleEvent, ExecutionReport, TickerEvent, TradeEvent
from tui_trader.core.market import Ticker
from tui_trader.venues import backfill, candle_pages
from tui_trader.venues.base import Emit, VenueOrder
from tui_trader.venues.ccxt import convert, exchanges
from tui_trader.venues.ccxt.book_snapshot import PublicSnapshot
from tui_trader.venues.ccxt.errors import (
    CLOCK_WARN_MS,
    auth_refusal,
    is_auth_error,
    is_clock_error,
    is_keys_refused,
    is_network_error,
    is_session_refused,
    keys_refused,
    venue_answer,
)
from tui_trader.venues.ccxt.ws_refusals import SubscriptionRefused
from tui_trader.venues.resilience import Backoff, ConnectionMonitor, in_background, stop_tasks, watchdog_pause
from tui_trader.venues.streams import DOWN, RESUBSCRIBED, SILENT, STOPPED, PrivateProbe, StreamBoard

log = logging.getLogger(__name__)

PRIVATE = ("orders", "fills")
REJOINING = "the venue's sockets closed to reconnect; subscribing again"  # a private stream in a reconnect
HELD_CANDLES = 5000  # live candle rows held for a series while its gap is read back, at most
SWEPT = 100  # the newest entries of ccxt's private caches looked through for news it holds back


class CcxtStreams(PrivateProbe):
    """Mixed into CcxtVenue, whose client, monitor and REST helpers it uses."""

    name: str
    exchange_id: str
    settings: VenueSettings
    clock: Clock
    clock_offset_ms: int | None
    monitor: ConnectionMonitor
    streams: StreamBoard
    _ex: Any
    _emit: Emit
    _closing: bool
    _tasks: dict[str, asyncio.Task[None]]
    _specs: dict[str, tuple[Callable[[], Awaitable[Any]], Callable[[Any], None]]]
    _generation: int
    _reconnect_lock: asyncio.Lock
    _private_lock: asyncio.Lock
    _private_backoff: Backoff
    _refusals: dict[str, Backoff]  # per stream refused alone on a shared socket (`_refused_alone`)
    _retried_at: float
    _cid_by_vid: dict[str, str]
    _fills_due: asyncio.Event
    _fills_heard: _RecentIds  # "symbol|trade id" of our fills handed on (`_on_fills`)
    _orders_heard: dict[str, tuple[Any, ...]]  # venue order id -> the state last handed on
    _last_candle: dict[tuple[str, str], int]
    _held_candles: dict[tuple[str, str], list[list[Any]]]  # live candles of a series whose gap is being read back
    _last_trade: dict[str, int]
    _trade_ids: dict[str, _RecentIds]
    holes: deque[backfill.Hole]  # spans a backfill could not reach, newest last
    _gap_from: tuple[dict[tuple[str, str], int], dict[str, int]] | None
    _books: PublicSnapshot | None
    _book_updates: dict[str, tuple[int, int]]  # book stream -> (generation, updates ccxt held) at the last look
    counters: dict[str, int]

    if TYPE_CHECKING:  # provided by CcxtVenue and AccountHistory

        async def _rest(
            self, fn: Callable[..., Awaitable[Any]], *args: Any, what: str, attempts: int = 5, **kw: Any
        ) -> Any: ...

        def _safe(self, exc: BaseException) -> str: ...

        async def _sync_clock(self) -> int | None: ...

        async def fetch_open_orders(self) -> list[VenueOrder]: ...

        async def _poll_fills(self) -> list[dict[str, Any]]: ...

        def _with_mark(self, t: Ticker) -> Ticker: ...

    # -- subscribing ----------------------------------------------------------------------------

    async def subscribe(self, symbols: Sequence[str]) -> None:
        has = self._ex.has
        # binance's watchTicker defaults to the mini ticker, which has no bid/ask
        ticker_params = {"name": "ticker"} if self.exchange_id.startswith("binance") else {}
        for symbol in symbols:
            if has.get("watchTicker"):
                watch: Callable[[], Awaitable[Any]] = partial(self._ex.watch_ticker, symbol, ticker_params)
            else:
                watch = partial(self._poll, self._ex.fetch_ticker, symbol)
            self._start(f"ticker:{symbol}", watch, self._on_ticker)
            if has.get("watchOrderBook"):
                book = partial(self._ex.watch_order_book, symbol)
                self._start(f"book:{symbol}", book, partial(self._on_book, symbol))
            if has.get("watchTrades"):
                self._start(f"trades:{symbol}", partial(self._ex.watch_trades, symbol), self._on_trades)
            for tf in self.settings.candles:
                watch = (
                    partial(self._ex.watch_ohlcv, symbol, tf)
                    if has.get("watchOHLCV")
                    else partial(self._poll, self._ex.fetch_ohlcv, symbol, tf, None, 2)
                )
                self._start(f"candles:{symbol}:{tf}", watch, partial(self._on_candles, symbol, tf))

    @property
    def _topics_per_symbol(self) -> int:
        """The websocket subscriptions `subscribe` makes for each symbol (polled ones: none)."""
        has = self._ex.has
        watched = sum(bool(has.get(w)) for w in ("watchTicker", "watchOrderBook", "watchTrades"))
        return watched + (len(self.settings.candles) if has.get("watchOHLCV") else 0)

    def _start_private(self) -> None:
        has = self._ex.has
        if has.get("watchOrders"):
            self._start("orders", self._ex.watch_orders, self._on_orders)
        if has.get("watchMyTrades"):
            self._start("fills", self._ex.watch_my_trades, self._on_fills)
        else:  # coinbase: order updates stream, fills do not
            self._start("fills", self._poll_fills, self._on_fills)

    @property
    def _owes(self) -> str:
        """The private stream that reports order changes (orders where it exists, else fills)."""
        return "orders" if "orders" in self._specs else "fills"

    def _start(self, key: str, watch: Callable[[], Awaitable[Any]], handle: Callable[[Any], None]) -> None:
        if key not in self._tasks:
            self._specs[key] = (watch, handle)
            # public trades may be quiet for minutes in a thin market: not a sign of a dead stream
            self.streams.add(key, private=key in PRIVATE, steady=not key.startswith("trades:"))
            self._tasks[key] = asyncio.create_task(self._stream(key, watch, handle), name=f"{self.name}-{key}")

    @property
    def _public_streams(self) -> bool:
        return any(k.split(":")[0] in ("ticker", "book", "trades", "candles") for k in self._tasks)

    async def _poll(self, fetch: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """REST polling where the exchange has no stream: the same loop, a slower cadence."""
        await asyncio.sleep(self.settings.poll_interval_s)
        return await fetch(*args)

    # -- the loops ------------------------------------------------------------------------------

    async def _stream(self, key: str, watch: Callable[[], Awaitable[Any]], handle: Callable[[Any], None]) -> None:
        gen = self._generation
        snapshot = key.startswith("book:")  # a book's first answer after a subscribe: its snapshot
        while not self._closing:
            try:
                data = await self._watch_once(key, watch)
            except asyncio.CancelledError:
                raise
            except Exception as raised:
                if self._closing:
                    return
                snapshot = key.startswith("book:")  # subscribed again, whatever follows: a snapshot first
                if isinstance(raised, SubscriptionRefused):  # on a socket that carries on
                    await self._refused_alone(key, raised)
                    continue
                exc = venue_answer(raised)
                signed_off = self.clock_offset_ms  # the offset the refused request was signed with
                if is_auth_error(exc) and not await self._clock_off(key):  # no reconnect fixes bad keys
                    # public data carries on; new keys come with `tui-trader venue reconnect`
                    self._auth_failed(key, auth_refusal(self.name, self.exchange_id, exc, running=True))
                    return
                reason = self._safe(exc)
                refused_key = key in PRIVATE and exchanges.forget_refused_listen_key(
                    self.exchange_id, self._ex.options, str(exc)
                )
                refused = key in PRIVATE and (
                    refused_key or is_clock_error(exc) or is_keys_refused(exc) or not is_network_error(exc)
                )
                # the private socket alone dropped (Kraken's ws-auth), the public one reading on
                dropped_alone = key in PRIVATE and not refused and exchanges.public_ws_open(
                    self.exchange_id, self._ex.urls, self._ex.clients
                )
                if refused or dropped_alone:
                    # the subscribe was refused on a live socket (a signed subscribe: most often
                    # for its timestamp), or its listenKey refused, or the private socket alone
                    # was lost. ccxt's binance then keeps a future that never resolves (see
                    # `venue_answer`), so the stream is subscribed again on a fresh private
                    # socket (or through the venue-wide reconnect below), the clock measured
                    # first. It stays `down` (the venue not `connected`) until a subscribe goes
                    # through; the reconcile after it fills the gap.
                    offset = await self._sync_clock()
                    if offset is not None and signed_off is not None and abs(signed_off) > abs(offset):
                        offset = signed_off  # set right since: the refusal was still the clock's
                    reason = self._refused(exc, reason, offset) if refused else f"private socket lost: {reason}"
                    self.streams.down(key, reason[:200])
                    self.counters["private_resubscribes"] += 1
                    log.warning("%s: %s stream failed (%s); subscribing again", self.name, key, reason)
                    if await self._resubscribe_private(key, reason):
                        continue
                elif key not in PRIVATE:  # a drop takes every stream down; the private one comes
                    self.streams.down(key, reason[:200])  # back with the rest (it says nothing)
                await self._recover(gen, f"{key}: {reason}")
                gen = self._generation
                continue
            gen = self._generation
            if key in PRIVATE:
                self._private_backoff.reset()
            if self._refusals:
                self._refusals.pop(key, None)
            if snapshot:  # the book, not its stream back
                snapshot = False
                self.streams.snapshot(key)
            else:
                self._alive(key)
            try:
                handle(data)
            except Exception as exc:  # a bad message must not kill the stream
                log.warning("%s: %s message skipped: %s", self.name, key, self._safe(exc))

    async def _watch_once(self, key: str, watch: Callable[[], Awaitable[Any]]) -> Any:
        """One `watch_*` call. A private stream that was down is `waiting` (subscribed, with
        nothing to say) once a subscribe has been pending a moment without an error; renewed
        alone, the venue is back then; in a venue-wide reconnect, at its market data's return
        (a frozen market is not back for a quiet subscribe)."""
        if key not in PRIVATE or self.streams.state(key) not in ("down", "silent"):
            return await watch()
        pending = asyncio.ensure_future(watch())
        try:
            done, _ = await asyncio.wait({pending}, timeout=min(1.0, self.monitor.stall_after_s / 2))
            if not done:
                self.streams.waiting(key)
                self._private_backoff.reset()
                if self.monitor.state is not ConnectionState.RECONNECTING:  # else back with market data
                    self._alive(None)
            return await pending
        except asyncio.CancelledError:
            pending.cancel()
            raise

    async def _resubscribe_private(self, key: str, reason: str) -> bool:
        """After a refused private subscribe: the private streams subscribe again on a fresh
        private socket after their own backoff, market data untouched (a venue-wide reconnect
        pauses it for each backoff, for as long as the refusal lasts). False where ccxt's
        private socket is not known: the caller reconnects the venue instead."""
        urls = exchanges.private_ws_urls(self.exchange_id, self._ex.urls, self._ex.clients)
        if urls is None:
            return False
        async with self._private_lock:
            delay = self._private_backoff.next_delay()
            if self.monitor.state in (ConnectionState.CONNECTED, ConnectionState.DEGRADED):
                self.monitor.renewing(f"{key}: {reason}; subscribing again in {delay:.1f}s")
            me = asyncio.current_task()
            others = [
                k for k in PRIVATE
                if k in self._tasks and self._tasks[k] is not me and self.streams.state(k) != STOPPED
            ]
            # their debts go with them: the reconcile once they are back settles those orders,
            # and the probe learns the working orders again (as after a reconnect)
            self.streams.restarting([key, *others], "resubscribing")
            for k in others:  # down with it, not owing anything until it is back
                self.streams.down(k, f"renewing the private socket ({key}: {reason})"[:200])
            self._working.clear()
            self._relearn = True
            # waiting on the refused subscribe's future, for ever. A venue-wide reconnect that
            # cancels this task meanwhile must not be swallowed here (it waited on us for ever)
            await stop_tasks(*(self._tasks[k] for k in others))
            for url in urls:  # a refused login can leave ccxt's socket waiting for ever too
                with contextlib.suppress(Exception):
                    await self._ex.clients.pop(url).close()
            await asyncio.sleep(delay)
            await self._sync_clock()
            for k in others:
                watch, handle = self._specs[k]
                self._tasks[k] = asyncio.create_task(self._stream(k, watch, handle), name=f"{self.name}-{k}")
        return True

    async def _refused_alone(self, key: str, refused: SubscriptionRefused) -> None:
        """The venue refused this one subscription on a socket it shares with others
        (`ws_refusals`): this stream is `down` saying so and subscribes again on its own
        backoff; the other streams, and the venue's connection, are left alone."""
        backoff = self._refusals.setdefault(key, Backoff(self.settings.backoff_base_s, self.settings.backoff_cap_s))
        delay = backoff.next_delay()
        reason = f"{self.name} refused {refused.what}: {refused.answer}"
        self.streams.down(key, reason[:200])
        self.counters["subscriptions_refused"] += 1
        (log.warning if backoff.attempt == 1 else log.info)(
            "%s; subscribing to it again in %.1fs, the other streams flowing on", reason, delay
        )
        if self.monitor.state in (ConnectionState.CONNECTED, ConnectionState.DEGRADED):
            # a private stream back reconciles what it missed meanwhile
            (self.monitor.renewing if key in PRIVATE else self.monitor.degraded)(
                f"{reason}; subscribing again in {delay:.1f}s"
            )
        await asyncio.sleep(delay)

    def _auth_failed(self, key: str, reason: str) -> None:
        """The venue refused our keys on `key` (Binance -2015): every private stream stops for
        good, they share the keys (and ccxt's binance leaves the other one waiting for ever on
        the refused subscribe). Public data carries on; the venue stays `degraded` saying so
        (once its market data is back, refused at a reconnect), in the words of `auth_refusal`
        (what to check where the venue did not say why; KuCoin's frozen account, not the keys)."""
        names = [
            k for k in (PRIVATE if key in PRIVATE else (key,)) if k in self._tasks and self.streams.state(k) != STOPPED
        ]
        if not names:  # both private streams were refused at once: stopped by the other one
            return
        me = asyncio.current_task()
        for name in names:
            self.streams.stopped(name, reason)
            if self._tasks[name] is not me:
                self._tasks[name].cancel()
        what = f"{' and '.join(names)} stream{'s' if len(names) > 1 else ''} stopped: {reason}"
        log.warning("%s: %s", self.name, what)
        # refused at a reconnect whose market data is not back yet: still reconnecting, so that
        # its return is a recovery (the gap backfilled) and its absence is retried
        reconnecting = self.monitor.state is ConnectionState.RECONNECTING
        self.monitor.set(ConnectionState.RECONNECTING if reconnecting else ConnectionState.DEGRADED, what)

    async def _clock_off(self, key: str) -> bool:
        """Our clock is off the venue's (measured now, or when the refused login was signed:
        the last measurement before it), so a refused private login may be the clock's doing,
        not the keys': ccxt signs some logins with its own uncorrected clock (Bybit's
        `expires`, 10 s ahead) and reads their refusal as bad keys. Retried, saying "clock".
        A clock set right while such a login was on its way is retried once more, not read as
        bad keys; keys refused with the clocks agreeing stop at the next refusal."""
        if key not in PRIVATE:
            return False
        before = self.clock_offset_ms
        offset = await self._sync_clock()
        return any(o is not None and abs(o) > CLOCK_WARN_MS for o in (before, offset))

    def _refused(self, exc: BaseException, reason: str, offset: int | None) -> str:
        """Why a private subscribe was refused, saying "clock" where the clock may be why."""
        if is_session_refused(exc):  # the token, not the keys: the private socket is renewed
            return f"token refused: {self.name} no longer takes our websocket token ({reason}); asking for a new one"
        if is_keys_refused(exc):  # ambiguous: subscribed again on the backoff, never `stopped`
            return f"subscribe refused: {keys_refused(self.name)}"
        if offset is None:
            return (f"subscribe refused; clock: {self.name}'s time could not be read to check ours "
                    f"(a refused signed subscribe is most often the clock): {reason}")
        if is_clock_error(exc) or abs(offset) > CLOCK_WARN_MS:
            return f"clock: {self.name}'s clock is {-offset:+d} ms from ours (corrected): {reason}"
        return f"subscribe refused: {reason}"

    def _alive(self, key: str | None) -> None:
        """A message on `key` (None: a stream came back without one). The venue is `connected`
        only while no stream is down, silent or stopped: market data flowing must not hide a
        dead private stream. Back after a reconnect with such a stream, it is `degraded`, not
        left `reconnecting` (where the watchdog reconnects again: for ever, for a stream
        stopped for bad keys). Back with only streams stopped for refused keys unhealthy, it is
        a recovery all the same (the gap backfilled), `degraded` naming the keys alone."""
        if key is not None:
            self.streams.message(key)
        bad = self.streams.unhealthy()
        if not bad:
            self.monitor.message()
            return
        self.monitor.last_message = time.monotonic()
        if self.monitor.state is ConnectionState.RECONNECTING and self.streams.stopped_only(bad):
            self.monitor.back_degraded(self.streams.summary(bad))
        elif self.monitor.state is ConnectionState.RECONNECTING and self._rejoining(bad):
            pass  # market data back first: the private streams' subscribes are a moment behind
        elif self.monitor.state in (ConnectionState.CONNECTED, ConnectionState.RECONNECTING):
            self.monitor.degraded(self.streams.summary())

    async def _recover(self, gen: int, reason: str) -> None:
        """One reconnect for the whole venue, however many streams noticed the failure."""
        async with self._reconnect_lock:
            if gen != self._generation or self._closing:
                return
            self._generation += 1
            self.counters["reconnects"] += 1
            self._gap_starts()
            self._streams_down()  # before the venue says it reconnects: its line names them down
            delay = self.monitor.reconnecting(reason)
            log.info("%s: reconnecting (%s)", self.name, reason)
            # A watch awaiting a socket we close may never return: restart every other stream
            # (not one stopped for refused keys: it needs the trader, not another subscribe).
            me = asyncio.current_task()
            restart = [
                k for k, t in self._tasks.items()
                if k in self._specs and t is not me and self.streams.state(k) != STOPPED
            ]
            self._working.clear()  # the reconcile after the reconnect settles them; the probe relearns
            self._relearn = True
            await stop_tasks(*(self._tasks[key] for key in restart))  # our own cancel not swallowed
            with contextlib.suppress(Exception):
                await self._ex.close_ws_clients()
            exchanges.forget_ws_tokens(self.exchange_id, self._ex.options)  # fresh ones for the new sockets
            await asyncio.sleep(delay)
            await self._sync_clock()  # signed subscribes and orders carry the venue's time
            for key in restart:
                watch, handle = self._specs[key]
                self._tasks[key] = asyncio.create_task(self._stream(key, watch, handle), name=f"{self.name}-{key}")
            self._retried_at = asyncio.get_running_loop().time()
            if not self._public_streams:
                self.monitor.connected()

    def _streams_down(self) -> None:
        """A venue-wide reconnect: every stream is down with the sockets. Market data says
        `RESUBSCRIBED` (true while the venue reconnects and after it is back: no more reconnects
        for a stream that stays silent, a thin market); a private stream says `REJOINING` until
        a subscribe on the new socket has gone unrefused a moment (`_watch_once`: `waiting`),
        and is back, counted, at the reconcile after the reconnect (`StreamBoard.read_back`).
        It said `waiting`, subscribed, while nothing was: an outage read as a quiet account. One
        silent (or down for its own reason: often why the venue reconnects) stays so, saying
        "resubscribing", until a subscribe goes through."""
        private = [k for k in PRIVATE if k in self._specs]
        # one silent or down for its own reason (the cause of this reconnect, it may be) says so
        # still, "resubscribing" added, until a subscribe goes through
        board = self.streams
        faulty = [
            k for k in private if board.state(k) == SILENT or (board.state(k) == DOWN and board.detail(k) != REJOINING)
        ]
        board.restarting(faulty, RESUBSCRIBED)
        board.dropped([k for k in private if k not in faulty], REJOINING)
        board.restarting([k for k in self._specs if k not in PRIVATE], RESUBSCRIBED)

    def _rejoining(self, names: list[str]) -> bool:
        """`names` (the unhealthy streams) are private streams down with the venue's sockets,
        their subscribes on the new ones not yet taken, or streams stopped for refused keys:
        a reconnect under way, not a fault of its own (a refused subscribe says its reason)."""
        return all(
            self.streams.state(n) == STOPPED
            or (n in PRIVATE and self.streams.state(n) == DOWN and self.streams.detail(n) == REJOINING)
            for n in names
        )

    def _gap_starts(self) -> None:
        """At the first attempt of an outage: where the data stopped, so that the backfill once it
        is back starts there, and each candle series' live bars held until it is read back."""
        if self._gap_from is None:
            self._gap_from = (dict(self._last_candle), dict(self._last_trade))
            for series in self._last_candle:  # live candles wait for the gap's (`_backfill_candles`)
                self._held_candles.setdefault(series, [])

    async def _watchdog(self) -> None:
        period = max(0.05, min(1.0, self.monitor.stall_after_s / 4))
        while not self._closing:
            await watchdog_pause(period)
            self._sweep_private()
            self._books_filling()
            silent = self.streams.silent()
            # degraded only for streams stopped for refused keys, the market data flowing on
            # is watched as a connected venue's (frozen quotes behind "keys refused" otherwise)
            lasting = self.streams.stopped_only(self.streams.unhealthy())
            if self._public_streams and self.monitor.stalled(lasting=lasting):
                age = self.monitor.message_age() or 0.0
                self.monitor.degraded(f"stalled: no message for {age:.1f}s")
                await self._recover(self._generation, f"stalled {age:.1f}s")
            elif silent:
                # one stream stopped delivering while others flow (the private stream going
                # quiet while market data streams on loses fills if nobody notices)
                summary = self.streams.summary()
                self.monitor.degraded(summary)
                log.warning("%s: %s; resubscribing", self.name, summary)
                await self._recover(self._generation, summary)
            elif self._public_streams and self._retry_silent():
                # an attempt that neither errors nor delivers (kucoin: an expired ws token
                # answered with an error message ccxt.pro raises inside its receive loop)
                await self._recover(self._generation, "no message since reconnecting")
            elif self._probe_due() and self.streams.state(self._owes) != STOPPED:
                self._probing = True
                in_background(self._probe_private(self._owes), f"{self.name}-probe")

    def _books_filling(self) -> None:
        """A book whose snapshot is still to come is alive while its updates come. ccxt holds a
        book's updates (`cache`) until it has loaded its REST snapshot (binance: asked at the
        subscribe; kucoin: after 5 updates; a resync after a gap in the ids too) and hands on
        nothing meanwhile: with many symbols the snapshots queue behind the venue's rate limit,
        and a book counted as silent until its own came (past its grace every waiting book was
        silent: a reconnect, every book subscribed and its snapshot asked for again, a snowball
        on a slow machine). Updates held since the last look are live data: the stream is live
        (not its snapshot, which is no proof: it comes over REST, the socket silent or not).
        Updates held before a reconnect prove nothing of the new socket: counted from the first
        look after it."""
        books = getattr(self._ex, "orderbooks", None) or {}
        gen = self._generation
        for key in self._tasks:
            if not key.startswith("book:") or self.streams.state(key) == STOPPED:
                continue
            held = len(getattr(books.get(key.removeprefix("book:")), "cache", None) or ())
            seen_gen, seen = self._book_updates.get(key, (gen, 0))
            if seen_gen == gen and held > seen and not self._reconnect_lock.locked():
                self._alive(key)
            self._book_updates[key] = (gen, held)

    def _retry_silent(self) -> bool:
        return (
            self.monitor.state is ConnectionState.RECONNECTING
            and not self._reconnect_lock.locked()
            and asyncio.get_running_loop().time() - self._retried_at > self.monitor.stall_after_s
        )

    # -- messages -------------------------------------------------------------------------------

    def _on_ticker(self, t: dict[str, Any]) -> None:
        self._emit(TickerEvent(self._with_mark(convert.ticker(self.name, t))))

    def _on_book(self, symbol: str, raw: Any) -> None:
        if self._books is not None:  # down to the levels the public snapshot makes known
            raw = self._books.known(symbol, raw)
        self._emit(BookEvent(convert.book(self.name, symbol, raw)))

    def _on_trades(self, trades: list[dict[str, Any]]) -> None:
        for t in trades:
            if str(t.get("id")) in self._trade_ids.get(t["symbol"], ()):
                continue  # the backfill after a reconnect printed it already
            self._remember_trade(t)
            self._emit(TradeEvent(convert.trade_print(self.name, t)))

    def _remember_trade(self, t: dict[str, Any]) -> None:
        symbol = t["symbol"]
        self._last_trade[symbol] = max(self._last_trade.get(symbol, 0), int(t.get("timestamp") or 0))
        self._trade_ids.setdefault(symbol, _RecentIds()).add(str(t.get("id")))

    def _on_candles(self, symbol: str, tf: str, rows: list[list[Any]]) -> None:
        held = self._held_candles.get((symbol, tf))
        if held is not None:  # an outage's gap not read back yet: after it (`_backfill_candles`)
            held.extend(rows)
            del held[:-HELD_CANDLES]
            return
        tf_ms = self._ex.parse_timeframe(tf) * 1000
        now_ms = int(self.clock.now().timestamp() * 1000)
        for row in rows:
            self._emit_candle(symbol, tf, row, now_ms, tf_ms)

    def _emit_candle(self, symbol: str, tf: str, row: list[Any], now_ms: int, tf_ms: int) -> None:
        candle = convert.candle(symbol, tf, row, now_ms, tf_ms)
        if candle.closed:
            self._last_candle[(symbol, tf)] = max(self._last_candle.get((symbol, tf), 0), int(row[0]))
        self._emit(CandleEvent(self.name, candle))

    def _sweep_private(self) -> None:
        """What ccxt holds back: it hands a private message to a `watch_*` call waiting for it,
        and one that arrives between two calls (ours awaits inside ccxt before its next wait is
        registered) only with the next message. The last fill of a burst waited for the next
        fill, for ever on a quiet account (found under load: a market order's second half never
        came). Every message is in ccxt's cache before it is handed on, so the newest entries
        are looked through each watchdog period and what was not handed on is, once (a later
        return of the same entries is not counted twice: `_on_fills` skips a fill heard)."""
        ex = self._ex
        if "orders" in self._tasks and self._specs["orders"][0] == ex.watch_orders:
            cached = list(getattr(ex, "orders", None) or ())[-SWEPT:]
            held = [o for o in cached if self._orders_heard.get(str(o.get("id"))) != _order_state(o)]
            if held:
                self._on_orders(held)
        if "fills" in self._tasks and self._specs["fills"][0] == ex.watch_my_trades:
            cached = list(getattr(ex, "myTrades", None) or ())[-SWEPT:]
            held = [t for t in cached if _fill_key(t) not in self._fills_heard]
            if held:
                self._on_fills(held)

    def _on_orders(self, orders: list[dict[str, Any]]) -> None:
        if orders:
            self._fills_due.set()
        for o in orders:
            if o.get("id") is not None:
                self._orders_heard[str(o["id"])] = _order_state(o)
                if len(self._orders_heard) > 5000:
                    del self._orders_heard[next(iter(self._orders_heard))]
            cid = o.get("clientOrderId")
            if self.exchange_id in exchanges.WS_CLIENT_ID_IN_INFO_ONLY:  # kraken: order_userref
                cid = (o.get("info") or {}).get(exchanges.client_id_params(self.exchange_id)[1])
            if not cid:
                continue
            self.streams.arrived("orders", cid)
            if o.get("id") is not None:
                self._cid_by_vid[str(o["id"])] = cid
            status = convert.STATUS.get(o.get("status") or "")
            if o.get("status") == "open":
                self._working[cid] = max(self._working.get(cid, Decimal(0)), convert.dec(o.get("filled")))
            elif o.get("status"):
                self._working.pop(cid, None)
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
            key = _fill_key(t)
            if key in self._fills_heard:
                continue  # handed on already (by the sweep, or ccxt returning it again)
            if t.get("id") is not None:
                self._fills_heard.add(key)
            info = t.get("info") or {}
            cid = (
                info.get("c")
                or info.get(exchanges.client_id_params(self.exchange_id)[1])  # okx: clOrdId
                or t.get("clientOrderId")
                or self._cid_by_vid.get(str(t.get("order")))
            )
            if not cid:
                continue
            self.streams.arrived("fills", cid)
            self.streams.arrived("orders", cid)  # a fill is news of its order too
            f = convert.fill(self.name, self._with_fee(t), cid, exchanges.WS_FILL_FEE_SIGN.get(self.exchange_id, 1))
            if cid in self._working:
                self._working[cid] += f.quantity
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
        """After a reconnect: closed candles and trades we missed, from REST. (Our own missed
        fills come from the reconcile the reconnect triggers.) What the venue's history does not
        reach back to is said (`backfill.Hole`), not left a silent hole."""
        now_ms = int(self.clock.now().timestamp() * 1000)
        candles_from, trades_from = self._gap_from or (dict(self._last_candle), dict(self._last_trade))
        self._gap_from = None
        for (symbol, tf), last in candles_from.items():
            await self._backfill_candles(symbol, tf, last, now_ms)
        for symbol, ts in trades_from.items():
            await self._backfill_trades(symbol, ts, now_ms)

    async def _backfill_candles(self, symbol: str, tf: str, last: int, now_ms: int) -> None:
        """The candles after `last` (the last closed one seen before the gap), page after page
        (`candle_pages.read_back`); what stays missing said. Live candles of the series held
        meanwhile (`_on_candles`) come after them: a strategy never sees a new bar with the gap
        still open before it."""
        key = (symbol, tf)
        tf_ms = self._ex.parse_timeframe(tf) * 1000
        limit = exchanges.ohlcv_page(self.exchange_id)

        async def fetch(since: int, n: int) -> list[list[Any]]:
            until = {"until": since + n * tf_ms - 1} if self.exchange_id in exchanges.OHLCV_UNTIL else {}
            rows: list[list[Any]] = await self._rest(
                self._ex.fetch_ohlcv, symbol, tf, since, n, until, what="backfill candles"
            )
            return rows

        try:
            back = await candle_pages.read_back(
                fetch,
                last_ms=last,
                present_ms=now_ms - now_ms % tf_ms - tf_ms,
                tf_ms=tf_ms,
                limit=limit,
                pages=exchanges.CANDLE_PAGES,
                on_grid=not tf.endswith(("M", "y")),
                sparse=self.exchange_id in exchanges.OHLCV_SPARSE,
            )
            for row in back.rows:
                self._emit_candle(symbol, tf, row, now_ms, tf_ms)
            # the stream, back meanwhile, has the bars from its first on: a gap ends there
            live = min((int(r[0]) for r in self._held_candles.get(key) or ()), default=None)
            for gap in back.gaps:
                end = min(gap.end_ms, live) if live is not None and live > gap.start_ms else gap.end_ms
                self._say_hole(symbol, f"{tf} candles", (gap.start_ms, end), len(back.rows), why=gap.why)
        finally:
            held = self._held_candles.pop(key, [])
            if held:
                self._on_candles(symbol, tf, held)

    async def _backfill_trades(self, symbol: str, ts: int, now_ms: int) -> None:
        """The prints after `ts` (the last one seen before the gap) that the stream missed: page
        after page from `ts` until the venue has no more or they reach the prints streamed since,
        at most `BACKFILL_PAGES`; a venue that answers only its newest prints, one page."""
        market = (self._ex.markets or {}).get(symbol) or {}
        limit, newest_only = exchanges.trades_backfill_limit(self.exchange_id, bool(market.get("spot", True)))
        seen = self._trade_ids.setdefault(symbol, _RecentIds())
        printed: set[str] = set()  # by this backfill (the pages overlap at their ends)
        since = ts
        first: list[int] = []  # the first page's print times
        for _ in range(1 if newest_only else exchanges.BACKFILL_PAGES):
            try:
                rows = await self._rest(
                    self._ex.fetch_trades,
                    symbol,
                    since,
                    limit,
                    {"until": now_ms} if self.exchange_id in exchanges.TRADES_SINCE_NEEDS_UNTIL else {},
                    what="backfill trades",
                )
            except Exception as exc:  # the adapter's retries are spent: the rest said, the next symbol read
                why = f"the venue stopped answering ({self._safe(exc)})"
                self._say_hole(symbol, "trades", (since, now_ms), len(printed), why=why)
                return
            # a print seen live after the gap among them: the page reaches the present
            live = any(
                int(t.get("timestamp") or 0) > ts and str(t.get("id")) in seen and str(t.get("id")) not in printed
                for t in rows
            )
            for t in rows:
                # ids have no common order (numbers, uuids): new = not among those seen
                if int(t.get("timestamp") or 0) >= ts and str(t.get("id")) not in seen:
                    self._remember_trade(t)
                    printed.add(str(t.get("id")))
                    self._emit(TradeEvent(convert.trade_print(self.name, t)))
            times = [int(t.get("timestamp") or 0) for t in rows]
            if since != ts and max(times, default=0) <= since:  # the same newest page again: `since` ignored
                self._say_hole(symbol, "trades", backfill.hole_before(first, ts, limit, anchored_at_now=True), limit)
                return
            if newest_only or live or len(rows) < limit:
                if since == ts:  # the first page: did it reach back to the gap's start?
                    hole = backfill.hole_before(times, ts, limit, anchored_at_now=newest_only or live)
                    self._say_hole(symbol, "trades", hole, len(rows))
                return
            first = first if since != ts else times
            since = max(times)
        # still a full page short of the present after every page: the rest is not asked for
        self._say_hole(symbol, "trades", (since, now_ms), len(printed), tail=True)

    def _say_hole(
        self, symbol: str, what: str, span: tuple[int, int] | None, answered: int, *, tail: bool = False, why: str = ""
    ) -> None:
        if span is None:
            return
        hole = backfill.Hole(self.name, symbol, what, span[0], span[1], answered, tail, why)
        backfill.say(hole, self.holes, self._emit, self.clock.now())


def _fill_key(t: dict[str, Any]) -> str:
    """A fill's identity: trade ids are unique per symbol on some venues (Binance)."""
    return f"{t.get('symbol')}|{t.get('id')}"


def _order_state(o: dict[str, Any]) -> tuple[Any, ...]:
    return (o.get("status"), o.get("filled"), o.get("remaining"), o.get("lastUpdateTimestamp"))


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
