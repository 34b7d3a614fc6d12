"""Memory of a long-running engine: 20 symbols streaming, 10 strategies evaluating.

Runs the engine headless (as the daemon does) on the paper venue with 20 symbols and ten
strategy instances, samples RSS every `--sample` seconds and prints start, end, peak and the
slope of the last half (MB per hour). Budget: < 200 MB and flat after an hour. Strategies run
in their own worker processes (forked from one zygote), so the engine's RSS and the total
with its workers are printed and fitted separately.

    .venv/bin/python bench/bench_memory.py [--duration 3600] [--tick-ms 100]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import os
import sys
import tempfile
import time

import psutil

from tui_trader.config import Settings
from tui_trader.engine import Engine
from tui_trader.home import Home

SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "AAPL", "MSFT", "SPY"] + [f"SYM{i}/USDT" for i in range(14)]
STRATEGIES = {
    "ema_a": ("ema_cross", ["BTC/USDT", "ETH/USDT"]),
    "ema_b": ("ema_cross", ["SOL/USDT", "SYM0/USDT"]),
    "rsi_a": ("rsi_mean_reversion", ["AAPL", "MSFT"]),
    "rsi_b": ("rsi_mean_reversion", ["SYM1/USDT", "SYM2/USDT"]),
    "macd": ("macd_trend", ["SPY", "SYM3/USDT"]),
    "breakout": ("breakout", ["SYM4/USDT", "SYM5/USDT"]),
    "stoch_a": ("stochrsi_ema", ["SYM6/USDT", "SYM7/USDT"]),
    "stoch_b": ("stochrsi_ema", ["SYM8/USDT", "SYM9/USDT"]),
    "rules_a": ("rsi_trend", ["SYM10/USDT", "SYM11/USDT"]),
    "rules_b": ("rsi_trend", ["SYM12/USDT", "SYM13/USDT"]),
}


async def run(duration: float, tick_ms: float, sample: float) -> None:
    proc = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            paper={"symbols": SYMBOLS, "tick_interval_ms": tick_ms},
            strategies={k: {"strategy": s, "symbols": syms} for k, (s, syms) in STRATEGIES.items()},
            engine={"equity_snapshot_s": 60.0},
        )
        engine = Engine(settings, Home.resolve(tmp))
        await engine.start()
        ui = engine.bus.subscribe("screen")  # a coalescing consumer, like an attached TUI
        broken = [s["name"] for s in engine.strategies.status() if s.get("error")]
        if broken:
            print(f"strategies that failed to start: {broken}")
        samples: list[tuple[float, float]] = []
        totals: list[tuple[float, float]] = []  # the engine and its strategy workers
        heap: list[tuple[float, float]] = []  # C heap: in use, free but held (glibc only)
        t0 = time.monotonic()
        next_sample = t0
        events = 0
        while (now := time.monotonic()) - t0 < duration:
            events += len(ui.drain())
            if now >= next_sample:
                gc.collect()
                rss = proc.memory_info().rss / 2**20
                samples.append((now - t0, rss))
                totals.append((now - t0, rss + _children_rss(proc)))
                if (info := _malloc_info()) is not None:
                    heap.append(info)
                next_sample += sample
            await asyncio.sleep(0.1)
        evaluations = sum(s.get("evaluations", 0) for s in engine.strategies.status())
        await engine.stop()
    half = [s for s in samples if s[0] >= duration / 2] or samples
    total_half = [s for s in totals if s[0] >= duration / 2] or totals
    print(
        f"{duration:.0f} s, {len(SYMBOLS)} symbols every {tick_ms:.0f} ms, {len(STRATEGIES)} strategies "
        f"({evaluations} evaluations), {events:,} events to a coalescing screen consumer"
    )
    print(f"  RSS start {samples[0][1]:.0f} MB, end {samples[-1][1]:.0f} MB, peak {max(r for _, r in samples):.0f} MB")
    every = max(1, len(samples) // 12)
    print("  RSS over time: " + ", ".join(f"{t / 60:.0f} min {r:.0f} MB" for t, r in samples[::every]))
    if heap:
        points = zip(samples[::every], heap[::every], strict=False)
        shown = ", ".join(f"{t / 60:.0f} min {u:.0f}/{f:.0f} MB" for (t, _), (u, f) in points)
        print(f"  C heap in use / free but held: {shown}")
    print(f"  slope over the last half (least squares): {slope(half):+.1f} MB/hour (budget: < 200 MB, flat)")
    print(f"  with the strategy workers: start {totals[0][1]:.0f} MB, end {totals[-1][1]:.0f} MB, "
          f"slope over the last half {slope(total_half):+.1f} MB/hour")  # fmt: skip
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


_MALLINFO2 = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2]


def _malloc_info() -> tuple[float, float] | None:
    """glibc's own count over all its arenas: MB in use (small and mmapped blocks) and MB freed
    but still held. Growth in the second with the first flat is the allocator, not live data."""
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _MallInfo2
    m = mallinfo2()
    return (m.uordblks + m.hblkhd) / 2**20, m.fordblks / 2**20


def _children_rss(proc: psutil.Process) -> float:
    """Private memory of the worker processes (USS: pages a fork shares with the zygote are
    not counted again for every worker); MB."""
    total = 0.0
    for child in proc.children(recursive=True):
        try:
            total += child.memory_full_info().uss / 2**20
        except psutil.Error:
            continue
    return total


def slope(samples: list[tuple[float, float]]) -> float:
    """MB per hour, fitted to every sample (two end points alone are at the mercy of one GC)."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mt = sum(t for t, _ in samples) / n
    mr = sum(r for _, r in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    return sum((t - mt) * (r - mr) for t, r in samples) / var * 3600 if var else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=3600)
    ap.add_argument("--tick-ms", type=float, default=100)
    ap.add_argument("--sample", type=float, default=30)
    args = ap.parse_args()
    asyncio.run(run(args.duration, args.tick_ms, args.sample))
    return 0


if __name__ == "__main__":
    sys.exit(main())
