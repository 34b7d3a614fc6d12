"""StochRSI + EMA: buy oversold StochRSI turns inside an uptrend.

Entry: StochRSI %K crosses above %D while both are below `buy_level` (10-40) and the close
is above EMA(`buy_ema`). Exit: %K crosses below %D above `sell_level` (60-90). A quick
momentum strategy for lower timeframes.
"""

from __future__ import annotations

from pandas import DataFrame

from tui_trader import indicators as ta
from tui_trader.strategy import IntParameter, IStrategy, qtpylib


class StochRsiEma(IStrategy):
    name = "stochrsi_ema"
    timeframe = "5m"
    startup_candle_count = 200
    minimal_roi = {"0": 0.03, "60": 0.015, "180": 0.005}
    stoploss = -0.04

    buy_ema = IntParameter(50, 200, default=100)
    buy_level = IntParameter(10, 40, default=20)
    sell_level = IntParameter(60, 90, default=80)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        fast = ta.STOCHRSI(dataframe, timeperiod=14, fastk_period=3, fastd_period=3)
        dataframe["k"] = fast["fastk"]
        dataframe["d"] = fast["fastd"]
        dataframe["ema"] = ta.EMA(dataframe, timeperiod=self.buy_ema.value)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        turn = qtpylib.crossed_above(dataframe["k"], dataframe["d"])
        low = (dataframe["k"] < self.buy_level.value) & (dataframe["d"] < self.buy_level.value)
        uptrend = dataframe["close"] > dataframe["ema"]
        enter = turn & low & uptrend
        dataframe.loc[enter, "enter_long"] = 1
        dataframe.loc[enter, "enter_tag"] = "stochrsi_turn"
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        turn = qtpylib.crossed_below(dataframe["k"], dataframe["d"])
        dataframe.loc[turn & (dataframe["k"] > self.sell_level.value), "exit_long"] = 1
        return dataframe
