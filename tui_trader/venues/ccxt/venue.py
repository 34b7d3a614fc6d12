"""CcxtVenue: any ccxt exchange behind the `Venue` protocol, streaming through ccxt.pro.

The adapter is split by concern: `streams.py` (the watch loops, each stream's watchdog,
reconnects, backfill), `orders.py` (submit once, cancel, amend), `history.py` (open orders,
order by our id, fill history for reconciliation), `convert.py` (ccxt structures to ours) and
`exchanges.py` (what differs per exchange, as data). This module builds the ccxt client and
holds what they share:

- the REST wrapper: per-venue rate limiting (`ratelimit.RateGate`, fed by every 429 / 418
  answer and its Retry-After, holds every request to the venue), backoff on network errors;
- the venue's clock: measured at connect, after every reconnect and after a -1021
  ("timestamp outside the recvWindow") with ccxt's `load_time_difference`, so signed requests
  carry the venue's time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.enums import ConnectionState
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import NoticeEvent
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Candle
from tui_trader.core.positions import Balance
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues.backfill import Hole
from tui_trader.venues.base import Emit, VenueCapabilities, VenueError
from tui_trader.venues.ccxt import convert, exchanges, kucoin_ws, ws_refusals
from tui_trader.venues.ccxt.book_snapshot import PublicSnapshot
from tui_trader.venues.ccxt.derivatives import CcxtDerivatives
from tui_trader.venues.ccxt.errors import (
    CLOCK_WARN_MS,
    auth_refusal,
    is_auth_error,
    is_keys_refused,
    keys_refused,
    quiet_abandoned_futures,
    venue_refusal,
)
from tui_trader.venues.ccxt.history import AccountHistory
from tui_trader.venues.ccxt.orders import CcxtOrders
from tui_trader.venues.ccxt.streams import PRIVATE, CcxtStreams, _RecentIds
from tui_trader.venues.ratelimit import RateGate
from tui_trader.venues.resilience import Backoff, ConnectionMonitor, TokenBucket, cancel_tasks, stop_tasks
from tui_trader.venues.streams import StreamBoard

log = logging.getLogger(__name__)

# A "not found" after this much more than the request's recvWindow is final at the exchange:
# Binance refuses a request that arrives later than timestamp + recvWindow.
NOT_FOUND_MARGIN_S = 2.0


def deep_merge(target: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = value
    return target


class CcxtVenue(CcxtStreams, CcxtOrders, CcxtDerivatives, AccountHistory):
    kind = "ccxt"
    takes_keys = True  # `venue reconnect` reads them again (`reconnect_with`)
    # an exchange's balance of a base coin holds what its spot positions hold (engine/cash_reread.py)
    balances_hold_positions = True
    # ccxt shows no answer to a private subscribe: the engine reads back once more this long after
    # a reconnect's reconcile, once the subscribe has surely landed (engine/reconnect.py)
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
        self.streams = StreamBoard(self.monitor.stall_after_s)
        self.rate_gate = RateGate(name, base_s=settings.backoff_base_s, cap_s=max(120.0, settings.backoff_cap_s))
        rate = order_rate or settings.order_rate_per_s
        self.order_bucket = TokenBucket(rate, max(1.0, rate * 2))
        self.capabilities = VenueCapabilities()
        self.instruments: dict[str, Instrument] = {}
        self.clock_offset_ms: int | None = None  # ours minus the venue's, as last measured
        self._ex: Any = None
        self._emit: Emit = lambda event: None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._specs: dict[str, tuple[Callable[[], Awaitable[Any]], Callable[[Any], None]]] = {}
        self._generation = 0
        self._reconnect_lock = asyncio.Lock()
        self._private_lock = asyncio.Lock()  # one private resubscribe at a time
        self._private_backoff = Backoff(settings.backoff_base_s, settings.backoff_cap_s)
        self._refusals: dict[str, Backoff] = {}
        self._retried_at = 0.0  # loop time the last reconnect attempt restarted the streams
        self._closing = False
        self._cid_by_vid: dict[str, str] = {}
        self._symbol_by_cid: dict[str, str] = {}
        self._working: dict[str, Decimal] = {}
        self._probing = False
        self._relearn = False
        self._probed_at = 0.0
        self._last_candle: dict[tuple[str, str], int] = {}
        self._held_candles: dict[tuple[str, str], list[list[Any]]] = {}
        self._last_trade: dict[str, int] = {}  # newest trade print's venue time, per symbol
        self._trade_ids: dict[str, _RecentIds] = {}
        self.holes: deque[Hole] = deque(maxlen=100)  # what backfills after outages could not reach
        # where the data stopped when the connection went: live messages after the reconnect
        # move _last_candle / _last_trade past the gap before the backfill runs
        self._gap_from: tuple[dict[tuple[str, str], int], dict[str, int]] | None = None
        self._book_updates: dict[str, tuple[int, int]] = {}
        self._fills_due = asyncio.Event()  # an order changed: poll fills now (no fills stream)
        self._fills_since: dict[str, int] = {}
        self._fills_polled: set[str] = set()
        self._fills_heard = _RecentIds(5000)
        self._orders_heard: dict[str, tuple[Any, ...]] = {}
        self.counters = {
            "reconnects": 0,
            "rate_limited": 0,
            "found_by_client_id": 0,
            "private_resubscribes": 0,
            "clock_corrections": 0,
            "subscriptions_refused": 0,
        }
        self._books: PublicSnapshot | None = None  # the book's snapshot where ccxt signs it
        self._init_derivatives()

    # -- the ccxt client -----------------------------------------------------------------------

    def _make_exchange(self) -> Any:
        import ccxt.async_support as ccxt_async
        import ccxt.pro as ccxt_pro

        cls = getattr(ccxt_pro, self.exchange_id, None) or getattr(ccxt_async, self.exchange_id, None)
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
        self._gate_requests(ex)
        if self.exchange_id.startswith("binance") or self.exchange_id == "bybit":
            self._watch_raw(ex)  # liquidations, ADL and margin calls on the user stream
        if self.exchange_id in exchanges.WS_REFUSAL_RAISED:
            ws_refusals.hear_shared_socket_refusals(ex, self.name)
        if self.exchange_id in exchanges.WS_REFUSAL_BY_REQUEST_ID:
            ws_refusals.hear_refusals_by_request_id(ex)
        if self.exchange_id in exchanges.WS_SUBSCRIBES_BATCHED:
            kucoin_ws.batch_public_subscribes(ex, self.name)
        depth = exchanges.PUBLIC_BOOK_DEPTH.get(self.exchange_id)
        if depth and self._credentials.api_key:
            self._books = PublicSnapshot(ex, depth, self._book_keys_refused)
        has = ex.has
        self.capabilities = VenueCapabilities(
            stop=bool(has.get("createStopOrder")),
            stop_limit=bool(has.get("createStopLimitOrder")),
            post_only=bool(has.get("createPostOnlyOrder", True)),
            amend=bool(has.get("editOrder")) and self.exchange_id in exchanges.AMEND_IN_PLACE,
            reduce_only=bool(has.get("createReduceOnlyOrder")),
        )
        return ex

    def _gate_requests(self, ex: Any) -> None:
        """Every REST request waits for the rate gate (ccxt's throttle is the one door all of
        them pass), and every 429 / 418 answer closes it for its Retry-After."""
        throttle = ex.throttle
        on_rest_response = ex.on_rest_response

        async def gated_throttle(cost: Any = None) -> Any:
            await self.rate_gate.wait()
            return await throttle(cost)

        def seen(code: Any, reason: Any, url: Any, method: Any, headers: Any, body: Any, *rest: Any) -> Any:
            if code in (418, 429):
                self._rate_limited(int(code), headers or {})
            return on_rest_response(code, reason, url, method, headers, body, *rest)

        ex.throttle = gated_throttle
        ex.on_rest_response = seen

    def _rate_limited(self, status: int, headers: dict[str, str]) -> None:
        self.counters["rate_limited"] += 1
        was_closed = self.rate_gate.closed
        self.rate_gate.hit(status, headers)
        text = self.rate_gate.describe()
        if not was_closed:
            log.warning("%s: %s", self.name, text)
            self._emit(NoticeEvent(self.clock.now(), "warning", text, self.name))

    def _book_keys_refused(self, exc: BaseException) -> None:
        """The book's signed snapshot was refused for the keys: said once, with what fixes it
        (KuCoin's 400007 and 411100 are a permission and the account, not the keys); public
        from now on."""
        depth = self._books.depth if self._books else 0
        said = venue_refusal(self.name, self.exchange_id, exc, running=True)
        if said is None:
            text = (
                f"{self.name}: keys refused; the order book is the public {depth}-level snapshot "
                f"(run `tui-trader keys set {self.name}`, then `tui-trader venue reconnect {self.name}`)"
            )
        else:
            text = f"{self.name}: the order book is the public {depth}-level snapshot: {said}"
        log.warning("%s (%s)", text, self._safe(exc))
        self._emit(NoticeEvent(self.clock.now(), "warning", text, self.name))
        cause = "keys refused" if said is None else said.split(":", 1)[0]
        self.streams.note("book:", f"the public {depth}-level snapshot: {cause}")

    def _safe(self, exc: BaseException) -> str:
        """An exception as one line with credentials scrubbed (error bodies echo requests)."""
        text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        return self._credentials.redact(text)[:300]

    async def _sync_clock(self) -> int | None:
        """Measure the venue's clock against ours (ccxt's `load_time_difference`), where ccxt
        signs requests with a corrected time; returns ours minus the venue's, in ms (None when
        it cannot be read now, or the venue has no time to read)."""
        if self._ex is None or "timeDifference" not in self._ex.options or not self._ex.has.get("fetchTime"):
            return None
        try:
            offset = int(await self._ex.load_time_difference())
        except Exception as exc:  # None: not measured now (the last offset stays in use)
            log.warning("%s: clock: could not read the venue's time: %s", self.name, self._safe(exc))
            return None
        if self.clock_offset_ms is not None and abs(offset - self.clock_offset_ms) > CLOCK_WARN_MS // 2:
            self.counters["clock_corrections"] += 1
        self.clock_offset_ms = offset
        if abs(offset) > CLOCK_WARN_MS:
            log.warning(
                "%s: clock: this machine's clock is %+d ms from %s's; signed requests are corrected "
                "(check NTP)", self.name, offset, self.exchange_id,
            )
        return offset

    @property
    def not_found_final_after_s(self) -> float | None:
        """How long after sending a "no such order" is final (reconcile settles an order whose
        submission is unknown only then): Binance refuses a request older than its recvWindow."""
        if self._ex is None:
            return None
        recv = self._ex.options.get("recvWindow")
        if not isinstance(recv, int | float) or "timeDifference" not in self._ex.options:
            return None  # no receive window: the engine's default wait
        return (recv + abs(self.clock_offset_ms or 0)) / 1000 + NOT_FOUND_MARGIN_S

    # -- Venue protocol: lifecycle ----------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self.monitor.state

    async def connect(self, emit: Emit) -> None:
        self._emit = emit
        self.monitor.emit = emit
        self.monitor.connecting()
        quiet_abandoned_futures(asyncio.get_running_loop())
        self._ex = self._make_exchange()
        # a venue that cannot list its markets stops the start soon (the daemon exits, says why)
        await self._rest(self._ex.load_markets, what="load markets", attempts=3)
        await self._sync_clock()
        self._read_markets()
        self._check_derivatives()
        if self._credentials.api_key and self._margined:
            await self._load_tiers()
        self.monitor.connected(f"{self.exchange_id}{' testnet' if self.settings.sandbox else ''}")
        self._start_tasks()

    def _read_markets(self) -> None:
        self.instruments = {
            s: convert.instrument(self.name, m, self._ex.precisionMode)
            for s, m in self._ex.markets.items()
            if (m.get("spot", True) or m.get("swap") or m.get("future")) and m.get("active", True) is not False
        }

    def _start_tasks(self) -> None:
        if self._credentials.api_key:
            self._start_private()
            if self._margined:
                self._tasks["funding"] = asyncio.create_task(self._poll_funding(), name=f"{self.name}-funding")
        self._tasks["watchdog"] = asyncio.create_task(self._watchdog(), name=f"{self.name}-watchdog")

    async def reconnect_with(self, credentials: Credentials | None) -> None:
        """`tui-trader venue reconnect NAME`: the venue reconnected with `credentials` (the keys
        read again from the keyring) on a new ccxt client, nothing of the old keys kept (ccxt's
        websocket tokens and logins, the book's public snapshot taken for refused keys). The new
        client lists the markets first: if it cannot, this raises and the old one streams on,
        nothing changed. Then it is a venue-wide reconnect like any other: every stream
        subscribed again, those stopped for refused keys among them; back, the gap is
        backfilled and the engine reconciles. Keys refused again stop the private streams once."""
        async with self._reconnect_lock:
            old_ex, old_credentials, old_books = self._ex, self._credentials, self._books
            self._credentials, self._books = credentials or Credentials(), None
            ex = None
            try:
                ex = self._make_exchange()
                await self._rest(ex.load_markets, what="load markets", attempts=3)
            except BaseException:
                if ex is not None:
                    with contextlib.suppress(Exception):
                        await ex.close()
                self._credentials, self._books = old_credentials, old_books
                raise
            books, self._books = self._books, old_books  # the old client's until it is closed
            self._generation += 1
            self.counters["reconnects"] += 1
            self._gap_starts()
            self.monitor.reconnecting("reconnecting with the keys read again", now=True)
            symbols = [key.split(":", 1)[1] for key in self._specs if key.startswith("ticker:")]
            self.streams.resume(PRIVATE, "keys read again; subscribing")
            self.streams.note("book:", "")  # no longer the public snapshot taken for refused keys
            self._streams_down()
            await stop_tasks(*self._tasks.values())
            self._tasks.clear()
            self._specs.clear()  # their watches are the old client's
            with contextlib.suppress(Exception):
                await old_ex.close()
            self._ex, self._books = ex, books
            self._private_backoff.reset()
            self._refusals.clear()
            self._working.clear()  # the reconcile after the reconnect settles them; the probe relearns
            self._relearn = True
            try:
                await self._sync_clock()
                self._read_markets()
                if self._credentials.api_key and self._margined:
                    await self._load_tiers()
            finally:
                self._start_tasks()
                await self.subscribe(symbols)
                self._retried_at = asyncio.get_running_loop().time()

    async def close(self) -> None:
        self._closing = True
        tasks = await cancel_tasks(self._tasks)  # at most 2 s: a stuck watch loop cannot hold a stop
        if self._ex is not None:
            with contextlib.suppress(Exception):
                await self._ex.close()  # closed sockets end any loop that kept running
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        self._tasks.clear()
        self.monitor.closed()

    async def load_markets(self) -> dict[str, Instrument]:
        wanted = self.settings.symbols or list(self.instruments)
        missing = [s for s in wanted if s not in self.instruments]
        if missing:
            raise ConfigError(f"venues.{self.name}.symbols: {', '.join(missing)} not listed by {self.exchange_id}")
        if self.exchange_id in exchanges.WS_SUBSCRIBES_BATCHED:
            listed = bool(self.settings.symbols)
            too_many = kucoin_ws.too_many_topics(self.name, len(wanted), self._topics_per_symbol, listed)
            if too_many:
                raise ConfigError(too_many)
        return {s: self.instruments[s] for s in wanted}

    def fee_rates(self, symbol: str) -> tuple[float, float] | None:
        """(maker, taker) as ccxt's market lists them (the exchange's base tier), if it does."""
        market = (self._ex.markets or {}).get(symbol) if self._ex is not None else None
        if not market or market.get("taker") is None:
            return None
        return float(market.get("maker") or market["taker"]), float(market["taker"])

    # -- REST with rate-limit backoff ---------------------------------------------------------

    async def _rest(
        self, fn: Callable[..., Awaitable[Any]], *args: Any, what: str, attempts: int = 5, **kw: Any
    ) -> Any:
        import ccxt

        backoff = Backoff(self.monitor.backoff.base_s, self.monitor.backoff.cap_s)
        clock_retried = False
        for attempt in range(attempts):
            try:
                result = await fn(*args, **kw)
            except (ccxt.RateLimitExceeded, ccxt.DDoSProtection) as exc:  # 429 / 418: the gate waits
                if is_keys_refused(exc):  # not a rate limit, whatever ccxt calls it
                    raise VenueError(f"{self.name}: {what}: {keys_refused(self.name)}") from None
                if not self.rate_gate.closed:  # no 429/418 status seen (an error body): back off anyway
                    self._rate_limited(429, {})
                if attempt == attempts - 1:
                    raise VenueError(f"{self.name}: {what}: {self.rate_gate.describe() or self._safe(exc)}") from None
            except ccxt.InvalidNonce as exc:  # -1021: our clock against theirs
                if clock_retried:
                    raise VenueError(
                        f"{self.name}: {what}: clock: {self._safe(exc)}; check this machine's time"
                    ) from None
                clock_retried = True
                await self._sync_clock()
            except ccxt.NetworkError as exc:
                if attempt == attempts - 1:
                    raise VenueError(f"{self.name}: {what}: {self._safe(exc)}") from None
                await asyncio.sleep(backoff.next_delay())
            except ccxt.BaseError as exc:
                if is_auth_error(exc):  # kraken's EAPI:Invalid signature is an ExchangeError
                    raise VenueError(f"{self.name}: {what}: {auth_refusal(self.name, self.exchange_id, exc)}") from None
                raise VenueError(f"{self.name}: {what}: {self._safe(exc)}") from None
            else:
                self.rate_gate.ok()
                return result
        raise VenueError(f"{self.name}: {what} failed")  # pragma: no cover

    # -- Venue protocol: data ------------------------------------------------------------------

    async def fetch_candles(
        self, symbol: str, timeframe: str, since: datetime | None = None, limit: int = 500
    ) -> list[Candle]:
        since_ms = None if since is None else int(since.timestamp() * 1000)
        rows = await self._rest(self._ex.fetch_ohlcv, symbol, timeframe, since_ms, limit, what="fetch candles")
        tf_ms = self._ex.parse_timeframe(timeframe) * 1000
        now_ms = int(self.clock.now().timestamp() * 1000)
        return [convert.candle(symbol, timeframe, r, now_ms, tf_ms) for r in rows]

    async def fetch_balances(self) -> dict[str, Balance]:
        if not self._credentials.api_key:
            return {}
        raw = await self._rest(self._ex.fetch_balance, what="fetch balances")
        as_of = convert.ms_to_dt(raw["timestamp"]) if raw.get("timestamp") else None
        wallet = exchanges.wallet_totals(self.exchange_id, raw.get("info"))
        out = {}
        for ccy, total in (raw.get("total") or {}).items():
            total = wallet.get(ccy, total)
            if total:
                out[ccy] = Balance(ccy, convert.dec(total), convert.dec((raw.get("free") or {}).get(ccy)), as_of)
        return out


def _unescape_pem(secret: str) -> str:
    """A PEM key pasted on one line, as Coinbase's key file shows it ("\\n" for newlines):
    `keys set` reads one line, ccxt needs the real newlines."""
    if secret.startswith("-----BEGIN") and "\\n" in secret:
        return secret.replace("\\n", "\n")
    return secret
