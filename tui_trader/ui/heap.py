"""Short garbage-collector pauses while the workstation runs (core/collector.py).

Once started, the workstation (with an in-process engine) holds ~200,000 objects that live as
long as it does: modules, widgets, styles, the engine's state. Python's full collection walks
every one of them, ~100 ms of CPU on the development machine, and under 1,000 market-data
messages a second it ran every 1-2 s (each frame's rendered lines refill caches, so objects
keep reaching the oldest generation): those passes were the event loop's longest stalls.

`settle()` collects once and freezes what is left (`gc.freeze`, core/collector.py), so later
collections walk only what was made since (a full pass then takes ~15 ms), and lets the
youngest generation grow to YOUNG_THRESHOLD objects before a pass (Python's default is 700: a
frame's objects still in use were collected mid-frame and promoted, and as they became garbage
a few frames later they set off passes of the older generations; with 3,000 the collector's
CPU under the bench's load halved, 750 -> 400 ms in 20 s, and the full passes all but stopped).

Every SETTLE_EVERY_S the app settles again: unfreeze, collect, freeze. Cycles among frozen
objects that became garbage meanwhile (a recomposed layout's old panes, a closed screen) are
freed then, so memory stays bounded; the price is one full pass every few minutes instead of
one every second or two.
"""

from __future__ import annotations

import gc

from tui_trader.core import collector
from tui_trader.core.collector import SETTLE_EVERY_S, release

__all__ = ["SETTLE_EVERY_S", "YOUNG_THRESHOLD", "end_start_hold", "hold_for_start", "release", "settle"]

YOUNG_THRESHOLD = 3_000


def settle() -> int:
    """Collect everything, then freeze the survivors out of later collections, the youngest
    generation let grow to YOUNG_THRESHOLD. Returns how many objects are frozen."""
    return collector.settle(YOUNG_THRESHOLD)


def hold_for_start() -> None:
    """No collection passes while the workstation starts (`tui-trader`: cli/ui_cmd.py): nearly
    everything it makes until its first paint (modules, classes, widgets, styles) lives on, and
    the passes that walked it cost ~60 ms of CPU before the screen was drawn. The app ends the
    hold after its first paint (`end_start_hold`); the command ends it in any case."""
    global _start_hold
    if gc.isenabled():
        gc.disable()
        _start_hold = True


def end_start_hold() -> None:
    global _start_hold
    if _start_hold:
        _start_hold = False
        gc.enable()


_start_hold = False  # hold_for_start disabled the collector
