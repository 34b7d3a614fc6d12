"""Timeframe strings ("1m", "4h", "1d") as seconds, pandas frequencies and bars per year."""

from __future__ import annotations

import re

from tui_trader.core.errors import DataError

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_PANDAS_UNIT = {"s": "s", "m": "min", "h": "h", "d": "D", "w": "W"}
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
YEAR_SECONDS = 365 * 86_400  # crypto trades 24/7: a year is 365 full days


def _parse(timeframe: str) -> tuple[int, str]:
    match = _PATTERN.match(str(timeframe))
    if not match or int(match.group(1)) <= 0:
        raise DataError(
            f"unknown timeframe {timeframe!r}: "
            "use a number and a unit s, m, h, d or w (e.g. 1m, 5m, 4h, 1d)"
        )
    return int(match.group(1)), match.group(2)


def timeframe_to_seconds(timeframe: str) -> int:
    """Length of one bar in seconds: "5m" -> 300."""
    count, unit = _parse(timeframe)
    return count * _UNIT_SECONDS[unit]


def timeframe_to_pandas_freq(timeframe: str) -> str:
    """The pandas offset alias for resampling: "5m" -> "5min", "1d" -> "1D"."""
    count, unit = _parse(timeframe)
    if unit == "w":  # weeks as days keep bar starts aligned with the epoch like ccxt
        return f"{count * 7}D"
    return f"{count}{_PANDAS_UNIT[unit]}"


def seconds_to_timeframe(seconds: int) -> str:
    """The largest whole unit: 300 -> "5m", 86400 -> "1d", 90 -> "90s"."""
    for unit, size in (("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def periods_per_year(timeframe: str) -> float:
    """Bars in a 365-day year (markets open around the clock): "1h" -> 8760.0."""
    return YEAR_SECONDS / timeframe_to_seconds(timeframe)


def is_timeframe(text: str) -> bool:
    """True when `text` parses as a timeframe."""
    match = _PATTERN.match(str(text))
    return bool(match) and int(match.group(1)) > 0  # type: ignore[union-attr]
