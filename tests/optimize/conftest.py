"""Shared fixtures: seeded synthetic candles and a two-parameter SMA-cross strategy file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

STRATEGY = '''
from pandas import DataFrame

from tui_trader.strategy import CategoricalParameter, IntParameter, IStrategy


class ToySmaCross(IStrategy):
    """Long when the fast SMA is above the slow one; counts populate_indicators runs."""

    name = "toy_sma"
    timeframe = "5m"
    startup_candle_count = 0
    stoploss = -0.5
    calls = 0

    buy_fast = IntParameter(2, 12, default=4)
    buy_slow = IntParameter(10, 40, default=20)
    sell_mode = CategoricalParameter(["cross", "never"], default="cross", optimize=False)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        type(self).calls += 1
        dataframe["sma_fast"] = dataframe["close"].rolling(self.buy_fast.value).mean()
        dataframe["sma_slow"] = dataframe["close"].rolling(self.buy_slow.value).mean()
        dataframe["spread"] = dataframe["high"] - dataframe["low"]
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        up = dataframe["sma_fast"] > dataframe["sma_slow"]
        dataframe.loc[up & ~up.shift(1, fill_value=False), "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        if self.sell_mode.value == "cross":
            down = dataframe["sma_fast"] < dataframe["sma_slow"]
            dataframe.loc[down & ~down.shift(1, fill_value=False), "exit_long"] = 1
        return dataframe
'''


def make_candles(rows: int = 3000, seed: int = 7, freq: str = "5min") -> pd.DataFrame:
    """A seeded random walk with OHLC structure."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.003, rows)))
    open_ = np.concatenate([[100.0], close[:-1]])
    spread = np.abs(rng.normal(0, 0.001, rows)) * close
    return pd.DataFrame({
        "date": pd.date_range("2024-01-01", periods=rows, freq=freq, tz="UTC"),
        "open": open_,
        "high": np.maximum(open_, close) + spread,
        "low": np.minimum(open_, close) - spread,
        "close": close,
        "volume": rng.gamma(2.0, 5.0, rows),
    })  # fmt: skip


@pytest.fixture
def candles() -> pd.DataFrame:
    return make_candles()


@pytest.fixture
def strategy_file(tmp_path: Path) -> Path:
    path = tmp_path / "toy_sma.py"
    path.write_text(STRATEGY, encoding="utf-8")
    return path


@pytest.fixture
def strategy(strategy_file: Path):
    from tui_trader.strategy.loader import load_strategy

    return load_strategy(str(strategy_file))
