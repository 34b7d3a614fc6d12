"""The strategy's bar window: newest bars in time order, bounded, late bars in their place."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tui_trader.core.market import Candle
from tui_trader.strategy.window import BarWindow

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _bar(minute: int, close: float) -> Candle:
    return Candle("X", "1m", T0 + timedelta(minutes=minute), close, close, close, close, 1.0)


def _reference(size: int, bars: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """The same rules on a plain sorted list."""
    rows: list[tuple[int, float]] = []
    for minute, close in bars:
        stamps = [m for m, _ in rows]
        at = bisect.bisect_left(stamps, minute)
        if at < len(rows) and stamps[at] == minute:
            rows[at] = (minute, close)
        elif at == len(rows) or len(rows) < size:
            rows.insert(at, (minute, close))
            del rows[: max(0, len(rows) - size)]
        elif at > 0:
            rows.insert(at, (minute, close))
            del rows[0]
    return rows


@given(
    size=st.integers(1, 6),
    bars=st.lists(st.tuples(st.integers(0, 40), st.integers(1, 1000).map(float)), max_size=80),
)
def test_window_matches_a_sorted_list_whatever_the_order_of_arrival(size: int, bars: list[tuple[int, float]]) -> None:
    win = BarWindow(size)
    for minute, close in bars:
        win.add(_bar(minute, close))
    frame = win.frame()
    got = [(int((d - T0).total_seconds() // 60), c) for d, c in zip(frame["date"], frame["close"], strict=True)]
    assert got == _reference(size, bars)
    assert len(win) == len(got)


def test_only_a_new_newest_bar_asks_for_an_evaluation() -> None:
    win = BarWindow(3)
    assert win.add(_bar(0, 1.0)) and win.add(_bar(2, 2.0))
    assert not win.add(_bar(2, 2.5))  # a corrected newest bar
    assert not win.add(_bar(1, 1.5))  # a late one
    assert win.add(_bar(3, 3.0))
    assert list(win.frame()["close"]) == [1.5, 2.5, 3.0]
    assert str(win.frame()["date"].dtype) == "datetime64[us, UTC]"


@given(
    size=st.integers(1, 6),
    before=st.lists(st.tuples(st.integers(0, 40), st.integers(1, 1000).map(float)), max_size=30),
    after=st.lists(st.tuples(st.integers(0, 60), st.integers(1, 1000).map(float)), max_size=30),
)
def test_a_later_copy_holds_the_bars_of_its_time_whatever_comes_after(
    size: int, before: list[tuple[int, float]], after: list[tuple[int, float]]
) -> None:
    """New bars, the buffer moving its rows to the front, corrections and late bars after
    `later()` never show in it; the window's own rows are columns, each contiguous."""
    win = BarWindow(size)
    for minute, close in before:
        win.add(_bar(minute, close))
    then = win.array()
    later = win.later()
    for minute, close in after:
        win.add(_bar(minute, close))
    assert later().tobytes() == then.tobytes() and later().shape == then.shape
    assert all(win.rows()[:, k].flags.c_contiguous for k in range(6))
    assert win.array().flags.c_contiguous and win.array().tobytes() == win.rows().copy(order="C").tobytes()
