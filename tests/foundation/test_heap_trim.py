"""The engine gives freed C-heap memory back to the system once a minute (core/heap.py).

A starved engine that catches up frees its backlog, but glibc keeps the memory (in RSS) unless
it is trimmed: that is what raised the two-hour memory bench's RSS in steps."""

from __future__ import annotations

import asyncio
import platform
import subprocess
import sys

import pytest

from tui_trader.core import heap
from tui_trader.engine.testing import manual_engine

glibc = pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's"
)

# Frees most of ~60 MB of heap blocks with live ones in between (as a backlog leaves it: the
# top of the heap is not free, so glibc's own trimming gives nothing back), then trims.
_BACKLOG = """
import psutil
from tui_trader.core import heap

rss = lambda: psutil.Process().memory_info().rss / 2**20
kept, backlog = [], []
for i in range(30_000):
    backlog.append(bytes(2_000))
    if i % 50 == 0:
        kept.append(bytes(2_000))
del backlog
before = rss()
trimmed = heap.trim()
print(trimmed, before - rss())
"""


@glibc
def test_a_trim_gives_freed_heap_memory_back_to_the_system() -> None:
    out = subprocess.run([sys.executable, "-c", _BACKLOG], capture_output=True, text=True, check=True).stdout
    trimmed, released_mb = out.split()
    assert trimmed == "True"
    assert float(released_mb) > 30  # of ~57 MB freed; without the trim, none of it


@pytest.mark.parametrize(
    ("now", "wait"),
    [(0.0, 30.0), (29.0, 1.0), (30.0, 60.0), (31.0, 59.0), (59.5, 30.5), (1_765_000_020.0, 30.0)],
)
def test_the_trim_falls_at_half_past_the_minute_never_on_a_candle_close(now: float, wait: float) -> None:
    assert heap.seconds_to_next_trim(now) == pytest.approx(wait)


async def test_a_running_engine_trims_its_heap_until_it_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def trim() -> bool:
        calls.append(1)
        return True

    monkeypatch.setattr("tui_trader.engine.root.seconds_to_next_trim", lambda: 0.01)
    monkeypatch.setattr("tui_trader.engine.root.trim", trim)
    engine = manual_engine()
    await engine.start()
    try:
        for _ in range(200):
            if len(calls) >= 3:
                break
            await asyncio.sleep(0.01)
        assert len(calls) >= 3
    finally:
        await engine.stop()
    stopped_at = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == stopped_at


def test_where_the_c_library_has_no_trim_it_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """macOS, Windows (and musl, which has no malloc_trim): a trim is a no-op, never an error."""
    heap._malloc_trim.cache_clear()
    monkeypatch.setattr(heap.sys, "platform", "darwin")
    try:
        assert heap.trim() is False
    finally:
        heap._malloc_trim.cache_clear()
