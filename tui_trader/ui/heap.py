"""Short garbage-collector pauses while the workstation runs.

Once started, the workstation (with an in-process engine) holds ~200,000 objects that live as
long as it does: modules, widgets, styles, the engine's state. Python's full collection walks
every one of them, ~100 ms of CPU on the development machine, and under 1,000 market-data
messages a second it ran every 1-2 s (each frame's rendered lines refill caches, so objects
keep reaching the oldest generation): those passes were the event loop's longest stalls.

`settle()` collects once and freezes what is left (`gc.freeze`), so later collections walk only
what was made since (a full pass then takes ~15 ms). Every SETTLE_EVERY_S the app settles again:
unfreeze, collect, freeze. Cycles among frozen objects that became garbage meanwhile (a
recomposed layout's old panes, a closed screen) are freed then, so memory stays bounded; the
price is one full pass every few minutes instead of one every second or two.
"""

from __future__ import annotations

import gc

SETTLE_EVERY_S = 300.0


def settle() -> int:
    """Collect everything, then freeze the survivors out of later collections. Returns how
    many objects are frozen."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def release() -> None:
    """Hand the frozen objects back to the collector (the workstation is closing)."""
    gc.unfreeze()
