"""Live ML inference per closed candle: features on the live window + one calibrated prediction.

Budget: < 20 ms per candle (p99). Also times training and whole-frame `add_ml_columns`.
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


def main() -> None:
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
