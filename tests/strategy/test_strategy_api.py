"""The Freqtrade-compatible strategy API: a ported strategy runs after changing its imports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib.abstract as ta
from pandas import DataFrame

from tui_trader.strategy import (
    BooleanParameter,
    CategoricalParameter,
    DecimalParameter,
    IntParameter,
    IStrategy,
    StrategyError,
    detect_parameters,
    informative,
    merge_informative_pair,
    qtpylib,
)
from tui_trader.strategy.analysis import analyze
from tui_trader.strategy.synthetic import synthetic_ohlcv


# A trimmed copy of Freqtrade's SampleStrategy; only the import lines differ.
class SampleStrategy(IStrategy):
    INTERFACE_VERSION = 3
    can_short: bool = False
    minimal_roi = {"60": 0.01, "30": 0.02, "0": 0.04}
    stoploss = -0.10
    trailing_stop = False
    timeframe = "5m"
    process_only_new_candles = True
    use_exit_signal = True
    exit_profit_only = False
    ignore_roi_if_entry_signal = False
    buy_rsi = IntParameter(low=1, high=50, default=30, space="buy", optimize=True, load=True)
    sell_rsi = IntParameter(low=50, high=100, default=70, space="sell", optimize=True, load=True)
    short_rsi = IntParameter(low=51, high=100, default=70, space="sell", optimize=True, load=True)
    exit_short_rsi = IntParameter(low=1, high=50, default=30, space="buy", optimize=True, load=True)
    startup_candle_count: int = 200
    order_types = {
        "entry": "limit",
        "exit": "limit",
        "stoploss": "market",
        "stoploss_on_exchange": False,
    }

    def informative_pairs(self):
        return []

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["adx"] = ta.ADX(dataframe)
        dataframe["rsi"] = ta.RSI(dataframe)
        bollinger = qtpylib.bollinger_bands(qtpylib.typical_price(dataframe), window=20, stds=2)
        dataframe["bb_lowerband"] = bollinger["lower"]
        dataframe["bb_middleband"] = bollinger["mid"]
        dataframe["tema"] = ta.TEMA(dataframe, timeperiod=9)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[
            (
                (qtpylib.crossed_above(dataframe["rsi"], self.buy_rsi.value))
                & (dataframe["tema"] <= dataframe["bb_middleband"])
                & (dataframe["tema"] > dataframe["tema"].shift(1))
                & (dataframe["volume"] > 0)
            ),
            "enter_long",
        ] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[
            (
                (qtpylib.crossed_above(dataframe["rsi"], self.sell_rsi.value))
                & (dataframe["tema"] > dataframe["bb_middleband"])
                & (dataframe["volume"] > 0)
            ),
            "exit_long",
        ] = 1
        return dataframe


def test_sample_strategy_signals_match_an_independent_computation():
    candles = synthetic_ohlcv(3000, "5m", seed=7)
    strategy = SampleStrategy()
    df = analyze(strategy, candles.copy(deep=False), {"pair": "BTC/USDT"})
    assert len(df) == len(candles)
    for col in ("enter_long", "exit_long", "enter_short", "exit_short"):
        assert df[col].dtype == np.int8
        assert set(df[col].unique()) <= {0, 1}
    assert df["enter_tag"].dtype == object and df["enter_tag"].isna().all()
    # Recompute the entry rule by hand with raw talib arrays.
    import talib

    close = candles["close"].to_numpy()
    rsi = talib.RSI(close, 14)
    tema = talib.TEMA(close, 9)
    tp = ((candles["high"] + candles["low"] + candles["close"]) / 3).to_numpy()
    mid = pd.Series(tp).rolling(20).mean().to_numpy()
    prev_rsi = np.roll(rsi, 1)
    prev_rsi[0] = np.nan
    prev_tema = np.roll(tema, 1)
    prev_tema[0] = np.nan
    expected = (rsi > 30) & (prev_rsi <= 30) & (tema <= mid) & (tema > prev_tema)
    assert expected.sum() > 0
    np.testing.assert_array_equal(df["enter_long"].to_numpy() == 1, expected)
    # analyze hands the strategy the frame it was given; a shallow (copy-on-write) copy keeps
    # the caller's candles untouched without copying a column
    assert "enter_long" not in candles.columns


def test_parameters_detect_apply_and_stay_per_instance():
    params = detect_parameters(SampleStrategy)
    assert list(params) == ["buy_rsi", "sell_rsi", "short_rsi", "exit_short_rsi"]
    assert params["buy_rsi"].space == "buy" and params["buy_rsi"].range == range(1, 51)
    a, b = SampleStrategy(), SampleStrategy()
    a.set_parameters({"buy_rsi": 42})
    assert a.buy_rsi.value == 42 and b.buy_rsi.value == 30
    assert SampleStrategy.buy_rsi.value == 30
    with pytest.raises(Exception, match=r"outside 1\.\.50"):
        a.set_parameters({"buy_rsi": 99})
    with pytest.raises(Exception, match="no parameter 'nope'"):
        a.set_parameters({"nope": 1})


def test_parameter_kinds_and_ranges():
    d = DecimalParameter(0.1, 0.3, default=0.2, decimals=1)
    assert d.range == [0.1, 0.2, 0.3]
    assert d.validate(0.26) == 0.3  # rounded to 1 decimal
    c = CategoricalParameter(["a", "b"], default="b")
    assert c.range == ["a", "b"] and c.value == "b"
    assert BooleanParameter(default=False).range == [True, False]
    assert IntParameter([3, 5], default=4).range == range(3, 6)

    class Prefixed(IStrategy):
        sell_x = IntParameter(1, 3, default=2)  # space from the name, as Freqtrade does

    assert detect_parameters(Prefixed)["sell_x"].space == "sell"


class Broken(IStrategy):
    def populate_indicators(self, dataframe, metadata):
        dataframe["x"] = dataframe["no_such_column"] * 2  # the failing line
        return dataframe


def test_errors_point_at_the_strategy_file_and_line():
    with pytest.raises(StrategyError) as info:
        analyze(Broken(), synthetic_ohlcv(50), {"pair": "X"})
    err = info.value
    assert err.file == __file__
    import inspect

    src, start = inspect.getsourcelines(Broken.populate_indicators)
    offset = next(i for i, line in enumerate(src) if "the failing line" in line)
    assert err.line == start + offset
    assert "KeyError" in str(err) and f"{__file__}:{err.line}" in str(err)


def test_dropping_rows_is_an_error():
    class Dropper(IStrategy):
        def populate_indicators(self, dataframe, metadata):
            return dataframe.iloc[10:]

    with pytest.raises(StrategyError, match="changed the number of rows"):
        analyze(Dropper(), synthetic_ohlcv(50), {})


def test_shorts_are_ignored_unless_can_short():
    class Shorty(IStrategy):
        def populate_entry_trend(self, dataframe, metadata):
            dataframe["enter_short"] = 1
            return dataframe

    assert analyze(Shorty(), synthetic_ohlcv(20), {})["enter_short"].sum() == 0
    Shorty.can_short = True
    assert analyze(Shorty(), synthetic_ohlcv(20), {})["enter_short"].sum() == 20


class WithInformative(IStrategy):
    timeframe = "5m"

    @informative("1h")
    def populate_indicators_1h(self, dataframe, metadata):
        dataframe["mark"] = dataframe["close"]
        return dataframe


def test_informative_decorator_has_no_look_ahead():
    candles = synthetic_ohlcv(600, "5m", seed=3)
    df = analyze(WithInformative(), candles, {"pair": "ETH/USDT"})
    hourly = candles.set_index("date")["close"].resample("1h").last()
    for i in (100, 143, 144, 155, 400):
        row = df.iloc[i]
        close_time = row["date"] + pd.Timedelta(minutes=5)
        closed = hourly[hourly.index + pd.Timedelta(hours=1) <= close_time]
        assert row["mark_1h"] == closed.iloc[-1]
        assert row["date_1h"] == closed.index[-1]


def test_merge_informative_pair_matches_freqtrade_semantics():
    base = synthetic_ohlcv(48, "15m")
    inf = synthetic_ohlcv(12, "1h", seed=9)
    merged = merge_informative_pair(base, inf, "15m", "1h", ffill=True)
    # The 00:00 hourly bar becomes visible on the 00:45 15m row (which closes at 01:00).
    assert np.isnan(merged.loc[2, "close_1h"])
    assert merged.loc[3, "close_1h"] == inf.loc[0, "close"]
    assert merged.loc[7, "close_1h"] == inf.loc[1, "close"]
    assert "date_1h" in merged.columns
