"""Screens at 80x24 and 100x30 (tabs) and 160x48 (grid): seeded paper venue, frozen clock, no flashes."""

from __future__ import annotations

from ui_helpers import build_rig


def _shot(snap_compare, size: tuple[int, int]) -> bool:  # type: ignore[no-untyped-def]
    rig = build_rig()

    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await rig.ready(pilot, steps=5)
        await pilot.pause(0.1)
        await rig.app.workers.wait_for_complete()
        await rig.app.refresh_snapshot()
        await pilot.pause()

    return snap_compare(rig.app, terminal_size=size, run_before=before)


def test_main_screen_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _shot(snap_compare, (80, 24))


def test_main_screen_100x30(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _shot(snap_compare, (100, 30))


def test_main_screen_160x48(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert _shot(snap_compare, (160, 48))
