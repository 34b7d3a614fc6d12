"""Timeframe strings ("1m", "4h", "1d", "1w") as seconds, and bar alignment in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tui_trader.core.errors import UserError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Weekly bars start on Monday (as exchanges do); the epoch was a Thursday.
_WEEK_ANCHOR = 4 * 86400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timeframe_to_seconds(timeframe: str) -> int:
    """'5m' -> 300. Raises UserError for anything else than <n><s|m|h|d|w>."""
    tf = str(timeframe).strip()
    unit = tf[-1:]
    try:
        count = int(tf[:-1])
    except ValueError:
        count = 0
    if unit not in _UNITS or count <= 0:
        raise UserError(f"unknown timeframe {timeframe!r}: use e.g. 1m, 5m, 15m, 1h, 4h, 1d, 1w")
    return count * _UNITS[unit]


def timeframe_to_minutes(timeframe: str) -> float:
    return timeframe_to_seconds(timeframe) / 60


def timeframe_to_timedelta(timeframe: str) -> timedelta:
    return timedelta(seconds=timeframe_to_seconds(timeframe))


def bar_start(ts: datetime, timeframe: str | int) -> datetime:
    """The open time of the bar of `timeframe` that contains `ts` (UTC, epoch-aligned)."""
    seconds = timeframe if isinstance(timeframe, int) else timeframe_to_seconds(timeframe)
    epoch_s = (ts - _EPOCH).total_seconds()
    anchor = _WEEK_ANCHOR if seconds % 604800 == 0 else 0
    start = ((epoch_s - anchor) // seconds) * seconds + anchor
    return _EPOCH + timedelta(seconds=start)


def is_multiple(higher: str, base: str) -> bool:
    """True when bars of `higher` are made of whole bars of `base`."""
    h, b = timeframe_to_seconds(higher), timeframe_to_seconds(base)
    return h >= b and h % b == 0


def timeframe_to_msecs(timeframe: str) -> int:
    return timeframe_to_seconds(timeframe) * 1000


def timeframe_to_prev_date(timeframe: str, date: datetime | None = None) -> datetime:
    """The open of the candle that contains `date` (now, UTC, by default); a candle's own
    open stays as it is."""
    return bar_start(date or datetime.now(UTC), timeframe)


def timeframe_to_next_date(timeframe: str, date: datetime | None = None) -> datetime:
    """The open of the next candle after `date` (now by default); a candle's own open stays."""
    date = date or datetime.now(UTC)
    start = bar_start(date, timeframe)
    return start if start == date else start + timeframe_to_timedelta(timeframe)
