"""EMA cross: go long when the fast EMA crosses above the slow EMA, exit when it crosses back.

The classic trend-following starter. Tunable: `buy_fast` (5-20) and `buy_slow` (20-80) EMA
periods. A 5 % stoploss and a falling ROI table guard the downside; exits otherwise come
from the opposite cross. Works on any liquid market; expect whipsaws in ranges.
"""

from __future__ import annotations

from pandas import DataFrame

from tui_trader import indicators as ta
from tui_trader.strategy import IntParameter, IStrategy, qtpylib


class EmaCross(IStrategy):
    name = "ema_cross"
    timeframe = "5m"
    startup_candle_count = 200
    minimal_roi = {"0": 0.06, "120": 0.03, "480": 0.01}
    stoploss = -0.05

    buy_fast = IntParameter(5, 20, default=9, space="buy")
    buy_slow = IntParameter(20, 80, default=21, space="buy")

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["ema_fast"] = ta.EMA(dataframe, timeperiod=self.buy_fast.value)
        dataframe["ema_slow"] = ta.EMA(dataframe, timeperiod=self.buy_slow.value)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        cross = qtpylib.crossed_above(dataframe["ema_fast"], dataframe["ema_slow"])
        traded = dataframe["volume"] > 0
        enter = cross & traded
        dataframe.loc[enter, "enter_long"] = 1
        dataframe.loc[enter, "enter_tag"] = "ema_cross_up"
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        cross = qtpylib.crossed_below(dataframe["ema_fast"], dataframe["ema_slow"])
        dataframe.loc[cross, "exit_long"] = 1
        dataframe.loc[cross, "exit_tag"] = "ema_cross_down"
        return dataframe
