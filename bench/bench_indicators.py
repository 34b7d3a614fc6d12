"""Indicator timings: the five-indicator set on 200 bars (budget < 1 ms) and the custom ones.

Run: .venv/bin/python bench/bench_indicators.py [--reps N]
Prints median and p99 per call in microseconds; the custom indicators are also timed on a
year of 1-minute bars (best of 3), the backtest's worst case.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from tui_trader import indicators as ta

BUDGET_US = 1000.0


def candles(n: int, seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 + np.cumsum(rng.normal(0.0, 0.5, n))
    open_ = np.r_[close[0], close[:-1]]
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1min", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) + rng.exponential(0.2, n),
            "low": np.minimum(open_, close) - rng.exponential(0.2, n),
            "close": close,
            "volume": rng.integers(1, 1000, n).astype(float),
        }
    )


def timed(fn: Callable[[], object], reps: int) -> tuple[float, float, float]:
    """(median wall, p99 wall, p99 CPU) of fn() in microseconds, after a warm-up.

    CPU time (this thread only) leaves out the time the OS gave to other processes, so on
    a busy machine it shows what the code itself costs while the wall-clock p99 jumps.
    """
    for _ in range(min(50, reps)):
        fn()
    wall = np.empty(reps)
    cpu = np.empty(reps)
    gc.disable()
    try:
        for i in range(reps):
            c0 = time.thread_time_ns()
            t0 = time.perf_counter_ns()
            fn()
            wall[i] = time.perf_counter_ns() - t0
            cpu[i] = time.thread_time_ns() - c0
    finally:
        gc.enable()
    return (
        float(np.median(wall)) / 1e3,
        float(np.percentile(wall, 99)) / 1e3,
        float(np.percentile(cpu, 99)) / 1e3,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5000)
    parser.add_argument("--no-year", action="store_true", help="skip the 1-year run")
    args = parser.parse_args()

    df = candles(200)
    close, high, low = (df[c].to_numpy() for c in ("close", "high", "low"))

    def set_frame() -> None:  # how Freqtrade strategies call it
        ta.RSI(df, timeperiod=14)
        ta.EMA(df, timeperiod=20)
        ta.BBANDS(df, timeperiod=20)
        ta.MACD(df)
        ta.ATR(df, timeperiod=14)

    def set_arrays() -> None:
        ta.RSI(close, timeperiod=14)
        ta.EMA(close, timeperiod=20)
        ta.BBANDS(close, timeperiod=20)
        ta.MACD(close)
        ta.ATR(high, low, close, timeperiod=14)

    def set_talib_abstract() -> None:  # the same set through talib.abstract, for comparison
        from talib import abstract

        abstract.RSI(df, timeperiod=14)
        abstract.EMA(df, timeperiod=20)
        abstract.BBANDS(df, timeperiod=20)
        abstract.MACD(df)
        abstract.ATR(df, timeperiod=14)

    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f} (p99 suffers under load)")
    print(f"indicator set RSI+EMA+BBANDS+MACD+ATR on 200 bars, {args.reps} reps (budget < 1 ms)")
    print(f"{'call style':<36}{'median us':>10}{'p99 us':>9}{'p99 CPU us':>12}  verdict")
    for label, fn in (
        ("ta.X(dataframe) -> Series/DataFrame", set_frame),
        ("ta.X(ndarray) -> ndarray", set_arrays),
        ("talib.abstract (reference)", set_talib_abstract),
    ):
        med, p99, p99_cpu = timed(fn, args.reps)
        verdict = "" if "reference" in label else ("ok" if p99 < BUDGET_US else "OVER BUDGET")
        if verdict and p99 >= BUDGET_US and p99_cpu < BUDGET_US:
            verdict += " (wall only: machine busy)"
        print(f"{label:<36}{med:>10.1f}{p99:>9.1f}{p99_cpu:>12.1f}  {verdict}")

    custom: dict[str, Callable[[pd.DataFrame], object]] = {
        "session_vwap(day)": ta.session_vwap,
        "session_vwap(london)": lambda d: ta.session_vwap(d, anchor="london"),
        "fibonacci_retracements(100)": ta.fibonacci_retracements,
        "pivot_points(classic)": ta.pivot_points,
        "pivot_points(camarilla)": lambda d: ta.pivot_points(d, method="camarilla"),
        "supertrend(10, 3)": ta.supertrend,
        "keltner_channels(20, 2)": ta.keltner_channels,
        "ichimoku(9, 26, 52)": ta.ichimoku,
        "stoch_rsi(14, 14, 3, 3)": ta.stoch_rsi,
        "session_ranges(3 sessions)": ta.session_ranges,
        "crossed_above(close, ema)": lambda d: ta.crossed_above(d["close"], d["open"]),
        "bollinger_bands(tp, 20, 2)": lambda d: ta.bollinger_bands(ta.typical_price(d)),
    }
    reps = max(200, args.reps // 5)
    print(f"\ncustom indicators on 200 bars, {reps} reps")
    print(f"{'indicator':<36}{'median us':>10}{'p99 us':>9}{'p99 CPU us':>12}")
    for label, fn in custom.items():
        med, p99, p99_cpu = timed(lambda fn=fn: fn(df), reps)
        print(f"{label:<36}{med:>10.1f}{p99:>9.1f}{p99_cpu:>12.1f}")

    if not args.no_year:
        year = candles(525_600)
        print("\none year of 1-minute bars (525,600), best of 3 runs")
        print(f"{'indicator':<34}{'ms':>11}")

        def five(d: pd.DataFrame) -> None:
            ta.RSI(d, timeperiod=14)
            ta.EMA(d, timeperiod=20)
            ta.BBANDS(d, timeperiod=20)
            ta.MACD(d)
            ta.ATR(d, timeperiod=14)

        for label, fn in {"RSI+EMA+BBANDS+MACD+ATR (frame)": five, **custom}.items():
            runs = []
            for _ in range(3):
                t0 = time.perf_counter()
                fn(year)
                runs.append(time.perf_counter() - t0)
            print(f"{label:<34}{min(runs) * 1e3:>11.1f}")


if __name__ == "__main__":
    main()
