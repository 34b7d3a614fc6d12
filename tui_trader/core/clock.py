"""Injectable time: the engine never calls datetime.now() directly."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FrozenClock:
    """A clock that moves only when told to (tests, backtests, replays)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def set(self, at: datetime) -> None:
        self._mono += max(0.0, (at - self._now).total_seconds())
        self._now = at

    def advance(self, seconds: float) -> None:
        self.set(self._now + timedelta(seconds=seconds))


def utc(ts: datetime) -> datetime:
    """Make sure a datetime is timezone-aware UTC."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_datetime(ns: int) -> datetime:
    """Epoch nanoseconds as a UTC datetime, the nanoseconds dropped: pandas'
    `Timestamp(ns, tz="UTC").to_pydatetime()`, for code that runs without pandas."""
    return _EPOCH + timedelta(microseconds=int(ns) // 1000)
