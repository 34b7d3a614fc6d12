"""When the WAL is copied into the database: in a lull of the writes, not in the middle of a
burst of orders (a candle close), and never left to grow without bound."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui_trader.store import db as db_module
from tui_trader.store.db import (
    CHECKPOINT_INTERVAL_S,
    CHECKPOINT_MAX_S,
    CHECKPOINT_QUIET_S,
    CHECKPOINT_WAL_BYTES,
    Store,
    checkpoint_due,
)

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def test_a_checkpoint_waits_for_the_writes_to_pause_but_not_for_ever() -> None:
    last = 100.0
    later = last + CHECKPOINT_INTERVAL_S
    # writes paused long enough: due
    assert checkpoint_due(later, last, later - CHECKPOINT_QUIET_S, 4096)
    # a write a moment ago (a burst under way): not yet
    assert not checkpoint_due(later, last, later - 0.01, 4096)
    assert not checkpoint_due(last + CHECKPOINT_MAX_S - 0.1, last, last + CHECKPOINT_MAX_S - 0.11, 4096)
    # writes that never pause: at the longest interval, or once the WAL is big
    assert checkpoint_due(last + CHECKPOINT_MAX_S, last, last + CHECKPOINT_MAX_S - 0.01, 4096)
    assert checkpoint_due(later, last, later - 0.01, CHECKPOINT_WAL_BYTES)
    # nothing new since the last one, or nothing in the WAL: never
    assert not checkpoint_due(last + 60, last, last - 1, 4096)
    assert not checkpoint_due(last + 60, last, last + 1, 0)
    # paused, but the last one was a moment ago: at most every interval
    assert not checkpoint_due(last + 0.6, last, last + 0.05, 4096)


async def test_the_store_checkpoints_after_a_burst_of_writes_not_during_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "CHECKPOINT_INTERVAL_S", 0.1)
    monkeypatch.setattr(db_module, "CHECKPOINT_QUIET_S", 0.5)
    monkeypatch.setattr(db_module, "CHECKPOINT_POLL_S", 0.02)
    decided: list[tuple[float, bool]] = []

    def recorded(now: float, last: float, last_write: float, wal_bytes: int) -> bool:
        due = checkpoint_due(now, last, last_write, wal_bytes)
        decided.append((now, due))
        return due

    monkeypatch.setattr(db_module, "checkpoint_due", recorded)
    store = await Store.open(tmp_path / "t.db")
    try:
        while not decided:  # the checkpointer is up (after its first interval)
            await asyncio.sleep(0.02)
        burst = time.monotonic()
        while time.monotonic() - burst < 0.8:  # a write every 50 ms: never a 0.5 s lull
            await store.save_strategy_state("s", {"n": time.monotonic()}, T0)
            await asyncio.sleep(0.05)
        ended = time.monotonic()
        while time.monotonic() - ended < 2.0 and not any(due for at, due in decided if at >= ended):
            await asyncio.sleep(0.02)
    finally:
        await store.close()
    during = [due for at, due in decided if burst + 0.1 <= at < ended]
    after = [at for at, due in decided if at >= ended and due]
    assert during and not any(during)  # asked all through the burst, never due
    assert after and after[0] - ended < 0.5 + 0.5  # then once the writes paused
