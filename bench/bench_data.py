"""Time the candle-history and metrics paths a backtest uses, on one year of 1-minute bars.

Run: .venv/bin/python bench/bench_data.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tui_trader.analytics.metrics import compute_metrics
from tui_trader.data.loaders import load_ohlcv
from tui_trader.data.store import CandleStore
from tui_trader.data.validate import check_candles

BARS = 525_600  # one year of 1-minute candles


def best_of(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(42)
    dates = pd.date_range("2024-01-01", periods=BARS, freq="1min", tz="UTC").as_unit("ns")
    close = 40_000 * np.exp(np.cumsum(rng.normal(0, 0.0005, BARS)))
    df = pd.DataFrame(
        {"date": dates, "open": close, "high": close * 1.001, "low": close * 0.999, "close": close,
         "volume": rng.uniform(1, 10, BARS)}
    )  # fmt: skip
    equity = pd.Series(10_000 * close / close[0], index=dates)
    n_trades = 1_000
    entries = np.sort(rng.choice(BARS - 10, n_trades, replace=False))
    trades = pd.DataFrame(
        {"entry_time": dates[entries], "exit_time": dates[entries + 5],
         "pnl": rng.normal(1, 10, n_trades), "pnl_pct": rng.normal(0.001, 0.01, n_trades),
         "mfe": 0.0, "mae": 0.0}
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        store = CandleStore(Path(tmp))
        save = best_of(lambda: store.save("bench", "BTC/USDT", "1m", df), repeat=3)
        load = best_of(lambda: store.load("bench", "BTC/USDT", "1m"))
        path = store.path_for("bench", "BTC/USDT", "1m")
        file_load = best_of(lambda: load_ohlcv(path, timeframe="1m"))
        listing = best_of(store.list)
        size_mb = path.stat().st_size / 1e6
    check = best_of(lambda: check_candles(df, "1m"))
    metrics = best_of(lambda: compute_metrics(equity, trades, timeframe="1m", benchmark=equity))
    print(f"{BARS} 1m candles, parquet file {size_mb:.1f} MB")
    print(f"CandleStore.save (merge into existing)  {save * 1000:8.1f} ms")
    print(f"CandleStore.load                        {load * 1000:8.1f} ms")
    print(f"load_ohlcv(parquet) incl. checks        {file_load * 1000:8.1f} ms")
    print(f"check_candles                           {check * 1000:8.1f} ms")
    print(f"CandleStore.list (1 dataset)            {listing * 1000:8.1f} ms")
    print(f"compute_metrics ({n_trades} trades, benchmark) {metrics * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
