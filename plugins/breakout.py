"""Breakout: buy a close above the prior N-bar high (Donchian) or the upper Bollinger band.

`buy_mode` picks the channel: "donchian" (highest high of the previous `buy_period` bars)
or "bollinger" (upper band, `buy_period` bars, 2 std). A volume filter asks for volume above
its 20-bar mean. Exit when the close falls below the lowest low of `sell_period` bars. A
trailing stop lets winners run.
"""

from __future__ import annotations

from pandas import DataFrame

from tui_trader import indicators as ta
from tui_trader.strategy import CategoricalParameter, IntParameter, IStrategy


class Breakout(IStrategy):
    name = "breakout"
    timeframe = "1h"
    startup_candle_count = 120
    minimal_roi = {"0": 0.20}
    stoploss = -0.07
    trailing_stop = True
    trailing_stop_positive = 0.03
    trailing_stop_positive_offset = 0.05

    buy_mode = CategoricalParameter(["donchian", "bollinger"], default="donchian")
    buy_period = IntParameter(10, 60, default=20)
    sell_period = IntParameter(5, 30, default=10)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        period = self.buy_period.value
        # shift(1): the channel of the bars before this one, so a breakout is possible.
        dataframe["dc_upper"] = dataframe["high"].rolling(period).max().shift(1)
        dataframe["dc_lower"] = dataframe["low"].rolling(self.sell_period.value).min().shift(1)
        dataframe["bb_upper"] = ta.BBANDS(dataframe, timeperiod=period)["upperband"]
        dataframe["volume_mean"] = dataframe["volume"].rolling(20).mean()
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        mode = self.buy_mode.value
        level = dataframe["dc_upper"] if mode == "donchian" else dataframe["bb_upper"]
        breakout = (dataframe["close"] > level) & (dataframe["volume"] > dataframe["volume_mean"])
        dataframe.loc[breakout, "enter_long"] = 1
        dataframe.loc[breakout, "enter_tag"] = f"{mode}_breakout"
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        below = dataframe["close"] < dataframe["dc_lower"]
        dataframe.loc[below, "exit_long"] = 1
        dataframe.loc[below, "exit_tag"] = "channel_low"
        return dataframe
