"""The refresh tick: a frame asked for by an action is never lost to the timer's frame."""

from __future__ import annotations

import asyncio

from ui_helpers import build_rig


async def test_a_refresh_asked_for_during_the_timers_frame_shows_the_state_after_the_action() -> None:
    """The timer's frame takes its snapshot, then waits (a slow daemon); meanwhile an action
    changes the engine and asks for a refresh. The refresh must end with the screen built from
    a snapshot taken after the action, not return at once and leave the timer's older one
    on screen (what it did: the frame in the making made it skip)."""
    rig = build_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot)
        app = rig.app
        # the test makes the timer's frame itself: the real timer firing meanwhile took a third
        # snapshot on a busy machine
        ticking = [timer for timer in list(app._timers) if timer.name == "refresh"]
        assert ticking, "the refresh timer is not running"
        for timer in ticking:
            timer.pause()
        client = app.client
        real = client.snapshot
        gate = asyncio.Event()
        taken: list[object] = []

        async def held_snapshot():  # type: ignore[no-untyped-def]
            snap = await real()
            taken.append(snap)
            if len(taken) == 1:  # the timer's frame: its snapshot is taken, then it stalls
                await gate.wait()
            return snap

        client.snapshot = held_snapshot  # type: ignore[method-assign]
        try:
            timer_frame = asyncio.ensure_future(app._timer_tick())  # what the refresh timer calls
            while not taken:
                await asyncio.sleep(0)
            rig.step(5)  # the action: the market moves after the timer's snapshot was taken
            refresh = asyncio.ensure_future(app.refresh_snapshot())
            await asyncio.sleep(0.05)
            assert not refresh.done(), "the refresh returned while the timer's frame was still being made"
            gate.set()
            await asyncio.wait_for(refresh, 5)
            await timer_frame
        finally:
            client.snapshot = real  # type: ignore[method-assign]
        assert len(taken) == 2 and app.snapshot is taken[1], "the screen shows the snapshot from before the action"
