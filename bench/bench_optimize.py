"""Optimizer throughput: 1,000 trials of a two-parameter strategy on one year of 1-minute candles.

    .venv/bin/python bench/bench_optimize.py            # 1,000 trials, local pool then Dask
    .venv/bin/python bench/bench_optimize.py --trials 200 --skip-dask

Budget (docs/optimize.md): 1,000 trials in < 60 s on 2 cores. Prints trials per second for
a local process pool (--jobs 2) and a 2-worker Dask LocalCluster on loopback.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

MINUTES_PER_YEAR = 525_600

STRATEGY = '''
from pandas import DataFrame
import talib

from tui_trader.strategy import IntParameter, IStrategy


class BenchEmaTrend(IStrategy):
    """EMA cross on 1-minute bars: long while the fast EMA is above the slow one."""

    name = "bench_ema_trend"
    timeframe = "1m"
    startup_candle_count = 300
    minimal_roi = {"0": 0.05}
    stoploss = -0.03

    buy_fast = IntParameter(20, 70, default=30)
    buy_slow = IntParameter(100, 300, default=200)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        close = dataframe["close"].to_numpy()
        dataframe["ema_fast"] = talib.EMA(close, timeperiod=self.buy_fast.value)
        dataframe["ema_slow"] = talib.EMA(close, timeperiod=self.buy_slow.value)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        above = dataframe["ema_fast"] > dataframe["ema_slow"]
        dataframe.loc[above & ~above.shift(1, fill_value=False), "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        below = dataframe["ema_fast"] < dataframe["ema_slow"]
        dataframe.loc[below & ~below.shift(1, fill_value=False), "exit_long"] = 1
        return dataframe
'''


def candles(rows: int, seed: int = 1) -> pd.DataFrame:
    """A seeded random walk with realistic OHLC structure (same shape as bench_backtest)."""
    rng = np.random.default_rng(seed)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.0008, rows)))
    open_ = np.concatenate([[30_000.0], close[:-1]])
    spread = np.abs(rng.normal(0, 0.0005, rows)) * close
    return pd.DataFrame({
        "date": pd.date_range("2024-01-01", periods=rows, freq="1min", tz="UTC"),
        "open": open_,
        "high": np.maximum(open_, close) + spread,
        "low": np.minimum(open_, close) - spread,
        "close": close,
        "volume": rng.gamma(2.0, 5.0, rows),
    })  # fmt: skip


def run(label: str, strategy, df, trials: int, **kwargs) -> tuple[float, float]:
    """(wall seconds, CPU-bound estimate): the machine may be shared, so besides the wall time
    the workers' own CPU time per trial is summed and spread over the workers, plus the
    caller's CPU (sampling, start-up, shipping the data): what an idle machine would take."""
    from tui_trader.optimize import optimize

    load = os.getloadavg()[0]
    cpu0 = time.process_time()
    started = time.perf_counter()
    result = optimize(strategy, df, timeframe="1m", method="random", trials=trials, seed=1,
                      verify=False, **kwargs)  # fmt: skip
    elapsed = time.perf_counter() - started
    caller = time.process_time() - cpu0
    trades = [t.metrics.get("trades") or 0 for t in result.trials]
    worker_cpu = sum(t.cpu_seconds for t in result.trials)
    bound = worker_cpu / result.workers + caller
    print(
        f"{label}: {len(result.trials)} trials in {elapsed:.1f} s wall = "
        f"{len(result.trials) / elapsed:.1f} trials/s ({result.workers} workers; "
        f"median {int(np.median(trades))} trades/trial; "
        f"mean trial {np.mean([t.seconds for t in result.trials]):.3f} s wall, "
        f"{worker_cpu / len(result.trials):.3f} s CPU; "
        f"best {result.best.params} sharpe {result.best.value:.2f})",
        flush=True,
    )
    print(
        f"  CPU: workers {worker_cpu:.1f} s + caller {caller:.1f} s -> {bound:.1f} s on "
        f"{result.workers} idle cores ({len(result.trials) / bound:.1f} trials/s); "
        f"load average {load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        flush=True,
    )
    return elapsed, bound


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--no-cache", action="store_true", help="also time without the cache")
    args = parser.parse_args()

    from tui_trader.strategy.loader import load_strategy

    folder = Path(tempfile.mkdtemp(prefix="bench_opt_"))
    (folder / "bench_ema_trend.py").write_text(STRATEGY)
    strategy = load_strategy(str(folder / "bench_ema_trend.py"))
    df = candles(MINUTES_PER_YEAR)
    print(f"1 symbol x {len(df):,} 1m candles; 2 parameters (fast 20-70, slow 100-300); "
          f"random search, seed 1", flush=True)  # fmt: skip
    local, bound = run(f"local pool --jobs {args.jobs}", strategy, df, args.trials, jobs=args.jobs)
    scale = 1000 / args.trials
    print(f"budget 1,000 trials < 60 s on 2 cores: wall {local * scale:.0f} s "
          f"{'OK' if local * scale < 60 else 'OVER'}; CPU-bound {bound * scale:.0f} s "
          f"{'OK' if bound * scale < 60 else 'OVER'}", flush=True)  # fmt: skip
    if args.no_cache:
        run("local pool, no indicator cache", strategy, df, args.trials, jobs=args.jobs,
            cache=False)  # fmt: skip
    if not args.skip_dask:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1")  # fmt: skip
        with cluster, Client(cluster) as client:
            run("Dask LocalCluster 2 workers", strategy, df, args.trials, client=client)
    return 0


if __name__ == "__main__":
    sys.exit(main())
