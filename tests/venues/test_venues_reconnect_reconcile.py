"""Reconcile after reconnect: a reconnect while a reconcile runs gets a pass of its own."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import ConnectionState
from tui_trader.core.events import ConnectionEvent
from tui_trader.engine.bus import EventBus
from tui_trader.engine.reconnect import reconcile_after_reconnect
from tui_trader.execution.reconcile import ReconcileReport

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


async def test_a_reconnect_during_a_reconcile_is_reconciled_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    first_may_finish = asyncio.Event()

    async def slow_reconcile(oms: Any, venue: Any, now: datetime) -> ReconcileReport:
        calls.append(venue.name)
        if len(calls) == 1:  # the first pass reads the venue before the second drop's fills
            await first_may_finish.wait()
        return ReconcileReport(venue.name)

    monkeypatch.setattr("tui_trader.engine.reconnect.reconcile", slow_reconcile)
    bus = EventBus()
    oms = SimpleNamespace(on_unknown=[], fill_listeners=[], open_orders=list, in_flight=lambda cid: False)
    engine = SimpleNamespace(venues={"x": SimpleNamespace(name="x")}, oms=oms, clock=FrozenClock(T0), bus=bus)
    reconcile_after_reconnect(engine)  # type: ignore[arg-type]
    back = ConnectionEvent("x", ConnectionState.CONNECTED, T0, attempt=1)

    bus.publish(back)
    await asyncio.sleep(0.01)
    bus.publish(back)  # dropped and back again while the first reconcile runs
    bus.publish(back)  # and again: still one more pass, not two
    await asyncio.sleep(0.01)
    assert calls == ["x"]
    first_may_finish.set()
    for _ in range(100):
        if len(calls) == 2:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.02)
    assert calls == ["x", "x"]
