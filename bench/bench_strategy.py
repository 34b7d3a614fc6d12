"""Candle close -> decision latency for one strategy on a 500-bar window (budget < 5 ms).

    .venv/bin/python bench/bench_strategy.py [--strategy ema_cross] [--bars 2000]

Feeds closed 5m candles one at a time to a StrategyRunner (window 500) and times each
on_candle call, which builds the window DataFrame, runs analyze() and reads the last row.
"""

from __future__ import annotations

import argparse
import statistics
import time

from tui_trader.core.market import Candle
from tui_trader.strategy.loader import load_strategy
from tui_trader.strategy.runner import StrategyRunner
from tui_trader.strategy.synthetic import synthetic_ohlcv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", default="ema_cross")
    parser.add_argument("--bars", type=int, default=2000, help="candles timed after warm-up")
    parser.add_argument("--window", type=int, default=500)
    args = parser.parse_args()

    strategy = load_strategy(args.strategy)
    args.window = max(args.window, strategy.startup_candle_count + 1)
    frame = synthetic_ohlcv(args.window + args.bars, strategy.timeframe, seed=1)
    candles = [
        Candle(
            "BTC/USDT",
            strategy.timeframe,
            r.date.to_pydatetime(),
            r.open,
            r.high,
            r.low,
            r.close,
            r.volume,
        )
        for r in frame.itertuples()
    ]
    decisions = []
    runner = StrategyRunner(
        strategy, ["BTC/USDT"], on_decision=decisions.append, window=args.window
    )
    for c in candles[: args.window]:  # fill the window (these evaluate too, untimed)
        runner.on_candle("BTC/USDT", strategy.timeframe, c)
    timings = []
    for c in candles[args.window :]:
        t0 = time.perf_counter()
        runner.on_candle("BTC/USDT", strategy.timeframe, c)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(
        f"strategy {strategy.name} ({strategy.timeframe}), window {args.window} bars, "
        f"{len(timings)} closes, {len(decisions)} decisions"
    )
    print(
        f"candle close -> decision: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {timings[-1]:.2f} ms "
        f"(budget < 5 ms): {'OK' if p99 < 5 else 'OVER BUDGET'}"
    )


if __name__ == "__main__":
    main()
