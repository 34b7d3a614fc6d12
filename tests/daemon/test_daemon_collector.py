"""The daemon's garbage-collector policy (core/collector.py): once started, what lives on is
frozen out of the collector's passes, so a full pass walks only what was made since; it settles
again on its schedule (garbage among frozen objects is freed then), and gives everything back
when it stops."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from pathlib import Path

import pytest

from tui_trader.config import Settings
from tui_trader.core import collector
from tui_trader.daemon.runtime import Daemon
from tui_trader.home import Home

SETTLES_FOR_REAL = True  # the collector's full pass, not the suite's stand-in (tests/conftest.py)


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


async def _next(settled: list[float]) -> None:
    count = len(settled)
    for _ in range(500):
        if len(settled) > count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the daemon did not settle again")


async def test_the_daemon_freezes_what_lives_on_settles_on_schedule_and_releases_on_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = gc.get_threshold()
    settled: list[float] = []
    real = collector.settle

    def counted(*args: int) -> int:
        settled.append(time.monotonic())
        return real(*args)

    monkeypatch.setattr(collector, "settle", counted)
    monkeypatch.setattr(collector, "seconds_to_next_trim", lambda every: 0.2)  # the schedule, shortened
    home = Home.resolve(tmp_path / "home")
    daemon = Daemon(home, Settings(), tmp_path / "config.toml")
    try:
        await daemon.start()
        assert settled  # at once, once started
        assert gc.get_freeze_count() > 10_000  # the engine, its modules and classes

        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector frees it
        gone = weakref.ref(a)
        await _next(settled)  # the next settle freezes the cycle
        del a, b  # garbage now, among frozen objects
        gc.collect()
        assert gone() is not None  # no pass sees it ...
        await _next(settled)
        assert gone() is None  # ... until the next settle
    finally:
        await daemon.stop()
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "collector-settle"]
