"""Candle close -> order acknowledged by the paper venue, through the live engine.

A closed candle is published on the engine's bus; the strategy host sends the new bar to the
strategy's worker process, which evaluates the strategy on its rolling window (the same
`analyze` the backtester runs) and answers with its decision; the host sizes it, passes risk,
persists the order and the paper venue acknowledges it. Prints p50/p99 of:
  - candle -> decision   (the worker: its evaluation, and the transport to and from it)
  - decision -> ack      (sizing, risk checks, persistence, venue)
  - candle -> ack        (the whole path)
and the worker's cost: an empty round trip, and the memory of the worker factory and a worker.

    .venv/bin/python bench/bench_candle_to_order.py [--candles 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

from tui_trader.config import Settings
from tui_trader.core.events import CandleEvent, Event, OrderEvent
from tui_trader.core.market import Candle
from tui_trader.engine.testing import manual_engine, paper_settings, step
from tui_trader.home import Home

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


def pct(xs: list[float], q: int) -> float:
    return statistics.quantiles(xs, n=100)[q - 1] * 1000


async def run(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Home.resolve(tmp).ensure()
        (home.strategies_dir / "flip.py").write_text(FLIP)
        base = paper_settings().model_dump()
        base["strategies"] = {"Flip": {"symbols": ["ETH/USDT"]}}
        start = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
        engine = manual_engine(Settings(**base), home=home, start=start)
        await engine.start()
        await step(engine, 3)
        await engine.strategies.started()
        runner = engine.strategies.runners["Flip"]
        assert runner.phase == "running", runner.status()
        decided: list[float] = []
        acked: dict[str, float] = {}
        original = runner.on_decision

        def on_decision(decision, atr):  # type: ignore[no-untyped-def]
            decided.append(time.perf_counter())
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
            if isinstance(event, OrderEvent) and event.order.status.value in ("accepted", "rejected"):
                acked.setdefault(event.order.client_order_id, time.perf_counter())

        engine.bus.on(on_event, kinds={"order"})
        to_decision, to_ack, total = [], [], []
        price = 3400.0
        for i in range(n):
            up = i % 2 == 0
            o, c = (price, price * 1.001) if up else (price * 1.001, price)
            candle = Candle("ETH/USDT", "1m", start + timedelta(minutes=i), o, max(o, c), min(o, c), c, 5.0)
            engine.clock.set(candle.open_time + timedelta(minutes=1))  # the bar just closed
            decided.clear()
            before = set(acked)
            t0 = time.perf_counter()
            engine.bus.publish(CandleEvent("paper", candle))
            await engine.strategies.drain()
            new = [acked[k] for k in acked if k not in before]
            if decided and new:
                to_decision.append(decided[0] - t0)
                to_ack.append(new[0] - decided[0])
                total.append(new[0] - t0)
                in_worker.append(runner.eval_us / 1e6)
        await engine.stop()
    transport = [a - b for a, b in zip(to_decision, in_worker, strict=True)]
    print(
        f"candle close -> order acknowledged by the paper venue, {len(total):,} orders "
        "(strategy: RSI + EMA, 200+ bar window)"
    )
    print(
        f"  candle -> decision (the worker, all of it): p50 {pct(to_decision, 50):.2f} "
        f"ms  p99 {pct(to_decision, 99):.2f} ms"
    )
    print(
        f"    of which the strategy's evaluation:     p50 {pct(in_worker, 50):.2f} ms  p99 {pct(in_worker, 99):.2f} ms"
    )
    print(
        f"    of which the worker's transport:        p50 {pct(transport, 50):.3f} ms  p99 {pct(transport, 99):.3f} ms"
        "  (bar out, decision back, one process hop each way)"
    )
    print(f"  decision -> ack (size, risk, persist, venue): p50 {pct(to_ack, 50):.2f} ms  p99 {pct(to_ack, 99):.2f} ms")
    print(f"  candle -> ack (whole path): p50 {pct(total, 50):.2f} ms  p99 {pct(total, 99):.2f} ms")
    print(f"worker overhead: empty round trip p50 {pct(pings, 50):.3f} ms  p99 {pct(pings, 99):.3f} ms")
    print(
        f"worker memory (proportional set size): factory {memory['factory'] / 1024:.0f} MB, "
        f"this worker {memory['worker'] / 1024:.0f} MB (the factory's libraries shared); "
        f"a fresh interpreter per strategy would be ~100 MB each"
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
    ap.add_argument("--candles", type=int, default=1000)
    args = ap.parse_args()
    asyncio.run(run(args.candles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
