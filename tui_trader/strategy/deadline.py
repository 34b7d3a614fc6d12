"""A deadline for a strategy's own code when it runs in this process (`strategies check`,
`backtest`, `optimize`, the TUI's rule builder): past it, the call is interrupted with an
error naming the strategy and the function, instead of hanging the command for ever.

Live, strategies run in a worker process the engine kills at its deadline; there is no
in-process deadline there. Here: on the main thread a SIGALRM interval timer, elsewhere a
watchdog thread that raises in the strategy's thread (PyThreadState_SetAsyncExc). Both repeat
every half second until the call returns, so a strategy's own `except:` cannot swallow it.
Neither can interrupt one long call inside a C extension; it is raised when that call returns.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

from tui_trader.config.sections import STRATEGY_TIMEOUT_ENV as ENV  # inherited by optimizer workers

DEFAULT_TIMEOUT_S = 5.0
BARS_PER_TIMEOUT = 10_000  # research calls run over whole histories: the deadline scales
REPEAT_S = 0.5


class StrategyTimeout(BaseException):
    """Raised inside a strategy call that overran its deadline. A BaseException, so a
    strategy's `except Exception` does not catch it."""


def _configured() -> float | None:
    raw = os.environ.get(ENV)
    if raw is None:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if value > 0 else None


def configure(seconds: float | None) -> None:
    """The per-evaluation deadline for this process and the processes it starts (None: off)."""
    os.environ[ENV] = str(seconds if seconds else 0)


def timeout_for(rows: int) -> float | None:
    """The deadline for one evaluation over `rows` bars: the configured one per 10,000 bars."""
    base = _configured()
    if base is None:
        return None
    return base * max(1.0, rows / BARS_PER_TIMEOUT)


@contextlib.contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise StrategyTimeout in this thread if the block runs longer than `seconds`."""
    if not seconds:
        yield
        return
    on_main = threading.current_thread() is threading.main_thread()
    if on_main and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0):
        with _alarm(seconds):
            yield
    else:
        with _watchdog(seconds):
            yield


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def ring(signum: int, frame: Any) -> None:
        raise StrategyTimeout

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _watchdog(seconds: float) -> Iterator[None]:
    target = threading.get_ident()
    done = threading.Event()

    def watch() -> None:
        if done.wait(seconds):
            return
        while not done.is_set():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), ctypes.py_object(StrategyTimeout))
            if done.wait(REPEAT_S):
                return

    thread = threading.Thread(target=watch, name="strategy-deadline", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        # An exception set just as the block ended would surface later: clear it.
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), None)
