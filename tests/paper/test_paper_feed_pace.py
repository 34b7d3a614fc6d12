"""The simulated feed keeps its pace after a stall: no burst of steps to catch up.

Each step reads the clock, so steps made to catch up would all send the same market again,
back to back, to every subscriber (a stalled engine caught up with a burst of quotes)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from tui_trader.core.clock import SystemClock
from tui_trader.venues.paper.feeds import SimulatedSource

INTERVAL = 0.05


class _OneSymbol:
    symbols = ["BTC/USDT"]

    def step(self, symbol: str, now: Any) -> tuple[object, list[object], object]:
        return object(), [], object()

    def path(self, symbol: str) -> Any:  # the week ahead, computed near a week's end: nothing here
        return type("Path", (), {"warm": lambda self, week: None})()


class _Sink:
    def __init__(self, stall_at: int, stall_s: float) -> None:
        self.times: list[float] = []
        self.stall_at, self.stall_s = stall_at, stall_s

    def on_book(self, book: Any) -> None:
        pass

    def on_trade(self, trade: Any) -> None:
        pass

    def on_ticker(self, ticker: Any) -> None:
        self.times.append(asyncio.get_running_loop().time())
        if len(self.times) == self.stall_at:
            time.sleep(self.stall_s)  # the loop held up: a busy machine, a long callback


async def test_after_a_stall_the_feed_steps_once_then_keeps_its_pace() -> None:
    sink = _Sink(stall_at=3, stall_s=6 * INTERVAL)
    source = SimulatedSource(_OneSymbol(), SystemClock(), INTERVAL)  # type: ignore[arg-type]
    task = asyncio.create_task(source.run(sink))
    await asyncio.sleep(14 * INTERVAL)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    gaps = [b - a for a, b in zip(sink.times, sink.times[1:], strict=False)]
    assert len(sink.times) >= 6, sink.times  # it goes on after the stall
    assert max(gaps) >= 6 * INTERVAL  # the stall is in there
    assert min(gaps) > INTERVAL / 3, gaps  # and no steps were made back to back to catch up
