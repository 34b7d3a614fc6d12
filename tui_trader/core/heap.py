"""Giving freed C-heap memory back to the operating system (glibc's `malloc_trim`).

A long-running process that is starved of CPU for a while (a busy machine, a laptop waking
up) builds a backlog as it catches up: market data to apply, events to deliver, bars to
evaluate. Once caught up it frees all of it, but glibc keeps freed memory for reuse unless it
sits at the very top of the heap, and it still counts in the process's RSS. Each such stretch
raised the engine's RSS by a step of about 10 MB that never came back: the C heap's memory in
use stayed at 44 MB while the memory it held free went from 26 to 36 MB
(`bench/bench_memory.py` prints both; docs/performance-history.md, "Memory after an hour").

`malloc_trim(0)` hands every whole free page of every arena back to the system. It takes a
few milliseconds after such a burst and a fraction of one when there is nothing to give back,
so the engine calls `trim` once a minute, half a minute away from the candle close
(`seconds_to_next_trim`). Elsewhere than glibc (macOS, musl, Windows) `trim` does nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import cache
from typing import Any

TRIM_EVERY_S = 60.0


# ctypes is imported when the heap is first trimmed or read, not with this module: the
# workstation imports it before its first paint (~3 ms, its C library loaded)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        fn = ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on; glibc only
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


def trim() -> bool:
    """Return the heap's free pages to the system; True if any were (False where unsupported)."""
    fn = _malloc_trim()
    return bool(fn(0)) if fn is not None else False


_MALLINFO2 = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")


@cache
def _mallinfo2() -> Callable[[], Any] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        fn = ctypes.CDLL(None).mallinfo2  # glibc 2.33+
    except (OSError, AttributeError):
        return None

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2]

    fn.restype = MallInfo2
    return fn


def usage() -> tuple[int, int] | None:
    """glibc's own count over all its arenas, in bytes: in use (small and mmapped blocks) and
    freed but still held. Growth in the second with the first flat is the allocator, not live
    data (bench/bench_memory.py prints both). None elsewhere than glibc."""
    fn = _mallinfo2()
    if fn is None:
        return None
    m = fn()
    return m.uordblks + m.hblkhd, m.fordblks


def seconds_to_next_trim(now: float | None = None, *, every: float = TRIM_EVERY_S) -> float:
    """Seconds until the next half-minute mark of the wall clock (hh:mm:30): candles close on
    the minute, so a trim then never falls on a candle's path."""
    now = time.time() if now is None else now
    return (every / 2 - now) % every or every
