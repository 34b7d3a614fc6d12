"""The heap settling (ui/heap.py): what lives on is frozen out of the collector's passes, garbage
among frozen objects is freed at the next settle, and the workstation settles once it has drawn
its first frame and gives everything back when it closes."""

from __future__ import annotations

import gc
import weakref

from tui_trader.ui.heap import YOUNG_THRESHOLD, release, settle

from ui_helpers import build_rig

SETTLES_FOR_REAL = True  # the collector's full pass, not the suite's stand-in (tests/conftest.py)


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_settle_freezes_survivors_and_frees_their_garbage_at_the_next_settle() -> None:
    before = gc.get_threshold()
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector frees it
        gone = weakref.ref(a)
        assert settle() > 0
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] >= YOUNG_THRESHOLD
        del a, b  # garbage now, but frozen: no collection sees it
        gc.collect()
        assert gone() is not None
        settle()  # unfreeze, collect, freeze again
        assert gone() is None
    finally:
        release()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


async def test_the_workstation_settles_after_its_first_frame_and_releases_on_close() -> None:
    rig = build_rig()
    try:
        async with rig.app.run_test(size=(120, 40)) as pilot:
            await rig.ready(pilot)
            await pilot.pause()
            assert gc.get_freeze_count() > 0
            assert any(t.name == "heap" for t in rig.app._timers)
        assert gc.get_freeze_count() == 0
    finally:
        release()
