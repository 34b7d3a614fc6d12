"""Memory of a long-running engine: 20 symbols streaming, 10 strategies evaluating.

Runs the engine headless (as the daemon does) on the paper venue with 20 symbols and ten
strategy instances, samples RSS every `--sample` seconds and prints start, end, peak and the
slope of the last half (MB per hour). Budget: < 200 MB and flat after an hour. Strategies run
in their own worker processes (forked from one zygote), so the engine's RSS and the total
with its workers are printed and fitted separately; then each worker on its own, sampled at
the same times: its RSS, its private memory (USS, from /proc/PID/smaps_rollup) and its C
heap as glibc counts it (in use / freed but held, asked through the worker's own queue).

The garbage collector is settled as the daemon settles it once started (core/collector.py:
what lives on frozen, settled again every 5 minutes); `--no-freeze` leaves it as Python starts
it (the code before that policy).

    .venv/bin/python bench/bench_memory.py [--duration 3600] [--tick-ms 100] [--no-freeze]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
from dataclasses import dataclass, replace

import psutil

from tui_trader.config import Settings
from tui_trader.core import collector
from tui_trader.core import heap as c_heap
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


async def run(duration: float, tick_ms: float, sample: float, freeze: bool = True) -> None:
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
        settling = None
        if freeze:  # as the daemon once started
            collector.settle()
            settling = asyncio.create_task(collector.settle_on_schedule())
        assert engine.strategies is not None
        broken = [s["name"] for s in engine.strategies.status() if s.get("error")]
        if broken:
            print(f"strategies that failed to start: {broken}")
        samples: list[tuple[float, float]] = []
        totals: list[tuple[float, float]] = []  # the engine and its strategy workers
        shares: list[tuple[float, float]] = []  # the same, shared pages counted once (PSS)
        written: list[tuple[float, float]] = []  # the zygote's and workers' Private_Dirty
        heap: list[tuple[float, float]] = []  # C heap: in use, free but held (glibc only)
        workers: dict[str, list[WorkerSample]] = {}  # each strategy worker process on its own
        processes: list[int] = []  # how many processes run under the engine (zygote, workers)
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
                if (pss := _tree_pss(proc)) is not None:
                    shares.append((now - t0, pss))
                if (info := _malloc_info()) is not None:
                    heap.append(info)
                await _sample_workers(engine, now - t0, workers)
                processes.append(len(proc.children(recursive=True)))
                if now_written := [got[-1].written for got in workers.values() if got[-1].at == now - t0]:
                    written.append((now - t0, sum(now_written)))
                next_sample += sample
            await asyncio.sleep(0.1)
        evaluations = sum(s.get("evaluations", 0) for s in engine.strategies.status())
        if settling is not None:
            settling.cancel()
            collector.release()
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
    if shares:
        share_half = [s for s in shares if s[0] >= duration / 2] or shares
        print(f"  the same, each shared page counted once (PSS, all processes): start {shares[0][1]:.0f} MB, "
              f"end {shares[-1][1]:.0f} MB, slope over the last half {slope(share_half):+.1f} MB/hour")  # fmt: skip
    if written:
        written_half = [s for s in written if s[0] >= duration / 2] or written
        print(f"  the zygote and workers, pages they wrote (Private_Dirty): start {written[0][1]:.0f} MB, "
              f"end {written[-1][1]:.0f} MB, slope over the last half {slope(written_half):+.1f} MB/hour")  # fmt: skip
    for line in worker_lines(workers, duration):
        print(line)
    if processes:
        print(f"  processes under the engine: {processes[0]} at the start, {processes[-1]} at the end, "
              f"{max(processes)} at most")  # fmt: skip
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


@dataclass(frozen=True, slots=True)
class WorkerSample:
    at: float  # seconds into the run
    pid: int
    rss: float  # MB
    uss: float  # MB, private: Private_Clean + Private_Dirty
    written: float  # MB, Private_Dirty: pages this process wrote (its own data, copied pages)
    used: float | None = None  # MB, C heap in use (glibc; a worker's own count)
    free: float | None = None  # MB, C heap freed but held
    trims: int | None = None  # the worker's idle trims so far


def _sample(at: float, pid: int) -> WorkerSample:
    rollup = _rollup(pid)
    private = rollup["Private_Clean"] + rollup["Private_Dirty"]
    return WorkerSample(at, pid, rollup["Rss"] / 1024, private / 1024, rollup["Private_Dirty"] / 1024)


async def _sample_workers(engine: Engine, at: float, out: dict[str, list[WorkerSample]]) -> None:
    """Every strategy running in a worker process of its own (not those in the engine)."""
    assert engine.strategies is not None
    zygote = engine.strategies.zygote.pid
    if zygote is not None:  # what the workers were forked from: its pages, until they copy them
        try:
            out.setdefault("zygote", []).append(_sample(at, zygote))
        except (OSError, KeyError):
            pass
    for name, worker in engine.strategies.runners.items():
        pid = worker.pid
        if worker.in_engine or pid is None or worker.phase != "running":
            continue
        try:
            got = _sample(at, pid)
        except (OSError, KeyError):
            continue
        try:
            answer = await asyncio.wait_for(worker.heap(), 5.0)
        except (RuntimeError, TimeoutError):
            answer = {}
        if answer.get("heap"):
            used, free = (b / 2**20 for b in answer["heap"])
            got = replace(got, used=used, free=free)
        if answer.get("trims") is not None:
            got = replace(got, trims=int(answer["trims"]))
        out.setdefault(name, []).append(got)


def _rollup(pid: int) -> dict[str, int]:
    """/proc/PID/smaps_rollup's kB figures (Linux 4.14+)."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    return out


def _tree_pss(proc: psutil.Process) -> float | None:
    """The engine's, the zygote's and the workers' proportional set size, MB: a page shared by
    n of them counts 1/n in each, so the sum is what they use between them. The USS sum above
    misses pages still shared and counts a page the zygote shares with no worker any more
    (after the workers copied or freed theirs) as the zygote's own."""
    try:
        return sum(_rollup(p.pid)["Pss"] for p in [proc, *proc.children(recursive=True)]) / 1024
    except (psutil.Error, OSError, KeyError):
        return None


def worker_lines(workers: dict[str, list[WorkerSample]], duration: float) -> list[str]:
    """One line a process. `written` (Private_Dirty) is what the process itself wrote: its data
    and the pages it copied from the zygote. USS adds the libraries' code pages that no other
    process maps at that moment, which come and go with other processes (another copy of the
    engine started from the same virtual environment shares them while it runs)."""
    lines = []
    if workers:
        lines.append("  each strategy worker, and the zygote they are forked from (written = Private_Dirty; "
                     "USS = all private pages; C heap in use / free but held):")
    for name, got in workers.items():
        pids = sorted({g.pid for g in got})
        half = [(g.at, g.written) for g in got if g.at >= duration / 2] or [(g.at, g.written) for g in got]
        first, last = got[0], got[-1]
        heap_text = ""
        if first.used is not None and last.used is not None:
            heap_text = f", C heap {first.used:.0f}/{first.free:.0f} -> {last.used:.0f}/{last.free:.0f} MB"
        trims = f", {last.trims} trims" if last.trims is not None else ""
        every = max(1, len(got) // 12)
        over = " ".join(f"{g.written:.1f}" for g in got[::every])
        lines.append(
            f"    {name} (pid {', '.join(map(str, pids))}): written {first.written:.1f} -> {last.written:.1f} MB, "
            f"slope over the last half {slope(half):+.1f} MB/hour; USS {first.uss:.1f} -> {last.uss:.1f} MB, "
            f"RSS {first.rss:.0f} -> {last.rss:.0f} MB{heap_text}{trims}; written over time: {over}"
        )
    return lines


def _malloc_info() -> tuple[float, float] | None:
    """glibc's own count over all its arenas: MB in use (small and mmapped blocks) and MB freed
    but still held. Growth in the second with the first flat is the allocator, not live data."""
    used = c_heap.usage()
    return None if used is None else (used[0] / 2**20, used[1] / 2**20)


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
    ap.add_argument("--no-freeze", action="store_true", help="the garbage collector as Python starts it")
    args = ap.parse_args()
    asyncio.run(run(args.duration, args.tick_ms, args.sample, not args.no_freeze))
    return 0


if __name__ == "__main__":
    sys.exit(main())
