"""Live ML inference per closed candle: features on the live window + one calibrated prediction.

Budget: < 20 ms per candle (p99). Also times training and whole-frame `add_ml_columns`, and
`tui-trader signals train` as a command on 12,000 1h candles (budget < 10 s): a fresh process,
so the first training's thread limits are measured as a user meets them.
Run: .venv/bin/python bench/bench_ml.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from tui_trader.signals.ml.inference import window_bars
from tui_trader.signals.ml.model import TrainConfig, train
from tui_trader.signals.regime import regime_signal
from tui_trader.strategy.synthetic import synthetic_ohlcv


def percentiles(ms: list[float]) -> str:
    ms = sorted(ms)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  max {ms[-1]:6.2f} ms"


def train_command() -> None:
    """`tui-trader signals train` in a fresh process, wall and CPU time, with the machine's load."""
    import os
    import resource
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "candles.csv"
        synthetic_ohlcv(12_000, "1h", seed=1).to_csv(data, index=False)
        cli = Path(sys.executable).with_name("tui-trader")
        cmd = [str(cli), "--home", tmp, "signals", "train", "--data", str(data), "--symbol", "BENCH/USD"]
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([*cmd, "--timeframe", "1h"], check=True, capture_output=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"tui-trader signals train, 12000 1h candles: {wall:.1f} s wall, {cpu:.1f} s CPU (load {load:.2f})")


def main() -> None:
    train_command()
    from tui_trader.signals.ml.inference import Predictor
    from tui_trader.signals.ml.registry import ModelInfo

    for tf, bars in (("1h", 5000), ("1m", 20000)):
        df = synthetic_ohlcv(bars, tf, seed=1)
        train(df.iloc[:2000], tf, TrainConfig(horizon=4, max_iter=10))  # imports and caches
        t0 = time.perf_counter()
        result = train(df, tf, TrainConfig(horizon=4))
        took = time.perf_counter() - t0
        print(f"train {tf}: {bars} candles, 5 purged folds + final fit: {took:.2f} s")
        info = ModelInfo(
            "bench",
            "BENCH",
            tf,
            4,
            df["date"].iloc[-1],
            None,  # type: ignore[arg-type]
            {"report": result.report.as_dict()},
        )
        predictor = Predictor(info, result.model)
        window = window_bars(tf)
        frames = [df.iloc[i - window : i].reset_index(drop=True) for i in range(bars - 300, bars)]
        with threadpool_limits(1, user_api="openmp"):  # as the service's worker thread runs it
            for f in frames[:20]:
                predictor.predict_last(f)
            ml, both = [], []
            for f in frames:
                t = time.perf_counter()
                predictor.predict_last(f)
                ml.append((time.perf_counter() - t) * 1000)
                regime_signal(f, "BENCH", f["date"].iloc[-1], timeframe=tf)
                both.append((time.perf_counter() - t) * 1000)
        print(f"  live inference, {window}-bar window:       {percentiles(ml)}")
        print(f"  inference + regime per closed candle:  {percentiles(both)}")
        t = time.perf_counter()
        cols = result.model.predict_frame(df)
        took_ms = (time.perf_counter() - t) * 1000
        made = int(np.sum(cols["ml_prediction"] != 0))
        print(f"  whole frame, add_ml_columns path: {bars} rows in {took_ms:.0f} ms ({made} calls)")


if __name__ == "__main__":
    main()
