"""Candle close -> order acknowledged by the paper venue, through the live engine.

A closed candle is published on the engine's bus; the strategy host sends the new bar to the
strategy (a rule strategy is evaluated in the engine's own process on the loop's next turn, a
Python strategy in its worker process), which evaluates it on its rolling window and answers
with its decision; the host sizes it, passes risk, persists the order and the paper venue
acknowledges it. `--isolation process` puts the rule strategy in a worker process too (the
code before rule strategies ran in the engine). Prints p50/p99 of:
  - candle -> decision   (its evaluation, and the transport to and from it)
  - decision -> ack      (sizing, risk checks, persistence, venue)
  - candle -> ack        (the whole path)
  - candle -> ack in CPU time of the event loop's thread (the path's own work: the time the
    process is kept off the CPU is not in it, though the machine's slow stretches still are)
and the worker's cost: an empty round trip, and the memory of the worker factory and a worker.
Then how quiet the machine was: a 1 s spin before and after the candles counts the times this
process was kept off the CPU for over 1 ms (a p99 of a ~1 ms path is the path's own only when
that is rare), a fixed reference workload's time before and after (the machine's speed at
that moment: the same code's p50 moves with it) and the load average. The candles are timed
once the engine's start-up work in other threads is done (on the paper venue, a year of
daily history for the value at risk, which otherwise shares the first candles' core and GIL:
`settled`); `--no-settle` times them at once, as every round before the eighth did. The
paper market's weeks the candles span are computed before them too (`weeks_ahead`): live, its
quotes compute each week once as it starts, where this clock crosses a week in a second.

Two strategies:
  --strategy rsi_trend (the default): the bundled RSI + EMA rule strategy,
    plugins/rsi_trend.toml, on 5-minute candles with its 1,400-bar window (RSI(14) crossing
    $buy_rsi, the last closed 1h bar's close over its EMA(50)). Evaluated live from the
    window's arrays (strategy/rule_live.py). To make it trade often enough (>= 300 orders) it
    runs with buy_rsi = 40 and sell_rsi = 60 (the ends of its ranges) on a seeded synthetic
    path that starts where the paper market's warm-up history ends: a gentle climb for 300
    bars (the 1h close above its 50-hour EMA), then dips and rallies steered by the RSI
    (falling bars until the next one would take the RSI under 40, rising ones, 1.3x larger,
    until it would pass 60), so the RSI crosses 40 and 60 about every 12 bars. 2,800 candles
    give ~330 orders (entries, and exits by RSI, ROI or trailing stop).
  --strategy flip: a pandas Python strategy (RSI(14) + EMA(20) on 1-minute bars, 500-bar
    window) that enters on an up bar and exits on a down bar, so every candle makes an order.

    .venv/bin/python bench/bench_candle_to_order.py [--strategy rsi_trend|flip] [--candles N] [--gap-ms MS]
        [--isolation auto|process]

Candles go back to back by default, which keeps the engine, the worker and the cores awake.
Live candles are minutes apart: `--gap-ms` lets the engine settle (its reports applied, the
protective stop placed) and then idle that long before the next candle, so each one wakes
idle processes, as a live candle close does.

The code before a change: the same bench with PYTHONPATH set to a checkout of the old tree
(it prints the package it ran).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tui_trader.config import Settings
from tui_trader.core import collector
from tui_trader.core.events import CandleEvent, Event, OrderEvent
from tui_trader.core.market import Candle
from tui_trader.engine.testing import manual_engine, paper_settings, step
from tui_trader.home import Home
from tui_trader.venues.paper.path import BLOCK_SECONDS

# Always trades: enters on an up bar, exits on a down bar, so most candles make an order.
FLIP = """
from pandas import DataFrame
from tui_trader import indicators as ta
from tui_trader.strategy import IStrategy


class Flip(IStrategy):
    timeframe = "1m"
    startup_candle_count = 50
    minimal_roi = {"0": 100}
    stoploss = -0.99

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        dataframe["ema"] = ta.EMA(dataframe, timeperiod=20)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["close"] > dataframe["open"], "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["close"] < dataframe["open"], "exit_long"] = 1
        return dataframe
"""


def stalls(seconds: float = 1.0) -> tuple[int, int, float]:
    """How often this process is kept off the CPU right now: spin for `seconds` reading the
    clock and count the gaps over 1 ms and over 2 ms (and the longest, ms). On an idle core
    there are none; with every core busy (other processes, the hypervisor) there are dozens.
    A p99 of a path of about 1 ms is that path's own only when they are rare."""
    over1 = over2 = 0
    longest = 0.0
    last = start = time.perf_counter()
    while last - start < seconds:
        now = time.perf_counter()
        gap = now - last
        if gap > 0.001:
            over1 += 1
            over2 += gap > 0.002
            longest = max(longest, gap)
        last = now
    return over1, over2, longest * 1000


def reference_ms(runs: int = 5) -> float:
    """How fast the machine runs Python right now: the best of `runs` passes of a fixed
    workload of the path's kind (small dicts, floats, attribute reads; ~1.5 ms on this
    machine at its usual speed). The same code's p50 moves with it, so a run's figures can be
    told apart from the machine's drift (its speed halves within minutes here)."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        acc: dict[int, float] = {}
        for i in range(5_000):
            row = {"price": i * 0.5, "qty": 1.0 + i % 7}
            acc[i % 97] = acc.get(i % 97, 0.0) + row["price"] * row["qty"]
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def others_cpu_ticks() -> int:
    """CPU time (clock ticks) used so far by this process's threads other than this one."""
    me, total = threading.get_native_id(), 0
    for task in os.listdir("/proc/self/task"):
        if int(task) == me:
            continue
        try:
            with open(f"/proc/self/task/{task}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


async def settled(quiet_s: float = 0.5, limit_s: float = 20.0) -> float:
    """Wait until the engine's start-up work in other threads is done: no CPU used by them
    for `quiet_s`. On the paper venue that is a year of daily history for the value at risk,
    computed from the minute path in a thread once per symbol (~0.1 s of CPU, stretched to
    over a second beside a busy event loop): timed meanwhile, the first candles share the
    core and the GIL with it. Returns the seconds waited."""
    if not os.path.isdir("/proc/self/task"):
        return 0.0
    start = last_change = time.perf_counter()
    seen = others_cpu_ticks()
    while time.perf_counter() - last_change < quiet_s and time.perf_counter() - start < limit_s:
        await asyncio.sleep(0.05)
        now = others_cpu_ticks()
        if now != seen:
            seen, last_change = now, time.perf_counter()
    return time.perf_counter() - start


def weeks_ahead(engine: Any, until: datetime) -> int:
    """Compute now the paper market's weeks up to `until` for the symbols whose daily history
    the value at risk reads; returns how many. Live, the quotes compute each week of the path
    once as it starts, and a due daily read then finds it; here the clock crosses a week in
    about a second with no quotes running, so each of those reads would compute its week
    (~5-10 ms in a thread, sharing the GIL with the candles) twice a run instead of once a week."""
    venue = engine.venues["paper"]
    first = int(engine.clock.now().timestamp() // BLOCK_SECONDS)
    last = int(until.timestamp() // BLOCK_SECONDS)
    weeks = 0
    for symbol in list(engine.risk.returns):
        path = venue.path(symbol)
        for index in range(first, last + 1):
            path.block(index)
            weeks += 1
    return weeks


def pct(xs: list[float], q: int) -> float:
    return statistics.quantiles(xs, n=100)[q - 1] * 1000


def flip_closes(n: int, price: float) -> list[tuple[float, float]]:
    """(open, close) of alternating up and down bars: Flip enters and exits on each."""
    bars = []
    for i in range(n):
        o, c = (price, price * 1.001) if i % 2 == 0 else (price * 1.001, price)
        bars.append((o, c))
    return bars


def _wilder(closes: list[float], period: int = 14) -> tuple[float, float]:
    """Wilder's average gain and loss at the end of `closes` (RSI's own smoothing)."""
    moves = [b - a for a, b in itertools.pairwise(closes)]
    gain = sum(max(m, 0.0) for m in moves[:period]) / period
    loss = sum(max(-m, 0.0) for m in moves[:period]) / period
    for m in moves[period:]:
        gain = (gain * (period - 1) + max(m, 0.0)) / period
        loss = (loss * (period - 1) + max(-m, 0.0)) / period
    return gain, loss


def rsi_swings(n: int, history: list[float], *, low: float = 40.0, high: float = 60.0,
               step: float = 0.004, rally: float = 1.3, climb: int = 300, seed: int = 7) -> list[tuple[float, float]]:
    """(open, close) of `n` bars after `history`'s closes: a climb, then dips and rallies
    steered by the RSI so it crosses `low` and `high` about every 12 bars (see the docstring)."""
    rng = random.Random(seed)
    gain, loss = _wilder(history)
    price, phase, bars = history[-1], "dip", []

    def rsi(g: float, lo: float) -> float:
        return 100.0 * g / (g + lo) if g + lo else 50.0

    for i in range(n):
        size = price * step * (1 + 0.3 * rng.random())
        if i < climb:
            move = size * 0.5 if i % 3 else -size * 0.3
        elif phase == "dip":
            move = -size
            if rsi(13 * gain / 14, (13 * loss + size) / 14) < low:
                phase = "rally"
        else:
            move = size * rally
            if rsi((13 * gain + move) / 14, 13 * loss / 14) > high:
                phase = "dip"
        gain, loss = (13 * gain + max(move, 0.0)) / 14, (13 * loss + max(-move, 0.0)) / 14
        bars.append((price, price + move))
        price += move
    return bars


STRATEGIES = {
    # name in settings, timeframe, candles by default, params, what the summary calls it
    "rsi_trend": ("rsi_trend", "5m", 2800, {"buy_rsi": 40, "sell_rsi": 60},
                  "bundled rsi_trend: TOML rules, RSI(14) 5m + EMA(50) 1h, 1,400-bar window"),
    "flip": ("Flip", "1m", 1000, {},
             "Flip: pandas Python strategy, RSI(14) + EMA(20) 1m, 500-bar window, full evaluation"),
}


async def run(which: str, n: int | None, gap_s: float = 0.0, isolation: str = "auto", settle: bool = True,
              freeze: bool = True) -> None:  # fmt: skip
    name, tf, default_n, params, label = STRATEGIES[which]
    n = n or default_n
    minutes = int(tf[:-1])
    with tempfile.TemporaryDirectory() as tmp:
        home = Home.resolve(tmp).ensure()
        if which == "flip":
            (home.strategies_dir / "flip.py").write_text(FLIP)
        base = paper_settings().model_dump()
        base["strategies"] = {name: {"symbols": ["ETH/USDT"], "params": params, "isolation": isolation}}
        start = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
        engine = manual_engine(Settings(**base), home=home, start=start)
        await engine.start()
        await step(engine, 3)
        await engine.strategies.started()
        runner = engine.strategies.runners[name]
        if runner.phase != "running":
            await engine.stop()
            raise SystemExit(f"the strategy did not start: {runner.status().get('error')}")
        if which == "flip":
            bars = flip_closes(n, 3400.0)
        else:
            history = await engine.fetch_candles("ETH/USDT", tf, 1400)
            bars = rsi_swings(n, [c.close for c in history])
        decided: list[float] = []
        entries: list[bool] = []  # per decision: an entry (sized, all the checks) or an exit (stop cancelled first)
        acked: dict[str, float] = {}
        acked_cpu: dict[str, float] = {}  # this thread's CPU time at each ack
        original = runner.on_decision

        def on_decision(decision, atr):  # type: ignore[no-untyped-def]
            decided.append(time.perf_counter())
            entries.append(decision.is_entry)
            original(decision, atr)

        runner.on_decision = on_decision
        pings = []
        for _ in range(500):
            t0 = time.perf_counter()
            await runner.ping()
            pings.append(time.perf_counter() - t0)
        memory = {"factory": pss(engine.strategies.zygote.pid), "worker": pss(runner.pid)}
        in_worker: list[float] = []

        def on_event(event: Event) -> None:
            if not isinstance(event, OrderEvent) or event.order.status.value not in ("accepted", "rejected"):
                return
            if event.order.client_order_id not in acked:
                acked[event.order.client_order_id] = time.perf_counter()
                acked_cpu[event.order.client_order_id] = time.thread_time()

        engine.bus.on(on_event, kinds={"order"})
        to_decision, to_ack, total, cpu = [], [], [], []
        kinds: list[bool] = []
        waited = await settled() if settle else 0.0
        frozen = collector.settle() if freeze else 0  # as the daemon and the workstation do once started
        weeks = weeks_ahead(engine, start + timedelta(minutes=minutes * (n + 1)))
        stalls_before = stalls()
        ref_before = reference_ms()
        for i, (o, c) in enumerate(bars):
            candle = Candle("ETH/USDT", tf, start + timedelta(minutes=minutes * i), o, max(o, c), min(o, c), c, 5.0)
            engine.clock.set(candle.open_time + timedelta(minutes=minutes))  # the bar just closed
            decided.clear()
            entries.clear()
            before = set(acked)
            cpu0 = time.thread_time()
            t0 = time.perf_counter()
            engine.bus.publish(CandleEvent("paper", candle))
            await engine.strategies.drain()
            if gap_s:  # the engine settles, then idles as it would between live candles
                await engine.oms.flush()
                await engine.strategies.drain()
                await asyncio.sleep(gap_s)
            new_ids = [k for k in acked if k not in before]
            new = [acked[k] for k in new_ids]
            if decided and new:
                cpu.append(acked_cpu[new_ids[0]] - cpu0)
                to_decision.append(decided[0] - t0)
                to_ack.append(new[0] - decided[0])
                total.append(new[0] - t0)
                kinds.append(entries[0])
                in_worker.append(runner.eval_us / 1e6)
        ref_after = reference_ms()
        stalls_after = stalls()
        await engine.stop()
        collector.release()
    transport = [a - b for a, b in zip(to_decision, in_worker, strict=True)]
    import tui_trader

    gap = f", {gap_s * 1000:g} ms idle between candles" if gap_s else ", candles back to back"
    print(f"candle close -> order acknowledged by the paper venue, {len(total):,} orders of {n:,} candles{gap}")
    where = "in the engine's process" if runner.in_engine else "in a worker process"
    print(f"  strategy: {label}, evaluated {where}; package {os.path.dirname(tui_trader.__file__)}")
    hop = "the next turn of the engine's loop" if runner.in_engine else "one process hop each way"

    def row(label: str, xs: list[float], digits: int = 2, note: str = "") -> None:
        print(f"{label:<48}p50 {pct(xs, 50):.{digits}f} ms  p99 {pct(xs, 99):.{digits}f} ms{note}")

    row("  candle -> decision (all of it):", to_decision)
    row("    of which the strategy's evaluation:", in_worker)
    row("    of which the transport:", transport, 3, f"  (bar out, decision back: {hop})")
    row("  decision -> ack (size, risk, persist, venue):", to_ack)
    row("  candle -> ack (whole path):", total)
    row("  candle -> ack, CPU time of the loop's thread:", cpu, 3,
        "  (the path's own work: a preemption adds nothing to it)")
    for label, entry in (("entries (sized, all the checks)", True), ("exits (the stop cancelled first)", False)):
        part = [t for t, k in zip(total, kinds, strict=True) if k is entry]
        if len(part) > 1:
            row(f"    {label}, {len(part)}:", part)
    if settle:
        print(f"timed once the engine's start-up work in other threads was done (waited {waited:.1f} s)")
    if freeze:
        print(f"the garbage collector settled first, as the daemon and the workstation do: {frozen:,} objects frozen")
    print(f"the paper market's weeks the candles span, computed before them (as live quotes do): {weeks}")
    print(f"empty round trip through its link: p50 {pct(pings, 50):.3f} ms  p99 {pct(pings, 99):.3f} ms")
    if not runner.in_engine:
        print(
            f"worker memory (proportional set size): factory {memory['factory'] / 1024:.0f} MB, "
            f"this worker {memory['worker'] / 1024:.0f} MB (the factory's libraries shared); "
            f"a fresh interpreter per strategy would be ~100 MB each"
        )
    (b1, b2, bmax), (a1, a2, amax) = stalls_before, stalls_after
    print(
        f"the machine: a 1 s spin of this process was held off the CPU > 1 ms {b1} times before the "
        f"candles ({b2} > 2 ms, longest {bmax:.1f} ms) and {a1} after ({a2} > 2 ms, longest {amax:.1f} ms)"
    )
    print(
        f"the machine's speed: a fixed reference workload took {ref_before:.2f} ms before the candles and "
        f"{ref_after:.2f} ms after (best of 5; larger is slower)"
    )
    load = os.getloadavg()
    print(f"load average while measuring: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")


def pss(pid: int | None) -> int:
    """kB of proportional set size (shared pages split among the processes sharing them)."""
    if pid is None:
        return 0
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        for line in fh:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strategy", choices=sorted(STRATEGIES), default="rsi_trend")
    ap.add_argument("--candles", type=int, default=None, help="default: 2,800 for rsi_trend, 1,000 for flip")
    ap.add_argument("--gap-ms", type=float, default=0.0,
                    help="idle time between candles, after the engine has settled (default 0: back to back)")
    ap.add_argument("--isolation", choices=("auto", "process"), default="auto",
                    help="the strategy's [strategies] isolation (auto: a rule strategy in the engine's process)")
    ap.add_argument("--no-settle", action="store_true",
                    help="time the candles at once, while the engine's start-up work in other threads may still run")
    ap.add_argument("--no-freeze", action="store_true",
                    help="leave the garbage collector as Python starts it (no gc.freeze of what lives on)")
    args = ap.parse_args()
    asyncio.run(run(args.strategy, args.candles, args.gap_ms / 1000, args.isolation, not args.no_settle,
                    not args.no_freeze))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
