"""`datetime.isoformat()` of the engine's own times, the same text at about half the
instructions.

Every order writes its times as text several times before it is acknowledged (its row, the
paper exchange's journal lines, the audit row, when it was sent): `isoformat` of an aware
datetime formats each field and the offset through C's printf, ~12,000 instructions a call
(valgrind). A UTC time (the engine's clock, `datetime.UTC`) is put together here from a
date's text kept per day and tables of the minutes and seconds (~5,000-7,500
instructions); any other datetime (naive, another zone) is `isoformat`'s.
"""

from __future__ import annotations

from datetime import UTC, datetime

_DAYS: dict[int, str] = {}  # year * 10_000 + month * 100 + day -> "YYYY-MM-DD"
_DAYS_KEPT = 4_096  # more days than a run formats, but no unbounded growth (a backfill of years)
_MINUTES = [f"T{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
_SECONDS = [f"{s:02d}" for s in range(60)]
_SECONDS_DOT = [f"{s:02d}." for s in range(60)]


def iso(dt: datetime) -> str:
    """`dt.isoformat()`, the same text; a time in `datetime.UTC` without printf."""
    if dt.tzinfo is not UTC or type(dt) is not datetime:  # a subclass (pandas' Timestamp) has its own
        return dt.isoformat()
    key = dt.year * 10_000 + dt.month * 100 + dt.day
    day = _DAYS.get(key)
    if day is None:
        if len(_DAYS) >= _DAYS_KEPT:
            _DAYS.clear()
        day = _DAYS[key] = dt.date().isoformat()
    minute = _MINUTES[dt.hour * 60 + dt.minute]
    us = dt.microsecond
    if us:  # six digits, as isoformat's: str(1_000_000 + us) without its leading 1
        return day + minute + _SECONDS_DOT[dt.second] + str(1_000_000 + us)[1:] + "+00:00"
    return day + minute + _SECONDS[dt.second] + "+00:00"
