"""A venue that said "stop": HTTP 429 / 418 answers, their Retry-After, and how long we wait.

Binance sends `Retry-After` (seconds) with a 429 (wait this long to avoid a ban) and with a 418
(the IP is banned this long, 2 minutes to 3 days); Alpaca sends `X-RateLimit-Reset` (the unix
second its window resets). One `RateGate` per venue holds every request to it until then, so
no part of the adapter keeps hammering a venue that asked us to stop; without a header we back
off exponentially. The gate says for how long, so the trader can be told.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui_trader.venues.resilience import TokenBucket

# How long an order may wait for a closed gate before it is refused (not sent) instead.
SUBMIT_MAX_WAIT_S = 3.0
# How many times an order refused by the rate limiter (so never made) is sent, waiting as asked.
RATE_LIMIT_TRIES = 3


def retry_after_s(status: int, headers: Mapping[str, str], wall: Callable[[], float] = time.time) -> float | None:
    """Seconds the venue asked us to wait, from its headers; None when it did not say."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw = lowered.get("retry-after")
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:  # an HTTP date
            from email.utils import parsedate_to_datetime

            try:
                return max(0.0, parsedate_to_datetime(raw).timestamp() - wall())
            except (TypeError, ValueError):
                pass
    reset = lowered.get("x-ratelimit-reset")
    if reset and status == 429:
        try:
            return max(0.0, float(reset) - wall())
        except ValueError:
            return None
    return None


def _secs(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"


class RateGate:
    """Until when a venue wants no requests from us, and why."""

    def __init__(
        self,
        venue: str,
        *,
        base_s: float = 1.0,
        cap_s: float = 120.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.venue = venue
        self.base_s = base_s
        self.cap_s = cap_s
        self._mono = monotonic
        self._wall = wall
        self._until = 0.0  # monotonic
        self._strikes = 0  # limits in a row without a header: the backoff grows
        self.reason = ""
        self.limited = 0  # 429/418 answers seen
        self.banned = 0  # 418 answers seen

    def hit(self, status: int, headers: Mapping[str, str] | None = None) -> float:
        """A 429 or 418 arrived: close the gate for what the venue asked (or our backoff).
        Returns the seconds from now the gate stays closed."""
        self.limited += 1
        asked = retry_after_s(status, headers or {}, self._wall)
        if asked is None:
            self._strikes += 1
            asked = min(self.cap_s, self.base_s * 2 ** (self._strikes - 1))
            source = "no Retry-After; backing off"
        else:
            self._strikes = 0
            source = "Retry-After"
        if status == 418:
            self.banned += 1
            what = f"{self.venue} has banned our IP (HTTP 418)"
        else:
            what = f"{self.venue} is rate limiting us (HTTP {status})"
        until = self._mono() + asked
        if until > self._until:
            self._until = until
            self.reason = f"{what}; {source} {_secs(asked)}"
        return self.remaining()

    def ok(self) -> None:
        """A request went through: the next limit without a header starts the backoff again."""
        self._strikes = 0

    def remaining(self) -> float:
        return max(0.0, self._until - self._mono())

    @property
    def closed(self) -> bool:
        return self.remaining() > 0

    def until_text(self) -> str:
        """When the gate opens, as a UTC clock time."""
        at = datetime.fromtimestamp(self._wall() + self.remaining(), UTC)
        return at.strftime("%H:%M:%S UTC")

    def describe(self) -> str:
        """One line for the trader: who said stop, for how long, until when."""
        if not self.closed:
            return ""
        return f"{self.reason}: waiting {_secs(self.remaining())} more, until {self.until_text()}"

    async def wait(self) -> None:
        """Sleep until the gate is open."""
        while (left := self.remaining()) > 0:
            await asyncio.sleep(min(left, 1.0))

    async def admit(self, bucket: TokenBucket | None = None) -> str | None:
        """Before an order: wait for the gate (and a token of the order bucket), or return why
        the order is not sent when the gate stays closed longer than an order may wait."""
        refusal = self.refusal()
        if refusal:
            return refusal
        await self.wait()
        if bucket is not None:
            await bucket.take()
        return None

    def refusal(self, max_wait_s: float = SUBMIT_MAX_WAIT_S) -> str | None:
        """Why an order is not sent now (the gate stays closed longer than `max_wait_s`), or None."""
        if self.remaining() <= max_wait_s:
            return None
        return f"not sent: {self.describe()}; place it again after that"
