"""The garbage collector's pauses in the daemon's engine, before and after it settles.

    .venv/bin/python bench/bench_collector.py [--seconds 60]

Starts the engine of `bench/bench_memory.py` (20 paper symbols ticking every 40 ms, 10
strategies), lets it run 5 s, then times a full collection (what Python runs on its own once
enough objects have survived, at any moment), settles as the daemon does once started
(`core/collector.py`: collect, freeze what lives on), streams for `--seconds`, and times a full
collection again (it walks what was made since the settle). It prints every collection Python
ran on its own meanwhile too, by generation (a callback on `gc.callbacks` times each), and the
load average.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import tempfile
import time
from collections import defaultdict

from bench_memory import STRATEGIES, SYMBOLS

from tui_trader.config import Settings
from tui_trader.core import collector
from tui_trader.engine import Engine
from tui_trader.home import Home


def full_collection_ms() -> float:
    t0 = time.perf_counter()
    gc.collect()
    return (time.perf_counter() - t0) * 1000


async def run(seconds: float) -> None:
    passes: dict[int, list[float]] = defaultdict(list)
    started: list[float] = []

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            passes[info["generation"]].append((time.perf_counter() - started.pop()) * 1000)

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            paper={"symbols": SYMBOLS, "tick_interval_ms": 40.0},
            strategies={k: {"strategy": s, "symbols": syms} for k, (s, syms) in STRATEGIES.items()},
        )
        engine = Engine(settings, Home.resolve(tmp))
        await engine.start()
        screen = engine.bus.subscribe("screen")
        await asyncio.sleep(5)
        tracked = len(gc.get_objects())
        before = [full_collection_ms() for _ in range(3)]
        frozen = collector.settle()
        gc.callbacks.append(timed)
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            screen.drain()
            await asyncio.sleep(0.1)
        gc.callbacks.remove(timed)
        made = len(gc.get_objects())
        after = full_collection_ms()  # what was made since the settle, all of it
        await engine.stop()
        collector.release()
    print(f"the engine of bench_memory.py: {len(SYMBOLS)} symbols, {len(STRATEGIES)} strategies")
    print(f"  a full collection: {min(before):.1f} ms with {tracked:,} objects tracked (best of 3)")
    print(f"  settled as the daemon does ({frozen:,} objects frozen), after {seconds:.0f} s of streaming: "
          f"{after:.1f} ms with {made:,} objects tracked")  # fmt: skip
    print(f"  the collections Python ran on its own in those {seconds:.0f} s:")
    for generation in sorted(passes):
        ms = sorted(passes[generation])
        median, longest = ms[len(ms) // 2], ms[-1]
        print(f"    generation {generation}: {len(ms)} passes, median {median:.2f} ms, longest {longest:.2f} ms")
    if not passes:
        print("    none")
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    asyncio.run(run(args.seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
