"""CPU time of one live evaluation: `analyze` on a strategy's live window, per candle.

CPU seconds, not wall time, so the figure holds on a busy machine (it still moves a little
with what shares the core's caches). The window is a `BarWindow` of seeded synthetic bars, the
frame the live runner builds; `--bars` defaults to the runner's own window for the strategy.

    .venv/bin/python bench/bench_analyze_cpu.py [STRATEGY ...] [--bars N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from tui_trader.core.market import Candle
from tui_trader.strategy.analysis import analyze
from tui_trader.strategy.loader import load_strategy
from tui_trader.strategy.runner import WINDOW_MARGIN, WINDOW_MAX, WINDOW_MIN
from tui_trader.strategy.synthetic import synthetic_ohlcv
from tui_trader.strategy.window import BarWindow

BUNDLED = ("ema_cross", "macd_trend", "breakout", "rsi_mean_reversion", "stochrsi_ema", "rsi_trend")


def cpu_per_candle(name: str, bars: int | None) -> tuple[int, float]:
    strategy = load_strategy(name)
    size = bars or min(WINDOW_MAX, max(WINDOW_MIN, strategy.startup_candle_count + WINDOW_MARGIN))
    window = BarWindow(size)
    for r in synthetic_ohlcv(size + 100, strategy.timeframe, seed=1).itertuples():
        window.add(Candle("X", strategy.timeframe, r.date.to_pydatetime(), r.open, r.high, r.low, r.close, r.volume))
    metadata = {"pair": "X", "timeframe": strategy.timeframe}
    for _ in range(20):  # warm
        analyze(strategy, window.frame(), metadata)
    best = float("inf")
    for _ in range(5):
        t0 = time.process_time()
        for _ in range(100):
            analyze(strategy, window.frame(), metadata)
        best = min(best, (time.process_time() - t0) / 100)
    return size, best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("strategies", nargs="*", default=list(BUNDLED))
    ap.add_argument("--bars", type=int, default=None, help="window size (default: the live runner's)")
    args = ap.parse_args()
    for name in args.strategies:
        size, cpu = cpu_per_candle(name, args.bars)
        print(f"{name:20s} {size:6,d}-bar window: {cpu * 1e3:.2f} ms CPU per candle (best of 5 x 100)")
    load = os.getloadavg()
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
