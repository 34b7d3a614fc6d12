"""Short garbage-collector pauses in a long-running process (the workstation, the daemon).

Once started, a process with an engine holds ~100,000-200,000 objects that live as long as it
does: modules, classes, the engine's state (and the workstation's widgets and styles).
Python's full collection walks every one of them: ~30 ms of CPU for the daemon's engine
streaming 20 symbols with 10 strategies on the development machine (`bench/bench_memory.py`'s
set-up), ~100 ms for the workstation. It runs whenever enough objects have survived since the
last one, at any moment: on a candle's path to an order, or between a keypress and the screen.

`settle()` collects once and freezes what is left (`gc.freeze`): later collections walk only
what was made since (a full one then takes ~2 ms for that daemon). Settling again (unfreeze,
collect, freeze) every SETTLE_EVERY_S frees cycles among frozen objects that became garbage
meanwhile (an engine's replaced state, a closed screen), so memory stays bounded; the price is
one full pass at a time the process chooses (the daemon: half a minute away from the candle
close, `heap.seconds_to_next_trim`) instead of one at any time. `release()` gives the frozen
objects back to the collector and its thresholds back as they were.
"""

from __future__ import annotations

import asyncio
import gc

from tui_trader.core.heap import seconds_to_next_trim

SETTLE_EVERY_S = 300.0

_default_threshold: tuple[int, ...] | None = None  # the thresholds before the first settle


def settle(young_threshold: int | None = None) -> int:
    """Collect everything, then freeze the survivors out of later collections; with
    `young_threshold`, let the youngest generation grow to at least that many objects before a
    pass (until `release`). Returns how many objects are frozen."""
    global _default_threshold
    if _default_threshold is None:
        _default_threshold = gc.get_threshold()
    if young_threshold is not None:
        gc.set_threshold(max(young_threshold, _default_threshold[0]), *_default_threshold[1:])
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def release() -> None:
    """Hand the frozen objects back to the collector and its thresholds back to what they were
    (the process is closing, or the engine in it stopped)."""
    global _default_threshold
    gc.unfreeze()
    if _default_threshold is not None:
        gc.set_threshold(*_default_threshold)
        _default_threshold = None


async def settle_on_schedule(every_s: float = SETTLE_EVERY_S) -> None:
    """Settle every `every_s`, half a minute away from the candle close (hh:mm:30), for as long
    as it runs (the daemon's task once it has started and settled)."""
    while True:
        await asyncio.sleep(seconds_to_next_trim(every=every_s))
        settle()
