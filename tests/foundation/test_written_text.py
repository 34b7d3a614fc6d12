"""The text the engine writes on every order (times, audit details, order meta) is what the
standard library writes: `iso` is `datetime.isoformat()`, `json_text` is
`json.dumps(value, default=str)`."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum

import pytest

from tui_trader.core.enums import Side
from tui_trader.core.isotime import iso
from tui_trader.store.json_text import json_text


class _Stamp(datetime):
    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return super().isoformat(sep, "microseconds").replace("+", "001+")


def test_iso_is_isoformat_for_utc_naive_other_zones_and_subclasses() -> None:
    rng = random.Random(20)
    start = datetime(1990, 1, 1, tzinfo=UTC)
    for _ in range(3_000):
        dt = start + timedelta(seconds=rng.randrange(2_000_000_000), microseconds=rng.choice((0, rng.randrange(10**6))))
        for value in (dt, dt.replace(tzinfo=None), dt.astimezone(timezone(timedelta(hours=-5, minutes=-30)))):
            assert iso(value) == value.isoformat()
    edge = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 1, 5, 0, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 1, 5, 14, 30, tzinfo=timezone(timedelta(0), "Z")),  # +00:00, not `UTC`
    ]
    for value in edge:
        assert iso(value) == value.isoformat()
    stamp = _Stamp(2026, 1, 5, 14, 30, tzinfo=UTC)  # a subclass (pandas' Timestamp) keeps its own
    assert iso(stamp) == stamp.isoformat() == "2026-01-05T14:30:00.000000001+00:00"


class _Plain(Enum):
    A = "a"


class _Broken:
    def __str__(self) -> str:
        raise RuntimeError("no text")


def test_json_text_is_json_dumps() -> None:
    values = [
        {},
        {"client_order_id": "tt-1", "venue": "paper", "side": str(Side.BUY), "price": None, "ok": True, "n": 3},
        {"nested": {"list": [1, 2.5, -0.0, 1e16, "é\u2028\x00"], "tuple": (1, "x")}, "big": 2**63},
        {"decimal": Decimal("0.10"), "when": datetime(2026, 1, 5, tzinfo=UTC), "enum": _Plain.A, "side": Side.SELL},
        {"nan": math.nan, "inf": -math.inf},
        {1: "int key"},
        {"huge": 2**70, "surrogate": "\ud800"},
        [{"a": [None, False]}],
    ]
    for value in values:
        assert json_text(value) == json.dumps(value, default=str)
    circular: list[object] = []
    circular.append(circular)
    for bad in ({"x": _Broken()}, circular):  # json.dumps's own error, and the next text is right again
        with pytest.raises((RuntimeError, ValueError)):
            json_text(bad)
        assert json_text(values[2]) == json.dumps(values[2], default=str)
