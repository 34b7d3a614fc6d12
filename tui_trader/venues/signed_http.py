"""Requests to a broker's signed HTTP API, one at a time, with the venue's rate gate: the wire
half the Robinhood crypto and Webull adapters share (`venues.polled`). The broker adds how a
request is signed (`_sign`) and how its refusals read (`_refused_text`).

- `_http`: one signed request, never repeated (orders use it: a lost answer is the caller's to
  settle);
- `_call`: a read (or a cancel): a 429 waits for the gate and asks again, a 5xx or a lost answer
  is asked again with backoff, a 401 and other 4xx raise one line in the broker's words.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from yarl import URL

from tui_trader.core.enums import ConnectionState
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues.base import VenueError
from tui_trader.venues.ratelimit import RateGate
from tui_trader.venues.resilience import Backoff, ConnectionMonitor


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    data: Any
    headers: dict[str, str]
    text: str


class SignedHttp:
    """Mixed into a polled venue, which holds these."""

    name: str
    broker: str
    rest_timeout_s: float
    rate_gate: RateGate
    monitor: ConnectionMonitor
    counters: dict[str, int]
    _credentials: Credentials
    _session: aiohttp.ClientSession | None

    def _notice(self, level: str, text: str) -> None:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        raise NotImplementedError

    def _sign(
        self, method: str, base: str, path: str, query: dict[str, Any], qs: str, body: str, keys: Credentials
    ) -> dict[str, str]:
        """The headers that authenticate this request to `base` (scheme and host) with `keys`:
        `path` without the query, `query` as given, `qs` the query string exactly as sent (""
        for none), `body` the body as sent."""
        raise NotImplementedError

    def _refused_text(self, ans: Answer) -> str:
        return ans.text[:200]

    # -- HTTP -----------------------------------------------------------------------------------

    def _safe(self, text: str) -> str:
        return self._credentials.redact(text.replace("\n", " "))[:300]

    async def _http(self, method: str, path: str, *, query: dict[str, Any] | None = None,
                    body: dict[str, Any] | None = None, base: str | None = None,
                    keys: Credentials | None = None) -> Answer:  # fmt: skip
        """One signed request (with `keys`, else the venue's), no retry; transport failures
        raise (aiohttp / TimeoutError)."""
        if self._session is None:
            raise VenueError(f"{self.name}: not connected")
        text_body = json.dumps(body, separators=(",", ":")) if body is not None else ""
        query = query or {}
        qs = urlencode([(k, str(x)) for k, v in query.items() for x in (v if isinstance(v, list) else [v])])
        base = base or self.base_url
        signed = self._sign(method, base, path, query, qs, text_body, keys or self._credentials)
        headers = {"Content-Type": "application/json; charset=utf-8", **signed}
        url = URL(base + path + (f"?{qs}" if qs else ""), encoded=True)
        async with self._session.request(
            method,
            url,
            data=text_body.encode() if text_body else None,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=self.rest_timeout_s),
        ) as resp:
            text = await resp.text()
            try:
                data = json.loads(text) if text else None
            except ValueError:
                data = None
            return Answer(resp.status, data, dict(resp.headers), text)

    def _rate_limited(self, ans: Answer) -> None:
        self.counters["rate_limited"] += 1
        was_closed = self.rate_gate.closed
        self.rate_gate.hit(429, ans.headers)
        if not was_closed:
            self._notice("warning", self.rate_gate.describe())

    def _auth_refused(self, ans: Answer) -> str:
        """Keys or clock; on a venue already running, new keys are taken by `venue reconnect`."""
        running = self.monitor.state not in (ConnectionState.CONNECTING, ConnectionState.DISCONNECTED)
        then = f", then `tui-trader venue reconnect {self.name}`" if running else ""
        return (f"{self.name}: {self.broker} refused our signature (HTTP {ans.status}: "
                f"{self._safe(self._refused_text(ans)) or 'unauthorized'}); check the keys with "
                f"`tui-trader keys set {self.name}`{then} and that this machine's clock is right")  # fmt: skip

    async def _call(self, method: str, path: str, *, query: dict[str, Any] | None = None,
                    body: dict[str, Any] | None = None, what: str, attempts: int = 3,
                    ok_404: bool = False, base: str | None = None, keys: Credentials | None = None) -> Any:  # fmt: skip
        """A read (or a cancel): 429 waits on the gate and asks again; a 5xx or a lost answer
        is asked again with backoff; 401 and other 4xx raise VenueError with the broker's words."""
        backoff = Backoff(self.monitor.backoff.base_s, self.monitor.backoff.cap_s)
        for attempt in range(attempts):
            await self.rate_gate.wait()
            try:
                ans = await self._http(method, path, query=query, body=body, base=base, keys=keys)
            except (TimeoutError, aiohttp.ClientError) as exc:
                if attempt == attempts - 1:
                    raise VenueError(f"{self.name}: {what}: no answer ({type(exc).__name__})") from None
                await asyncio.sleep(backoff.next_delay())
                continue
            if ans.status == 429:
                self._rate_limited(ans)
                if attempt < attempts - 1:
                    continue
                raise VenueError(f"{self.name}: {what}: {self.rate_gate.describe() or 'HTTP 429'}")
            self.rate_gate.ok()
            if ans.status == 401:
                raise VenueError(self._auth_refused(ans))
            if ans.status >= 500 and attempt < attempts - 1:
                await asyncio.sleep(backoff.next_delay())
                continue
            if ans.status == 404 and ok_404:
                return None
            if ans.status >= 400:
                raise VenueError(f"{self.name}: {what}: {self._safe(self._refused_text(ans)) or f'HTTP {ans.status}'}")
            return ans.data
        raise VenueError(f"{self.name}: {what} failed")  # pragma: no cover
