"""SchwabVenue: US stocks at Charles Schwab through schwab-py behind the `Venue` protocol.

Split by concern: `auth.py` (the OAuth login, clients whose tokens live in the keyring),
`streams.py` (the streamer socket: quotes and account activity, watched; reconnects),
`orders.py` (submit once, cancel, market-hours rules), `history.py` (orders and their
executions for reconciliation), `convert.py` (Schwab JSON to ours), `hours.py` (the market
hours Schwab publishes). This module builds the client and holds what they share:

- one `RateGate` per venue: a 429 closes it for what Schwab asks (Retry-After) or our
  backoff, and every request waits for it;
- a 401 refreshes the access token once and asks again (a 401 made nothing); a refresh that
  Schwab refuses (the 7-day refresh token has expired) stops the venue with one line: log in
  again with `tui-trader keys set NAME`.

Schwab takes no client order id: `venues.idmap` keeps ours, persisted, and finds an order
whose answer was lost by what it is and when it was sent (see that module and docs/venues.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
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
from tui_trader.venues.base import Emit, VenueCapabilities, VenueError
from tui_trader.venues.idmap import OrderIdMap
from tui_trader.venues.ratelimit import RateGate
from tui_trader.venues.resilience import Backoff, ConnectionMonitor, TokenBucket, cancel_tasks
from tui_trader.venues.schwab import auth, convert
from tui_trader.venues.schwab.history import SchwabHistory
from tui_trader.venues.schwab.hours import MarketHours
from tui_trader.venues.schwab.orders import SchwabOrders
from tui_trader.venues.schwab.streams import SchwabStreams
from tui_trader.venues.seen import SeenIds
from tui_trader.venues.streams import StreamBoard

log = logging.getLogger(__name__)

# Schwab documents no window after which an order that has not shown up never will.
NOT_FOUND_FINAL_S = 60.0


class AuthExpired(VenueError):
    """Schwab refused to refresh the token: the trader must log in again."""


class SchwabVenue(SchwabStreams, SchwabOrders, SchwabHistory):
    kind = "schwab"
    takes_keys = True  # `venue reconnect` reads the login again (`reconnect_with`)

    def __init__(
        self,
        name: str,
        settings: VenueSettings,
        clock: Clock,
        *,
        credentials: Credentials | None = None,
        save_token: Callable[[str], None] | None = None,
        ids_path: Path | None = None,
        backoff: Backoff | None = None,
        order_rate: float | None = None,
        rest_timeout_s: float = 10.0,
        hours_refresh_s: float = 60.0,
        not_found_final_after_s: float = NOT_FOUND_FINAL_S,
        heartbeat_grace_s: float | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.clock = clock
        self.is_live = settings.is_live
        self._credentials = credentials or Credentials()
        self._save_token = save_token or (lambda token: None)
        self.capabilities = VenueCapabilities(
            stop=True, stop_limit=True, trailing_stop=False, post_only=False, ioc_fok=True, shorting=False
        )
        self.monitor = ConnectionMonitor(
            name,
            clock,
            stall_after_s=settings.stall_after_s,
            backoff=backoff or Backoff(settings.backoff_base_s, settings.backoff_cap_s),
        )
        self.streams = StreamBoard(self.monitor.stall_after_s)
        self.rate_gate = RateGate(name, base_s=settings.backoff_base_s, cap_s=max(120.0, settings.backoff_cap_s))
        rate = order_rate or settings.order_rate_per_s
        self.order_bucket = TokenBucket(rate, max(1.0, rate * 2))
        self.rest_timeout_s = rest_timeout_s
        self.hours_refresh_s = hours_refresh_s
        self.heartbeat_grace_s = heartbeat_grace_s or settings.stall_after_s
        self.not_found_final_after_s = not_found_final_after_s
        self.ids = OrderIdMap(ids_path)
        self.hours = MarketHours()
        self.instruments: dict[str, Instrument] = {}
        self.account_hash = ""
        self._client: Any = None
        self._emit: Emit = lambda event: None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closing = False
        self._hours_at = 0.0
        self._auth_failed = ""
        self._refresh_lock = asyncio.Lock()
        self._token_note = False
        self._symbols: list[str] = []
        self._orders: dict[str, dict[str, Any]] = {}  # Schwab order id -> last JSON seen
        self._working: dict[str, Decimal] = {}  # our cid -> filled quantity (working orders)
        self._seen = SeenIds()
        self._quotes: dict[str, dict[str, Any]] = {}
        self._probing = False
        self._probed_at = 0.0
        self._relearn = False
        self._stream_ready = asyncio.Event()
        self.counters = {"reconnects": 0, "rate_limited": 0, "found_by_match": 0, "token_refreshes": 0,
                         "duplicate_fills": 0, "malformed": 0}  # fmt: skip

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self.monitor.state

    async def connect(self, emit: Emit) -> None:
        self._emit = emit
        self.monitor.emit = emit
        creds = self._credentials
        if not (creds.api_key and creds.secret and creds.token):
            raise ConfigError(
                f"venues.{self.name}: Schwab needs your app key, app secret and a login; run "
                f"`tui-trader keys set {self.name}`"
            )
        try:
            left = auth.login_left_s(creds.token)
        except ValueError:
            raise ConfigError(f"venues.{self.name}: the stored Schwab login is unreadable; run "
                              f"`tui-trader keys set {self.name}` again") from None  # fmt: skip
        if left < 0:
            raise ConfigError(f"venues.{self.name}: the Schwab login expired (it lasts 7 days); run "
                              f"`tui-trader keys set {self.name}` to log in again")  # fmt: skip
        if left < 24 * 3600:
            self._notice("warning", f"the Schwab login expires in {left / 3600:.0f} h; run "
                                    f"`tui-trader keys set {self.name}` before then")  # fmt: skip
        self.monitor.connecting()
        self._client = auth.make_client(
            creds.api_key, creds.secret, creds.token, self._store_token,
            url_override=self.settings.url_override, timeout_s=self.rest_timeout_s,
        )  # fmt: skip
        await self._choose_account()
        await self._refresh_hours()
        self.instruments = {s: convert.instrument(self.name, s) for s in self.settings.symbols}
        self.monitor.connected("schwab LIVE")
        self._start_stream()
        self._tasks["watchdog"] = asyncio.create_task(self._watchdog(), name=f"{self.name}-watchdog")
        self._tasks["hours"] = asyncio.create_task(self._hours_loop(), name=f"{self.name}-hours")
        with contextlib.suppress(TimeoutError):  # fills are safe once account activity flows
            await asyncio.wait_for(self._stream_ready.wait(), 5.0)

    async def close(self) -> None:
        self._closing = True
        await cancel_tasks(self._tasks)
        await self._close_socket()
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.close_async_session()
        self._tasks.clear()
        self.monitor.closed()

    async def reconnect_with(self, credentials: Credentials | None) -> None:
        """`tui-trader venue reconnect NAME` after `keys set NAME` logged in again (the 7-day
        login ran out, or is about to): a client made with the new login reads the account
        numbers first; refused, unreadable, expired or not for the account in use, this raises
        and nothing changed. Then the venue uses it: orders are taken again, the streamer logs in
        with it and, once Schwab acknowledges the login, the engine reconciles (fills made while
        the login was over are read back once)."""
        creds = credentials or Credentials()
        client = await self._checked_client(creds)
        old, self._client = self._client, client
        self._credentials, self._auth_failed = creds, ""
        await cancel_tasks({k: self._tasks.pop(k) for k in ("stream", "refresher") if k in self._tasks})
        await self._close_socket()
        if old is not None:
            with contextlib.suppress(Exception):
                await old.close_async_session()
        self._stream_ready.clear()
        self._mark_down("reconnecting with the login read again", now=True)
        self._start_stream(resumed=True)

    async def _checked_client(self, creds: Credentials) -> Any:
        """A client on `creds`' login that Schwab answers for the account in use (VenueError,
        one line, if not: nothing changed)."""
        again = f"run `tui-trader keys set {self.name}` to log in again"
        if not (creds.api_key and creds.secret and creds.token):
            raise VenueError(f"{self.name}: no Schwab login in the keyring; {again}")
        try:
            left = auth.login_left_s(creds.token)
        except ValueError:
            raise VenueError(f"{self.name}: the stored Schwab login is unreadable; {again}") from None
        if left < 0:
            raise VenueError(f"{self.name}: the stored Schwab login has expired too (it lasts 7 days); {again}")
        client = auth.make_client(creds.api_key, creds.secret, creds.token, self._store_token,
                                  url_override=self.settings.url_override, timeout_s=self.rest_timeout_s)  # fmt: skip
        why = ""
        try:
            resp = await asyncio.wait_for(client.get_account_numbers(), self.rest_timeout_s)
            if resp.status_code != 200:
                why = f"Schwab refused the login read again (HTTP {resp.status_code}); {again}"
            elif self.account_hash not in {str(r.get("hashValue")) for r in resp.json() or []}:
                why = f"the login read again is not for the account in use; {again} with that account's user"
        except Exception as exc:
            why = f"account numbers: {self._safe(str(exc) or type(exc).__name__)}"
        if why:
            with contextlib.suppress(Exception):
                await client.close_async_session()
            raise VenueError(f"{self.name}: {why}")
        return client

    def _store_token(self, token: str) -> None:
        """A refreshed token: into the keyring (a worker thread); failing that, memory only."""
        self.counters["token_refreshes"] += 1
        self._credentials = Credentials(self._credentials.api_key, self._credentials.secret,
                                        self._credentials.passphrase, token)  # fmt: skip
        try:
            self._save_token(token)
        except Exception as exc:
            if not self._token_note:
                self._token_note = True
                log.warning("%s: the refreshed Schwab token could not be stored in the keyring (%s); "
                            "it is kept in memory until the daemon stops", self.name, type(exc).__name__)  # fmt: skip

    async def _choose_account(self) -> None:
        rows = await self._json(self._client.get_account_numbers, what="account numbers")
        accounts = {str(r.get("accountNumber")): str(r.get("hashValue")) for r in rows or []}
        want = self.settings.account
        if want:
            if want not in accounts:
                shown = ", ".join(f"...{a[-4:]}" for a in accounts) or "none"
                raise ConfigError(f"venues.{self.name}.account: Schwab has no account {want} for this "
                                  f"login (accounts: {shown})")  # fmt: skip
            self.account_hash = accounts[want]
        elif len(accounts) == 1:
            self.account_hash = next(iter(accounts.values()))
        else:
            shown = ", ".join(accounts) or "none"
            raise ConfigError(f"venues.{self.name}.account: this login has {len(accounts)} accounts ({shown}); "
                              "set account = \"NUMBER\" in the venue table")  # fmt: skip

    async def load_markets(self) -> dict[str, Instrument]:
        return dict(self.instruments)

    async def subscribe(self, symbols: Sequence[str]) -> None:
        new = [s for s in symbols if s not in self._symbols]
        self._symbols += new
        for s in new:
            self.instruments.setdefault(s, convert.instrument(self.name, s))
            self.streams.add(f"quote:{s}", steady=True)
        await self._subscribe_quotes(new)

    # -- market hours ---------------------------------------------------------------------------

    def market_open(self, symbol: str, now: datetime) -> bool:
        """Engine pre-trade hook: the regular session, or with extended hours on, the extended
        sessions too (where `create_order` sends limit orders only)."""
        return self.hours.open_at(now) or (self.settings.extended_hours and self.hours.extended_at(now))

    async def _hours_loop(self) -> None:
        while not self._closing:
            await asyncio.sleep(1.0)
            if time.monotonic() - self._hours_at > self.hours_refresh_s:
                with contextlib.suppress(VenueError):
                    await self._refresh_hours()

    async def _refresh_hours(self) -> None:
        body = await self._json(self._client.get_market_hours, ["equity"], what="market hours")
        self.hours.update(body or {})
        self._hours_at = time.monotonic()

    # -- REST -----------------------------------------------------------------------------------

    def _notice(self, level: str, text: str) -> None:
        log.log(logging.WARNING if level == "warning" else logging.INFO, "%s: %s", self.name, text)
        self._emit(NoticeEvent(self.clock.now(), level, text, self.name))

    def _safe(self, text: str) -> str:
        return self._credentials.redact(text.replace("\n", " "))[:300]

    def _rate_limited(self, resp: Any) -> None:
        self.counters["rate_limited"] += 1
        was_closed = self.rate_gate.closed
        self.rate_gate.hit(429, dict(resp.headers))
        if not was_closed:
            self._notice("warning", self.rate_gate.describe())

    async def _refresh_token(self, stale_access: str) -> None:
        """Schwab said 401 (or the streamer denied the login): refresh once, unless another
        task already did since `stale_access` was used. Refused: the login has expired."""
        async with self._refresh_lock:
            session = self._client.session
            if self._auth_failed:
                raise AuthExpired(self._auth_failed)
            if session.token and session.token.get("access_token") != stale_access:
                return  # refreshed meanwhile
            try:
                await asyncio.wait_for(session.refresh_token(auth.TOKEN_URL), self.rest_timeout_s)
            except Exception as exc:
                from authlib.common.errors import AuthlibBaseError

                if isinstance(exc, AuthlibBaseError):  # Schwab answered: no (the login is over)
                    self._auth_failed = (f"{self.name}: Schwab refused to refresh the login (it lasts 7 days); "
                                         f"run `tui-trader keys set {self.name}` to log in again")  # fmt: skip
                    self.streams.stopped("account", "login expired")
                    self.monitor.set(ConnectionState.DEGRADED, self._auth_failed)
                    self._notice("error", self._auth_failed)
                    raise AuthExpired(self._auth_failed) from None
                raise VenueError(f"{self.name}: token refresh failed: {self._safe(str(exc))}") from None

    def _access(self) -> str:
        token = getattr(self._client.session, "token", None) or {}
        return str(token.get("access_token", ""))

    async def _send(self, fn: Callable[..., Awaitable[Any]], *args: Any, what: str) -> Any:
        """One request; a 401 refreshes the token and asks once more (a 401 made nothing)."""
        if self._auth_failed:
            raise AuthExpired(self._auth_failed)
        await self.rate_gate.wait()
        used = self._access()
        resp = await asyncio.wait_for(fn(*args), self.rest_timeout_s)
        if resp.status_code == 401:
            await self._refresh_token(used)
            resp = await asyncio.wait_for(fn(*args), self.rest_timeout_s)
            if resp.status_code == 401:
                raise VenueError(f"{self.name}: {what}: Schwab refused the refreshed token (HTTP 401)")
        return resp

    async def _call(self, fn: Callable[..., Awaitable[Any]], *args: Any, what: str, attempts: int = 4) -> Any:
        """An idempotent request (GET, DELETE): 429 waits on the gate, 5xx and timeouts are
        asked again with backoff; a 4xx is an answer (the caller reads it)."""
        import httpx

        backoff = Backoff(self.monitor.backoff.base_s, self.monitor.backoff.cap_s)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                resp = await self._send(fn, *args, what=what)
            except (httpx.TransportError, TimeoutError) as exc:
                if last:
                    raise VenueError(f"{self.name}: {what}: {type(exc).__name__}") from None
                await asyncio.sleep(backoff.next_delay())
                continue
            if resp.status_code == 429:
                self._rate_limited(resp)
                if last:
                    raise VenueError(f"{self.name}: {what}: {self.rate_gate.describe()}")
                continue
            if resp.status_code >= 500 and not last:
                await asyncio.sleep(backoff.next_delay())
                continue
            if resp.status_code < 400:
                self.rate_gate.ok()
            return resp
        raise VenueError(f"{self.name}: {what} failed")  # pragma: no cover

    async def _json(self, fn: Callable[..., Awaitable[Any]], *args: Any, what: str) -> Any:
        resp = await self._call(fn, *args, what=what)
        if resp.status_code >= 400:
            raise VenueError(f"{self.name}: {what}: HTTP {resp.status_code} {self._error_text(resp)}")
        return resp.json() if resp.content else None

    def _error_text(self, resp: Any) -> str:
        try:
            body = resp.json()
        except ValueError:
            return self._safe(resp.text[:200])
        if isinstance(body, dict):
            msg = body.get("message") or body.get("error_description") or body.get("error") or ""
            errors = body.get("errors") or []
            if errors and isinstance(errors[0], dict):
                errors = [e.get("detail") or e.get("title") or "" for e in errors]
            return self._safe("; ".join(str(x) for x in [msg, *errors] if x))
        return self._safe(str(body))

    # -- data -----------------------------------------------------------------------------------

    async def fetch_candles(
        self, symbol: str, timeframe: str, since: datetime | None = None, limit: int = 500
    ) -> list[Candle]:
        spec = convert.TIMEFRAMES.get(timeframe)
        if spec is None:
            raise VenueError(f"timeframe {timeframe!r} is not one Schwab serves; use {', '.join(convert.TIMEFRAMES)}")
        freq_type, freq, period_type = spec
        unit = {"minute": timedelta(minutes=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}[freq_type]
        length = unit * freq
        now = self.clock.now()
        start = since or now - length * limit
        body = await self._json(self._price_history, symbol, period_type, freq_type, freq, start, now,
                                what="price history")  # fmt: skip
        out = []
        for c in (body or {}).get("candles") or []:
            at = datetime.fromtimestamp(int(c["datetime"]) / 1000, now.tzinfo)
            out.append(Candle(symbol, timeframe, at, float(c["open"]), float(c["high"]), float(c["low"]),
                              float(c["close"]), float(c.get("volume") or 0), closed=at + length <= now))  # fmt: skip
        return out[-limit:]

    def _price_history(self, symbol: str, period_type: str, freq_type: str, freq: int,
                       start: datetime, end: datetime) -> Awaitable[Any]:  # fmt: skip
        params = {"symbol": symbol.upper(), "periodType": period_type, "frequencyType": freq_type,
                  "frequency": freq, "startDate": int(start.timestamp() * 1000),
                  "endDate": int(end.timestamp() * 1000)}  # fmt: skip
        result: Awaitable[Any] = self._client._get_request("/marketdata/v1/pricehistory", params)
        return result

    async def fetch_balances(self) -> dict[str, Balance]:
        """The account's liquidation value (the cash and the positions' market value), with
        Schwab's valuation of each position read in the same answer (`Balance.valued`: the engine
        takes out the part it holds itself, or it would count twice)."""
        return _balances(await self._account_with_positions("account"))

    async def fetch_positions(self) -> dict[str, Decimal]:
        """Quantities Schwab holds per symbol (signed); a check on our fill-based positions."""
        return {symbol: qty for symbol, qty, _ in _positions(await self._account_with_positions("positions"))}

    async def fetch_account(self) -> tuple[dict[str, Balance], dict[str, Decimal]]:
        """The balances and the positions from one answer (the account with its positions)."""
        acct = await self._account_with_positions("account")
        return _balances(acct), {symbol: qty for symbol, qty, _ in _positions(acct)}

    async def _account_with_positions(self, what: str) -> dict[str, Any]:
        body = await self._json(lambda: self._client.get_account(self.account_hash, fields=["positions"]), what=what)
        acct: dict[str, Any] = (body or {}).get("securitiesAccount") or {}
        return acct


def _balances(acct: dict[str, Any]) -> dict[str, Balance]:
    bal = acct.get("currentBalances") or {}
    free = convert.dec(bal.get("cashAvailableForTrading", bal.get("availableFunds", bal.get("totalCash"))))
    if bal.get("liquidationValue") is None:  # the cash alone: it holds no position
        return {"USD": Balance("USD", convert.dec(bal.get("cashBalance", bal.get("totalCash"))), free)}
    valued = tuple((symbol, qty, convert.dec(p.get("marketValue"))) for symbol, qty, p in _positions(acct) if qty)
    return {"USD": Balance("USD", convert.dec(bal["liquidationValue"]), free, valued=valued)}


def _positions(acct: dict[str, Any]) -> list[tuple[str, Decimal, dict[str, Any]]]:
    """(symbol, signed quantity, the row) of each position in Schwab's account answer."""
    return [
        (str((p.get("instrument") or {}).get("symbol", "")),
         convert.dec(p.get("longQuantity")) - convert.dec(p.get("shortQuantity")), p)
        for p in acct.get("positions") or []
    ]  # fmt: skip
