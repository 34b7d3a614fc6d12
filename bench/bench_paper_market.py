"""The paper market's price path: how fast history and live steps are.

Prints the time to build 2,000 hourly bars (120,000 one-minute steps) cold (nothing cached,
a new seed each run) and warm, 200 one-minute bars, a year of daily bars, and the cost of one
live step (book, prints and quote) per symbol. No budget of its own: the paper round trip
(bench_paper_roundtrip.py) and the TUI budgets cover what the user feels.

    .venv/bin/python bench/bench_paper_market.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime

from tui_trader.core.clock import FrozenClock
from tui_trader.core.hours import NYSE, hours_for
from tui_trader.venues.paper.history import bars_before
from tui_trader.venues.paper.instruments import paper_instrument, profile_for
from tui_trader.venues.paper.path import PricePath
from tui_trader.venues.paper.simulator import MarketSimulator

NOW = datetime(2026, 12, 4, 18, 0, 17, tzinfo=UTC).timestamp()


def path(symbol: str, seed: int) -> PricePath:
    inst = paper_instrument(symbol)
    return PricePath(seed, symbol, profile_for(symbol), hours_for(inst), inst.price_decimals)


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    NYSE.preload()
    rows: dict[str, list[float]] = {}
    for run in range(args.runs):
        for symbol in ("BTC/USDT", "AAPL"):
            seed = 1000 + run
            p = path(symbol, seed)
            rows.setdefault(f"{symbol} 2,000 x 1h, cold", []).append(timed(lambda p=p: bars_before(p, 3600, NOW, 2000)))
            rows.setdefault(f"{symbol} 2,000 x 1h, warm", []).append(timed(lambda p=p: bars_before(p, 3600, NOW, 2000)))
            rows.setdefault(f"{symbol} 200 x 1m, warm", []).append(timed(lambda p=p: bars_before(p, 60, NOW, 200)))
            q = path(symbol, seed + 500)
            rows.setdefault(f"{symbol} 365 x 1d, cold", []).append(timed(lambda q=q: bars_before(q, 86_400, NOW, 365)))
    symbols = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "AAPL", "MSFT", "SPY", "EUR/USD", "USDT/USD"]
    insts = {s: paper_instrument(s) for s in symbols}
    sim = MarketSimulator(insts, {s: profile_for(s) for s in symbols}, 7, 0.25)
    clock = FrozenClock(datetime.fromtimestamp(NOW, UTC))
    for s in symbols:
        sim.step(s, clock.now())  # first step builds the blocks
    steps = 2000
    t0 = time.perf_counter()
    for _ in range(steps):
        clock.advance(0.25)
        for s in symbols:
            sim.step(s, clock.now())
    per_step = (time.perf_counter() - t0) / (steps * len(symbols)) * 1e6
    print(f"paper market path, {args.runs} runs; 1-min load average {load:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after, {os.cpu_count()} cores")
    for name, xs in rows.items():
        print(f"  {name:<28} median {statistics.median(xs):7.1f} ms   max {max(xs):7.1f} ms")
    print(f"  live step (book, prints, quote) per symbol: {per_step:.0f} us "
          f"over {steps:,} steps x {len(symbols)} symbols")
    return 0


if __name__ == "__main__":
    sys.exit(main())
