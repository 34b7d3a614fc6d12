"""IBVenue: US stocks at Interactive Brokers through ib_async, behind the `Venue` protocol.

ib_async talks the TWS API socket protocol to TWS or IB Gateway, which the trader runs and
logs in to (the login, its two-factor check and its daily restart are theirs; nothing is
stored here). One socket carries everything: order and execution messages, quotes, account
values. This module holds the connection:

- the Gateway is watched (`heartbeat.py`): a `reqCurrentTime` every 5 s must be answered
  within 5 s, in normal operation and during a loss of IB's servers (1100) alike; unanswered,
  the venue is `degraded` ("IB Gateway not answering for 5 s"), new orders are refused unsent,
  orders waiting for their answer become `unknown` (looked up by orderRef, never sent again),
  and the socket is closed and opened again with backoff; every reconnect is followed by the
  engine's reconciliation;
- order requests are watched too: an order unanswered within `ack_timeout_s`, or a request for
  open / completed orders or executions unanswered within `request_timeout_s`, while the
  heartbeat is answered, makes the venue `degraded` (order requests unanswered) and refuses new
  orders until IB answers one (the socket is opened again once meanwhile);
- quotes per symbol are their own streams (silent while the regular session is open is a
  fault); the order stream is checked against IB's open orders (`PrivateProbe`): an order IB
  shows filled or gone that the stream never mentioned makes the stream silent, and the
  socket is opened again (which reconciles);
- IB's system messages 1100 (the Gateway lost IB's servers), 1101 and 1102 (restored) make the
  venue degraded, refuse new orders (nothing sent) and reconcile when it is back. Only 1101 /
  1102 end the loss: not quotes, not our socket to the Gateway reconnecting (IB documents no
  message telling a new API client that the loss is still on, or is over), not a farm's "OK"
  (2104, 2106, 2158: data farms, not the server that takes orders);
- market hours come from each contract's details (`liquidHours`; `tradingHours` too with
  `extended_hours`), refreshed every minute;
- candles: the `candles` timeframes (up to 1h) are read with reqHistoricalData at each bar's
  close (bars above 30 s are outside IB's pacing rules), and after an outage from the last bar
  given, before the series goes on (`venues.candle_poll`); a request IB refuses (162) or leaves
  unanswered keeps the span as a hole, said. A bar with no trade (a closed market) is none.

`orders.py` sends, cancels and looks orders up (IB keeps our client id as `orderRef`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.enums import ConnectionState
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import NoticeEvent, TickerEvent
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Candle, Ticker
from tui_trader.core.positions import Balance
from tui_trader.venues.backfill import Hole
from tui_trader.venues.base import Emit, VenueCapabilities, VenueError
from tui_trader.venues.candle_poll import PolledCandles, polled_timeframes
from tui_trader.venues.ib import convert
from tui_trader.venues.ib.heartbeat import EVERY_S, TIMEOUT_S, Heartbeat
from tui_trader.venues.ib.orders import PRIVATE, IBOrders
from tui_trader.venues.resilience import (
    Backoff,
    ConnectionMonitor,
    TokenBucket,
    cancel_tasks,
    in_background,
    watchdog_pause,
)
from tui_trader.venues.streams import PrivateProbe, StreamBoard

log = logging.getLogger(__name__)

NOT_FOUND_FINAL_S = 60.0  # IB documents no window after which an order not shown never will be
LINK_LOST, LINK_BACK = 1100, (1101, 1102)
LINK_BROKEN = 2110  # "Connectivity between TWS and server is broken. It will be restored automatically."
SESSION_TAIL = timedelta(minutes=62)  # the last bars of a session read after its close (1h bars, settled)
NO_DATA = "query returned no data"  # IB's 162 for a span without bars: "HMDS query returned no data: ..."
DAY_S = 86_400  # IB's step sizes: 1-minute bars for a duration of a day at the most ("Historical Data Limitations")


def _page_bars(timeframe: str) -> int:
    """The bars one historical request reads after an outage: a day of them."""
    return DAY_S // convert.BAR_SIZES[timeframe][1]



class IBVenue(IBOrders, PrivateProbe):
    kind = "ib"
    takes_keys = False  # the login is TWS's / IB Gateway's: `venue reconnect` reads none

    def __init__(
        self,
        name: str,
        settings: VenueSettings,
        clock: Clock,
        *,
        backoff: Backoff | None = None,
        order_rate: float | None = None,
        request_timeout_s: float = 4.0,
        ack_timeout_s: float = 5.0,
        hours_refresh_s: float = 60.0,
        not_found_final_after_s: float = NOT_FOUND_FINAL_S,
        ping_every_s: float = EVERY_S,
        ping_timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.name = name
        self.settings = settings
        self.clock = clock
        self.is_live = settings.is_live
        self.capabilities = VenueCapabilities(
            stop=True, stop_limit=True, trailing_stop=False, post_only=False, ioc_fok=True, shorting=False
        )
        self.monitor = ConnectionMonitor(
            name, clock, stall_after_s=settings.stall_after_s,
            backoff=backoff or Backoff(settings.backoff_base_s, settings.backoff_cap_s),
        )  # fmt: skip
        self.streams = StreamBoard(self.monitor.stall_after_s)
        rate = order_rate or settings.order_rate_per_s
        self.order_bucket = TokenBucket(rate, max(1.0, rate * 2))
        self.request_timeout_s = request_timeout_s
        self.ack_timeout_s = ack_timeout_s
        self.hours_refresh_s = hours_refresh_s
        self.not_found_final_after_s = not_found_final_after_s
        self.instruments: dict[str, Instrument] = {}
        self.account = ""
        self.ib: Any = None
        self._emit: Emit = lambda event: None
        self._contracts: dict[str, Any] = {}
        self._sessions: dict[str, tuple[list[tuple[datetime, datetime]], list[tuple[datetime, datetime]]]] = {}
        self._tickers: dict[str, Any] = {}
        self._symbols: list[str] = []
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closing = False
        self._link_lost = ""
        self._reconnecting = False
        self._hours_at = 0.0
        self.heartbeat = Heartbeat(ping_every_s, ping_timeout_s)
        self._hung = False  # the Gateway left the heartbeat unanswered: until a new socket is open
        self._refused = ""
        self._init_orders()
        self._working: dict[str, Decimal] = {}
        self._probing = False
        self._probed_at = 0.0
        self._relearn = False
        self.counters = {"reconnects": 0, "found_by_lookup": 0, "duplicate_fills": 0, "pacing": 0}
        # bars read from IB's history: at each close, and from where they stopped after an outage
        self.candles = PolledCandles(name, clock, self._candles_page, lambda event: self._emit(event),
                                     self._candles_up, limit=_page_bars, sparse=True)  # fmt: skip
        self.monitor.on_recovered(self.candles.read)

    @property
    def holes(self) -> Sequence[Hole]:
        """The spans of candles an outage left that IB's history could not give back."""
        return self.candles.holes

    def _candles_up(self) -> bool:
        """IB answers historical requests, and one of our markets trades now or closed within
        the hour (its last bars still to read): a market closed overnight or for the weekend
        has no bar, and each read of it would be IB's error 162 ("HMDS query returned no
        data"), logged by ib_async, for every symbol at every close."""
        if not self._connected() or self._link_lost or self._hung:
            return False
        now = self.clock.now()
        sessions = [s for _, trading in self._sessions.values() for s in trading]
        return not sessions or any(a <= now < b + SESSION_TAIL for a, b in sessions)

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self.monitor.state

    async def connect(self, emit: Emit) -> None:
        self._emit = emit
        self.monitor.emit = emit
        self.monitor.connecting()
        self.streams.add(PRIVATE, private=True)
        timeframes = polled_timeframes(self.name, self.settings.candles, convert.BAR_SIZES)
        await self._open()
        mode = "PAPER" if self.account.startswith("D") else "LIVE"
        if self._link_lost:  # said while connecting
            self.monitor.degraded(f"ib {mode} {self.account}; {self._link_lost}")
        else:
            self.monitor.connected(f"ib {mode} {self.account}")
        self._tasks["watchdog"] = asyncio.create_task(self._watchdog(), name=f"{self.name}-watchdog")
        self._tasks["heartbeat"] = asyncio.create_task(self._heartbeat(), name=f"{self.name}-heartbeat")
        if timeframes:
            self.candles.want(self._symbols, timeframes)
            self._tasks["candles"] = asyncio.create_task(self.candles.run(), name=f"{self.name}-candles")

    async def _open(self) -> None:
        """Connect and sync (ib_async reads open and completed orders, executions, positions and
        account values), check the account, qualify the symbols, ask for quotes and hours."""
        from ib_async import IB

        if self.ib is not None:
            self._unhook(self.ib)
        ib = IB()
        ib.RequestTimeout = self.request_timeout_s
        self.ib = ib
        self._hook(ib)
        self._refused = ""
        port = self.settings.port or (7497 if self.settings.paper else 7496)
        try:
            await ib.connectAsync(self.settings.host, port, clientId=self.settings.ib_client_id,
                                  timeout=self.request_timeout_s, account=self.settings.account)  # fmt: skip
        except (ConnectionRefusedError, OSError, TimeoutError) as exc:
            ib.disconnect()
            if self._refused:
                raise VenueError(f"{self.name}: {self._refused}") from None
            if isinstance(exc, TimeoutError):  # the port took the connection; nothing answered on it
                raise VenueError(f"{self.name}: IB Gateway not answering at {self.settings.host}:{port} (its API "
                                 f"handshake unanswered for {self.request_timeout_s:g} s: hung, or TWS waiting for "
                                 "you to accept the connection)") from None  # fmt: skip
            raise VenueError(f"{self.name}: cannot reach TWS / IB Gateway at {self.settings.host}:{port} "
                             f"({type(exc).__name__}); start it, log in, and enable its API "
                             "(Configure > API > Settings)") from None  # fmt: skip
        if self._closing:  # closed while connecting: leave nothing connected behind
            ib.disconnect()
            raise VenueError(f"{self.name}: closed")
        self._choose_account(ib.managedAccounts())
        await self._qualify(self.settings.symbols)
        await self._refresh_hours()
        for symbol in self._symbols:
            self._ask_quotes(symbol)

    def _choose_account(self, accounts: list[str]) -> None:
        want = self.settings.account
        if want and want not in accounts:
            self.ib.disconnect()
            raise ConfigError(f"venues.{self.name}.account: this IB login has no account {want} "
                              f"(it has {', '.join(accounts) or 'none'})")  # fmt: skip
        if not want and len(accounts) != 1:
            self.ib.disconnect()
            raise ConfigError(f"venues.{self.name}.account: this IB login has {len(accounts)} accounts "
                              f"({', '.join(accounts)}); set account = \"...\" in the venue table")  # fmt: skip
        account = want or accounts[0]
        paper_account = account.startswith("D")  # IB's paper accounts are DU... / DF...
        if self.settings.paper != paper_account:
            self.ib.disconnect()
            said = "paper = true" if self.settings.paper else "paper = false"
            really = "a paper" if paper_account else "a LIVE"
            raise ConfigError(f"venues.{self.name}: {said}, but TWS / IB Gateway is logged in to {really} "
                              f"account ({account}); log in to the other one or change the config")  # fmt: skip
        self.account = account

    async def close(self) -> None:
        self._closing = True
        await cancel_tasks(self._tasks)
        self._tasks.clear()
        if self.ib is not None:
            self._unhook(self.ib)
            self.ib.disconnect()
        self.monitor.closed()

    def _hook(self, ib: Any) -> None:
        ib.disconnectedEvent += self._on_disconnected
        ib.errorEvent += self._on_error
        ib.orderStatusEvent += self._on_status
        ib.execDetailsEvent += self._on_exec
        ib.commissionReportEvent += self._on_commission
        ib.pendingTickersEvent += self._on_tickers

    def _unhook(self, ib: Any) -> None:
        ib.disconnectedEvent -= self._on_disconnected
        ib.errorEvent -= self._on_error
        ib.orderStatusEvent -= self._on_status
        ib.execDetailsEvent -= self._on_exec
        ib.commissionReportEvent -= self._on_commission
        ib.pendingTickersEvent -= self._on_tickers

    def _connected(self) -> bool:
        return self.ib is not None and self.ib.isConnected() and not self._reconnecting

    # -- the connection: watchdog and reconnects ------------------------------------------------

    async def _heartbeat(self) -> None:
        """A `reqCurrentTime` every `every_s` (after the last answer), each awaited `timeout_s`."""
        while not self._closing:
            await asyncio.sleep(self.heartbeat.every_s)
            if self._connected():
                await self._ping()

    async def _ping(self) -> None:
        """One `reqCurrentTime`: an answer proves the socket and the Gateway are alive; none
        within `timeout_s` is a hung Gateway (in normal operation as during an 1100)."""
        ib = self.ib
        self.heartbeat.sent(time.monotonic())
        try:
            await asyncio.wait_for(ib.reqCurrentTimeAsync(), self.heartbeat.timeout_s)
        except TimeoutError:
            if ib is self.ib and not (self._reconnecting or self._closing):
                self._gateway_hung()
            return
        except ConnectionError:
            self.heartbeat.clear()  # nothing outstanding: the socket closed (`_on_disconnected` reconnects)
            return
        if ib is self.ib:
            self.heartbeat.answered(time.monotonic())

    def _gateway_hung(self) -> None:
        """Nothing answered: `degraded` saying so, new orders refused (`_refusal`), orders
        waiting for their answer `unknown` (`_reconnect`), the socket opened again."""
        self._hung = True
        why = self._silence(time.monotonic())
        self._notice("warning", f"{why}; new orders are refused unsent; reconnecting")
        self.monitor.degraded(f"{why}; new orders refused; reconnecting")
        self._start_reconnect(why)

    def _silence(self, now: float) -> str:
        """"IB Gateway not answering for N s" while the heartbeat is unanswered past its deadline."""
        if not (self._hung or self.heartbeat.silent_for(now)):
            return ""
        lost = "; it had lost IB's servers before (code 1100)" if self._link_lost else ""
        return self.heartbeat.describe(now) + lost

    def _refusal(self) -> str:
        """Why a new order is not sent now (one line), or "": the Gateway not answering comes
        first, then IB's servers lost (1100), then order requests unanswered, then the socket."""
        silence = self._silence(time.monotonic())
        if silence:
            return f"{silence}; reconnecting"
        if self._link_lost:
            return f"{self._link_lost}; wait until it is back"
        if self._orders_quiet:
            return f"{self._orders_quiet}; wait until it answers"
        if not self._connected():
            return "not connected to TWS / IB Gateway (reconnecting)"
        return ""

    def _on_disconnected(self) -> None:
        self._start_reconnect("the TWS API socket closed")

    async def reconnect_with(self, credentials: object) -> None:
        """`tui-trader venue reconnect NAME`, the trader's word that TWS / IB Gateway is logged
        in to IB: a loss of IB's servers (1100) is forgotten (a Gateway restarted and logged in
        again during the loss never says 1101 / 1102) and the socket is opened again; back
        `connected`, the engine reconciles. Nothing to read: the login is the Gateway's."""
        if self._reconnecting:
            raise VenueError(f"{self.name}: already reconnecting to TWS / IB Gateway; `tui-trader status` shows how")
        self._link_lost = ""
        self._start_reconnect("reconnecting on request (`tui-trader venue reconnect`)")
        while not self._reconnecting and not self._tasks["reconnect"].done():
            await asyncio.sleep(0)  # until it has begun (`reconnecting`)

    def _start_reconnect(self, why: str) -> None:
        running = self._tasks.get("reconnect")
        if self._closing or self._reconnecting or (running is not None and not running.done()):
            return
        self._tasks["reconnect"] = asyncio.create_task(self._reconnect(why), name=f"{self.name}-reconnect")

    async def _reconnect(self, why: str) -> None:
        if self._reconnecting or self._closing:
            return
        self._reconnecting = True
        self.counters["reconnects"] += 1
        self.streams.dropped([PRIVATE, *(f"quote:{s}" for s in self._symbols)], f"{why}; reconnecting")
        log.warning("%s: %s; reconnecting", self.name, why)
        self._fail_acks(why)
        try:
            if self.ib is not None:
                self._unhook(self.ib)
                self.ib.disconnect()
            while not self._closing:
                await asyncio.sleep(self.monitor.reconnecting(why))
                try:
                    await self._open()
                except ConfigError as exc:
                    self._hung = False  # not a hang: the config, said instead
                    self.heartbeat.clear()
                    self.monitor.set(ConnectionState.DISCONNECTED, str(exc))
                    self._notice("error", str(exc))
                    return
                except Exception as exc:
                    why = str(exc) if isinstance(exc, VenueError) else type(exc).__name__
                    continue
                self._relearn = True
                self._reconnecting = False
                self._hung = False
                self.heartbeat.clear()  # a new socket: nothing outstanding on it
                # the new socket's sync read our open orders and executions back from IB
                self.streams.subscribed(PRIVATE, "orders and executions read again; nothing to say since")
                self.streams.resubscribed(f"quote:{s}" for s in self._symbols)
                if self._orders_quiet:  # the new socket's answer to an order request ends it
                    with contextlib.suppress(VenueError):
                        await self.fetch_open_orders()
                if self._link_lost:  # the socket is back, IB's servers are not: only 1101 / 1102 say so
                    self.monitor.back_degraded(f"{self._link_lost}; new orders are refused until it is back")
                elif self._orders_quiet:
                    self.monitor.back_degraded(f"{self._orders_quiet}; new orders are refused until it answers")
                elif self.monitor.state is not ConnectionState.CONNECTED:  # (the probe's answer may have said so)
                    self.monitor.connected()  # the engine reconciles on this
                return
        finally:
            self._reconnecting = False

    async def _watchdog(self) -> None:
        """The streams (quotes in market hours, the order stream), the hours, the order probe.
        The Gateway itself is watched by `_heartbeat`."""
        period = max(0.05, self.monitor.stall_after_s / 3)
        while not self._closing:
            await watchdog_pause(period)
            if self._reconnecting or self.ib is None:
                continue
            silent = self.streams.silent()
            owed = PRIVATE in silent or (silent and any(self.market_open(s, self.clock.now()) for s in self._symbols))
            if owed and not self._link_lost:  # streams may stop while IB's servers are lost
                why = self.streams.summary()
                self.monitor.degraded(why)
                self._start_reconnect(why)
                continue
            if self._orders_quiet and not self._probing:  # until IB answers an order request
                self._probing = True
                in_background(self._probe_private(PRIVATE), f"{self.name}-probe")
            if time.monotonic() - self._hours_at > self.hours_refresh_s:
                with contextlib.suppress(Exception):
                    await self._refresh_hours()
            if self._probe_due():
                self._probing = True
                in_background(self._probe_private(PRIVATE), f"{self.name}-probe")

    def _on_error(self, req_id: int, code: int, text: str, contract: Any = None) -> None:
        if code == 326:  # "Unable to connect as the client id is already in use"
            self._refused = (f"TWS / IB Gateway refused client id {self.settings.ib_client_id}: another session "
                             "uses it (IB 326); stop it or set another ib_client_id")  # fmt: skip
            return
        if code == LINK_LOST:
            self._link_lost = f"IB Gateway lost its connection to IB's servers (code {code})"
            self.monitor.degraded(self._link_lost)
            self._notice("warning", f"{self._link_lost}; new orders are refused until it is back")
            if req_id < 0:
                return
        elif code in LINK_BACK:
            was = self._link_lost
            self._link_lost = ""
            if was:
                self._notice("info", f"IB Gateway is connected to IB's servers again (code {code}); reconciling")
                if code == 1101:  # data lost: the quotes must be asked for again
                    for symbol in self._symbols:
                        self._ask_quotes(symbol, again=True)
                if self._hung or self._reconnecting:
                    return  # the reconnect under way says what follows
                if self._orders_quiet:
                    self.monitor.back_degraded(f"{self._orders_quiet}; new orders are refused until it answers")
                    return
                self.monitor.recovered(f"IB Gateway is connected to IB's servers again (code {code})")  # reconciled
            return
        if code == LINK_BROKEN:  # a warning with no documented end: said, nothing refused on a guess
            self._notice("warning", "IB Gateway says its connection to IB's servers is broken and will be restored "
                                    "by itself (IB 2110); an order IB leaves unanswered meanwhile holds back the "
                                    "next ones until IB answers")  # fmt: skip
        elif req_id >= 0:
            self._order_error(req_id, code, text)
        elif not 2100 <= code < 2200:
            log.info("%s: IB message %s: %s", self.name, code, text)

    # -- market data ----------------------------------------------------------------------------

    async def _qualify(self, symbols: Sequence[str]) -> None:
        from ib_async import Stock

        for symbol in symbols:
            if symbol not in self._symbols:
                self._symbols.append(symbol)
                self.streams.add(f"quote:{symbol}", steady=True)
            details = await self.ib.reqContractDetailsAsync(Stock(symbol, "SMART", "USD"))
            if not details:
                raise ConfigError(f"venues.{self.name}.symbols: IB knows no US stock {symbol!r}")
            cd = details[0]
            self._contracts[symbol] = cd.contract
            self.instruments[symbol] = convert.instrument(self.name, symbol, cd.minTick)
            self._sessions[symbol] = (convert.sessions(cd.liquidHours, cd.timeZoneId),
                                      convert.sessions(cd.tradingHours, cd.timeZoneId))  # fmt: skip
        self._hours_at = time.monotonic()

    async def _refresh_hours(self) -> None:
        self._hours_at = time.monotonic()
        for symbol in list(self._symbols):
            await self._qualify([symbol])

    def market_open(self, symbol: str, now: datetime) -> bool:
        """Engine pre-trade hook: the regular session from IB's liquid hours (with extended
        hours on, IB's trading hours, where `create_order` sends limit orders only)."""
        regular, extended = self._sessions.get(symbol) or next(iter(self._sessions.values()), ([], []))
        sessions = extended if self.settings.extended_hours else regular
        return any(a <= now < b for a, b in sessions)

    def _regular(self, symbol: str, now: datetime) -> bool:
        regular = (self._sessions.get(symbol) or ([], []))[0]
        return any(a <= now < b for a, b in regular)

    def _ask_quotes(self, symbol: str, *, again: bool = False) -> None:
        contract = self._contracts.get(symbol)
        if contract is None or self.ib is None:
            return
        if again and symbol in self._tickers:
            with contextlib.suppress(Exception):
                self.ib.cancelMktData(contract)
        self._tickers[symbol] = self.ib.reqMktData(contract, "", False, False)

    def _on_tickers(self, tickers: Any) -> None:
        self._alive()
        for t in tickers:
            symbol = t.contract.symbol
            self.streams.message(f"quote:{symbol}")
            bid, ask, last = (_num(t.bid), _num(t.ask), _num(t.last))
            self._emit(TickerEvent(Ticker(self.name, symbol, self.clock.now(), bid, ask, last or (bid + ask) / 2,
                                          _num(t.bidSize), _num(t.askSize))))  # fmt: skip

    async def load_markets(self) -> dict[str, Instrument]:
        return dict(self.instruments)

    async def subscribe(self, symbols: Sequence[str]) -> None:
        new = [s for s in symbols if s not in self._tickers]
        if not new:
            return
        await self._qualify(new)
        for symbol in new:
            self._ask_quotes(symbol)
        if "candles" in self._tasks:
            self.candles.want(new, self.settings.candles)

    async def fetch_candles(
        self, symbol: str, timeframe: str, since: datetime | None = None, limit: int = 500
    ) -> list[Candle]:
        spec = convert.BAR_SIZES.get(timeframe)
        if spec is None:
            raise VenueError(f"timeframe {timeframe!r} is not one IB serves here; use {', '.join(convert.BAR_SIZES)}")
        if not self._connected():
            raise VenueError(f"{self.name}: not connected to TWS / IB Gateway")
        bar_size, step = spec
        now = self.clock.now()
        span = (now - since).total_seconds() if since else step * limit
        duration = f"{max(1, int(span // 86400) + 1)} D" if span > 86400 else f"{max(60, int(span))} S"
        bars = await self._history(await self._contract(symbol), duration, bar_size)
        out = self._candles(symbol, timeframe, bars, now)
        return [c for c in out if since is None or c.open_time >= since][-limit:]

    async def _candles_page(self, symbol: str, timeframe: str, since: datetime, limit: int) -> list[Candle]:
        """The poller's read (`candle_poll`): the bars from `since` on, `limit` of them at the
        most, asked as the duration from `since` ending `limit` bars later (or now): IB answers
        a duration ending at endDateTime, and its step sizes allow 1-minute bars a duration of
        a day at the most (`_page_bars`)."""
        bar_size, step = convert.BAR_SIZES[timeframe]
        if not self._connected():
            raise VenueError(f"{self.name}: not connected to TWS / IB Gateway")
        now = self.clock.now()
        end = min(since + timedelta(seconds=step * limit), now)
        seconds = max(step, int((end - since).total_seconds()))
        bars = await self._history(await self._contract(symbol), f"{seconds} S", bar_size, end if end < now else "")
        return [c for c in self._candles(symbol, timeframe, bars, now) if since <= c.open_time < end]

    async def _contract(self, symbol: str) -> Any:
        contract = self._contracts.get(symbol)
        if contract is None:
            await self._qualify([symbol])
            contract = self._contracts[symbol]
        return contract

    def _candles(self, symbol: str, timeframe: str, bars: Any, now: datetime) -> list[Candle]:
        step = convert.BAR_SIZES[timeframe][1]
        out = []
        for b in bars or []:
            at = b.date if isinstance(b.date, datetime) else datetime(b.date.year, b.date.month, b.date.day, tzinfo=UTC)
            at = at.astimezone(UTC)
            out.append(Candle(symbol, timeframe, at, float(b.open), float(b.high), float(b.low), float(b.close),
                              float(b.volume), closed=at + timedelta(seconds=step) <= now))  # fmt: skip
        return out

    async def _history(self, contract: Any, duration: str, bar_size: str, end: datetime | str = "") -> Any:
        """reqHistoricalData's bars, or VenueError: ib_async answers a refused request (IB's 162,
        a farm down) and one unanswered within its timeout with no bars, as it does a span with
        no trade; the refusal is heard on the error event, the silence by its duration."""
        refused: dict[int, str] = {}

        def heard(req_id: int, code: int, text: str, contract: Any = None) -> None:
            if code == 162 and NO_DATA in text:  # a span with no trade (a closed market): no bars
                return
            if code != 165 and not 2100 <= code < 2200:  # not a farm's or the query's news
                refused[req_id] = f"IB {code}: {' '.join(text.split())}"

        ib = self.ib
        loop = asyncio.get_running_loop()
        asked = loop.time()
        ib.errorEvent += heard
        try:
            bars = await ib.reqHistoricalDataAsync(contract, end, duration, bar_size, "TRADES", False, 2,
                                                   timeout=self.request_timeout_s)  # fmt: skip
        finally:
            ib.errorEvent -= heard
        why = refused.get(getattr(bars, "reqId", -1))
        if why is None and not bars and loop.time() - asked >= self.request_timeout_s:
            why = f"unanswered for {self.request_timeout_s:g} s"
        if why is not None:
            raise VenueError(f"{self.name}: historical bars: {why}")
        return bars

    async def fetch_balances(self) -> dict[str, Balance]:
        """The account's liquidation value (NetLiquidation: the cash and the positions' market
        value), with IB's valuation of each position (`Balance.valued`: the engine takes out the
        part it holds itself, or it would count twice). IB's account values come from the
        Gateway's subscription, sent at once on a position change and every three minutes
        otherwise. Disconnected, the Gateway's cache is empty or stale: an error, never 0."""
        ib = self.ib
        if ib is None or not self._connected():
            raise VenueError(f"{self.name}: not connected to TWS / IB Gateway: its balances are not known")
        values = {(v.tag, v.currency): v.value for v in ib.accountValues(self.account)}
        nlv, cash = values.get(("NetLiquidation", "USD")), values.get(("TotalCashValue", "USD"))
        if not nlv and not cash:
            raise VenueError(f"{self.name}: IB has sent no account values for {self.account} yet")
        free = convert.dec(values.get(("AvailableFunds", "USD")) or cash)
        if not nlv:  # the cash alone: it holds no position
            return {"USD": Balance("USD", convert.dec(cash), free)}
        valued = tuple(
            (item.contract.symbol, convert.dec(item.position), convert.dec(item.marketValue))
            for item in ib.portfolio(self.account)
            if item.position and item.contract.currency in ("USD", "")
        )
        return {"USD": Balance("USD", convert.dec(nlv), free, valued=valued)}

    async def fetch_positions(self) -> dict[str, Decimal]:
        """Quantities IB holds per symbol (signed); a check on our fill-based positions."""
        if not self._connected():
            raise VenueError(f"{self.name}: not connected to TWS / IB Gateway")
        rows = await asyncio.wait_for(self.ib.reqPositionsAsync(), self.request_timeout_s)
        return {p.contract.symbol: convert.dec(p.position) for p in rows if p.account == self.account}

    def _alive(self) -> None:
        """A message (quotes, an execution): the socket is alive. While the Gateway has lost
        IB's servers (1100), or leaves order requests unanswered, the venue stays `degraded`,
        however much the socket still carries: a quote used to show it `connected` again while
        new orders were refused."""
        if self._link_lost or self._orders_quiet or self._hung:
            self.monitor.last_message = time.monotonic()
        else:
            self.monitor.message()

    def _notice(self, level: str, text: str) -> None:
        log.log(logging.WARNING if level != "info" else logging.INFO, "%s: %s", self.name, text)
        self._emit(NoticeEvent(self.clock.now(), level, text, self.name))


def _num(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if v != v or v < 0 or v >= 1e300 else v  # nan, IB's -1 "no value", unset
