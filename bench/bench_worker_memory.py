"""The strategy workers' memory over many hours of bars, in minutes of wall time.

The ten strategy instances of bench_memory.py on a hand-stepped paper venue (`manual_engine`):
each step moves the clock by `--step` seconds and the market with it (the paper market is a
function of the clock, so `--start` replays the prices and trades of any stretch of time).
Every `--every` simulated minutes it prints, for the zygote and each worker process, what the
process wrote (Private_Dirty, MB), its USS, its C heap in use / held free (glibc's count, asked
through the worker's queue) and its evaluations; `--kill` SIGKILLs two workers at a third and
two thirds of the run (the engine restarts them). docs/performance-history.md, "Memory after an hour",
round eight.

    .venv/bin/python bench/bench_worker_memory.py [--hours 96] [--step 60]
    .venv/bin/python bench/bench_worker_memory.py --hours 2 --step 1 --start 2026-12-06T21:50:00+00:00 --kill
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_memory import STRATEGIES, SYMBOLS, _rollup

from tui_trader.config import Settings
from tui_trader.engine import Engine
from tui_trader.engine.testing import manual_engine, paper_settings, step
from tui_trader.home import Home

KILLED = ("stoch_a", "macd")


async def run(hours: float, step_s: float, every_min: float, start: datetime, kill: bool) -> None:
    base = paper_settings(symbols=SYMBOLS).model_dump()
    base["strategies"] = {k: {"strategy": s, "symbols": syms} for k, (s, syms) in STRATEGIES.items()}
    with tempfile.TemporaryDirectory() as tmp:
        engine = manual_engine(Settings(**base), home=Home.resolve(tmp), start=start)
        await engine.start()
        assert engine.strategies is not None
        await engine.strategies.started()
        t0 = time.monotonic()
        samples = round(hours * 60 / every_min)
        kills = {samples // 3, 2 * samples // 3} if kill else set()
        for i in range(samples + 1):
            print(await _line(engine, t0), flush=True)
            if i == samples:
                break
            if i in kills:
                for name in KILLED:
                    pid = engine.strategies.runners[name].pid
                    if pid is not None:
                        os.kill(pid, signal.SIGKILL)
                await asyncio.sleep(7)  # the engine sees it and starts another (after 1 s, then 5 s)
            for _ in range(round(every_min * 60 / step_s)):
                await step(engine, 1, seconds=step_s)
                for worker in engine.strategies.runners.values():
                    if worker.phase == "running":
                        await asyncio.wait_for(worker.idle(), 30)
        await engine.stop()


async def _line(engine: Engine, t0: float) -> str:
    assert engine.strategies is not None
    parts = [f"{engine.clock.now():%Y-%m-%d %H:%M} ({time.monotonic() - t0:.0f} s)"]
    children = psutil.Process().children(recursive=True)
    written = sum(_rollup(c.pid)["Private_Dirty"] for c in children) / 1024
    parts.append(f"{len(children)} processes, written {written:.1f} MB")
    zygote = engine.strategies.zygote.pid
    if zygote is not None:
        parts.append(f"zygote {_rollup(zygote)['Private_Dirty'] / 1024:.1f}")
    for name, worker in engine.strategies.runners.items():
        if worker.in_engine or worker.pid is None or worker.phase != "running":
            continue
        rollup = _rollup(worker.pid)
        heap = ""
        try:
            answer = await asyncio.wait_for(worker.heap(), 10)
            if answer.get("heap"):
                used, free = (b / 2**20 for b in answer["heap"])
                heap = f" heap {used:.1f}/{free:.1f}"
        except (RuntimeError, TimeoutError):
            pass
        uss = (rollup["Private_Clean"] + rollup["Private_Dirty"]) / 1024
        parts.append(f"{name} {rollup['Private_Dirty'] / 1024:.1f} (USS {uss:.1f}{heap}, {worker.evaluations} ev)")
    return " | ".join(parts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=96, help="simulated hours")
    ap.add_argument("--step", type=float, default=60, help="simulated seconds a step")
    ap.add_argument("--every", type=float, default=480, help="simulated minutes between lines")
    ap.add_argument("--start", default="2026-11-02T00:00:30+00:00", help="the clock at the start (ISO 8601)")
    ap.add_argument("--kill", action="store_true", help="SIGKILL two workers at a third and two thirds")
    args = ap.parse_args()
    asyncio.run(run(args.hours, args.step, args.every, datetime.fromisoformat(args.start), args.kill))
    return 0


if __name__ == "__main__":
    sys.exit(main())
