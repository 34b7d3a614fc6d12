"""A workstation on a seeded paper venue with a frozen clock and a hand-driven price feed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from tui_trader.config import Settings
from tui_trader.core.clock import FrozenClock
from tui_trader.engine import Engine
from tui_trader.engine.client import InProcessClient
from tui_trader.ui.app import WorkstationApp
from tui_trader.venues.paper.feeds import MarketSink, PriceSource

START = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


class HeldSource:
    """Wraps the venue's price source: its background task waits forever, tests call step()."""

    def __init__(self, inner: PriceSource) -> None:
        self.inner = inner

    def step(self, sink: MarketSink) -> bool:
        return self.inner.step(sink)

    async def run(self, sink: MarketSink) -> None:
        await asyncio.Event().wait()


class Rig:
    """The app, its engine and a way to move prices by hand."""

    def __init__(self, app: WorkstationApp, engine: Engine, clock: FrozenClock) -> None:
        self.app, self.engine, self.clock = app, engine, clock

    def step(self, n: int = 1) -> None:
        venue = self.engine.venues["paper"]
        for _ in range(n):
            venue.source.step(venue)  # type: ignore[attr-defined]

    async def ready(self, pilot, steps: int = 3) -> None:  # type: ignore[no-untyped-def]
        """Wait for the engine, move prices `steps` times, render a frame and settle."""
        for _ in range(1500):  # (engine start includes the strategy worker factory's, about a second)
            if self.engine.started and self.app.snapshot is not None:
                break
            await pilot.pause(0.01)
        assert self.engine.started, "engine did not start"
        self.step(steps)
        await self.app.refresh_snapshot()
        await settle_workers(self.app)
        await pilot.pause()
        await self.app.refresh_snapshot()
        await pilot.pause()


async def settle_workers(app) -> None:  # type: ignore[no-untyped-def]
    """Wait for the app's workers; one replaced by a newer one of its group (a chart load for
    a symbol the screen moved away from) is cancelled, which is not a failure."""
    from textual.worker import WorkerCancelled

    for _ in range(20):
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue


async def confirm_dialog(rig: Rig, pilot, *states: str):  # type: ignore[no-untyped-def]
    """The confirmation on screen once it is in one of `states` (default "ready": checked by the
    engine and armed, so ctrl+y answers it) and visible."""
    from textual._time import get_time

    from tui_trader.ui.screens import ConfirmScreen

    states = states or ("ready",)
    for _ in range(300):
        screen = rig.app.screen
        shown = isinstance(screen, ConfirmScreen) and screen.state in states and get_time() >= screen.shown_at
        if shown and (screen.state != "ready" or get_time() >= screen.armed_at):
            return screen
        await pilot.pause(0.01)
    raise AssertionError(f"no {'/'.join(states)} confirmation on screen (screen: {rig.app.screen!r})")


async def answer(rig: Rig, pilot, key: str, danger: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Answer the confirmation on screen with `key` once it can be answered (ctrl+y confirms)."""
    screen = await confirm_dialog(rig, pilot, *(("ready",) if key == "ctrl+y" else ("ready", "refused")))
    assert screen.has_class("danger") is danger
    await pilot.press(key)
    await pilot.pause()


def build_rig(**ui: object) -> Rig:
    settings = Settings(
        ui={"flash_ms": 0, "confirm_arm_ms": 100, **ui},
        paper={"symbols": ["BTC/USDT", "ETH/USDT", "SOL/USDT", "AAPL", "MSFT", "SPY"]},
    )
    clock = FrozenClock(START)
    from tui_trader.venues.registry import build_venues

    venues = build_venues(settings, clock, None)
    paper = venues["paper"]
    paper.source = HeldSource(paper.source)  # type: ignore[attr-defined]
    engine = Engine(settings, None, clock=clock, venues=venues, in_memory=True)
    app = WorkstationApp(InProcessClient(engine), settings, None)
    return Rig(app, engine, clock)


@pytest.fixture
def rig_factory() -> Callable[..., Rig]:
    return build_rig


async def settle(rig: Rig, pilot) -> None:  # type: ignore[no-untyped-def]
    """Let the screen and the app's workers (an order on its way) finish."""
    await pilot.pause()
    await rig.app.workers.wait_for_complete()
    await pilot.pause()


async def frame(rig: Rig, pilot) -> None:  # type: ignore[no-untyped-def]
    """Let workers finish, take a snapshot and draw it."""
    await rig.app.workers.wait_for_complete()
    await rig.app.refresh_snapshot()
    await pilot.pause()


async def command(rig: Rig, pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    """Type `text` on the `:` command line and press Enter."""
    line = await open_line(rig, pilot)
    line.field.value = text
    await pilot.press("enter")
    await pilot.pause()


async def open_line(rig: Rig, pilot):  # type: ignore[no-untyped-def]
    """Press `:`: the command line docked in the main screen, open, with the keyboard."""
    await pilot.press("colon")
    await pilot.pause()
    line = rig.app.command_line
    assert line.is_open and rig.app.focused is line.field and len(rig.app.screen_stack) == 1
    return line
