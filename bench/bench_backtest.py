"""Backtest speed and memory: one year of 1-minute candles, and ten symbols of 5-minute candles.

    .venv/bin/python bench/bench_backtest.py

Budgets (docs/backtesting.md): in-process < 0.5 s, peak RSS < 300 MB, the whole
`tui-trader backtest --json` command < 2 s, ten symbols x one year of 5m < 3 s.
"""

from __future__ import annotations

import json
import os
import subprocess
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

from tui_trader.strategy import IStrategy


class BenchRsiTemaBb(IStrategy):
    """Freqtrade's sample strategy shape: RSI, TEMA and Bollinger bands."""

    name = "bench_rsi_tema_bb"
    timeframe = "1m"
    startup_candle_count = 30
    minimal_roi = {"0": 0.02, "60": 0.01, "240": 0.0}
    stoploss = -0.03
    trailing_stop = True
    trailing_stop_positive = 0.005
    trailing_stop_positive_offset = 0.01

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        close = dataframe["close"].to_numpy()
        dataframe["rsi"] = talib.RSI(close, timeperiod=14)
        dataframe["tema"] = talib.TEMA(close, timeperiod=9)
        upper, middle, lower = talib.BBANDS(close, timeperiod=20, nbdevup=2.0, nbdevdn=2.0)
        dataframe["bb_upper"], dataframe["bb_middle"], dataframe["bb_lower"] = upper, middle, lower
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        tema, mid = dataframe["tema"], dataframe["bb_middle"]
        cond = (dataframe["rsi"] < 30) & (tema <= mid) & (tema > tema.shift(1))
        dataframe.loc[cond, ["enter_long", "enter_tag"]] = (1, "rsi_tema")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        tema, mid = dataframe["tema"], dataframe["bb_middle"]
        cond = (dataframe["rsi"] > 70) & (tema > mid) & (tema < tema.shift(1))
        dataframe.loc[cond, "exit_long"] = 1
        return dataframe
'''


def candles(rows: int, freq: str, seed: int) -> pd.DataFrame:
    """A seeded random walk with realistic OHLC structure."""
    rng = np.random.default_rng(seed)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.0008, rows)))
    open_ = np.concatenate([[30_000.0], close[:-1]])
    spread = np.abs(rng.normal(0, 0.0005, rows)) * close
    return pd.DataFrame({
        "date": pd.date_range("2024-01-01", periods=rows, freq=freq, tz="UTC"),
        "open": open_,
        "high": np.maximum(open_, close) + spread,
        "low": np.minimum(open_, close) - spread,
        "close": close,
        "volume": rng.gamma(2.0, 5.0, rows),
    })  # fmt: skip


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# The `tui-trader` console script is `sys.exit(main())`; this runs the same main() and then
# reports the process's own peak RSS (VmHWM). getrusage(RUSAGE_CHILDREN) is not used: it
# also counts the pages of this (large) bench process that the child shared before exec.
CLI_CHILD = """
import sys
from tui_trader.cli.main import main
code = main(sys.argv[1:])
sys.stdout.flush()
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print("peak_rss_kb", hwm.split()[1], file=sys.stderr)
sys.exit(code)
"""
IMPORTS_CHILD = """
from tui_trader.cli.main import build_parser
build_parser()
import pandas, pyarrow.parquet, talib
rss = next(line for line in open("/proc/self/status") if line.startswith("VmRSS"))
print(int(rss.split()[1]) // 1024)
"""


def main() -> int:
    from tui_trader.backtest import run_backtest
    from tui_trader.data import load_ohlcv
    from tui_trader.strategy.loader import load_strategy

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        strat_dir = root / "strategies"
        strat_dir.mkdir()
        (strat_dir / "bench_rsi_tema_bb.py").write_text(STRATEGY)
        one = root / "BTC_USDT-1m.parquet"
        candles(MINUTES_PER_YEAR, "1min", 1).to_parquet(one)
        five = {f"SYM{i}/USDT": candles(MINUTES_PER_YEAR // 5, "5min", 10 + i) for i in range(10)}

        strategy = load_strategy("bench_rsi_tema_bb", [strat_dir])
        for label in ("cold (first call: lazy imports of pyarrow, talib, metrics)", "warm"):
            t0, c0 = time.perf_counter(), time.process_time()
            df = load_ohlcv(one, timeframe="1m", symbol="BTC/USDT")
            t_load = time.perf_counter()
            result = run_backtest(strategy, {"BTC/USDT": df}, timeframe="1m")
            t1, c1 = time.perf_counter(), time.process_time()
            # CPU seconds too: on a busy machine they say more than the wall time
            print(f"1 symbol x {MINUTES_PER_YEAR:,} 1m candles, in process, {label}: "
                  f"{t1 - t0:.3f} s (load {t_load - t0:.3f} s, analyze+simulate+metrics "
                  f"{t1 - t_load:.3f} s; {c1 - c0:.3f} CPU s), {len(result.trades):,} trades, "
                  f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip

        env = {**os.environ, "TUI_TRADER_HOME": str(root / "home")}
        (root / "home" / "strategies").mkdir(parents=True)
        (root / "home" / "strategies" / "bench_rsi_tema_bb.py").write_text(STRATEGY)
        args = ["backtest", "--strategy", "bench_rsi_tema_bb", "--data", str(one),
                "--timeframe", "1m", "--json"]  # fmt: skip
        cli = Path(sys.executable).with_name("tui-trader")
        t0 = time.perf_counter()
        proc = subprocess.run([str(cli), *args], env=env, capture_output=True, text=True,
                              check=False)  # fmt: skip
        t_cli = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        trades = json.loads(proc.stdout)["metrics"]["trades"]
        child = subprocess.run([sys.executable, "-c", CLI_CHILD, *args], env=env,
                               capture_output=True, text=True, check=True)  # fmt: skip
        peak_kb = int(child.stderr.split("peak_rss_kb")[1].split()[0])
        imports = subprocess.run([sys.executable, "-c", IMPORTS_CHILD], env=env,
                                 capture_output=True, text=True, check=True)  # fmt: skip
        print(f"`tui-trader backtest --json` subprocess: {t_cli:.3f} s ({trades} trades), "
              f"its peak RSS {peak_kb / 1024:.0f} MB (of which the CLI, pandas, pyarrow and "
              f"TA-Lib imports {imports.stdout.strip()} MB)")  # fmt: skip

        five_strategy = load_strategy("bench_rsi_tema_bb", [strat_dir])
        t0 = time.perf_counter()
        multi = run_backtest(five_strategy, five, timeframe="5m", max_open_trades=5)
        t_multi = time.perf_counter() - t0
        skipped = sum(multi.rejected.values())
        print(f"10 symbols x {MINUTES_PER_YEAR // 5:,} 5m candles: {t_multi:.3f} s "
              f"({len(multi.trades):,} trades, skipped {skipped:,})")  # fmt: skip
        print(f"peak RSS of this process (holding 11 years of candles): {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
