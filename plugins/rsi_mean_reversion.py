"""RSI mean reversion: buy oversold dips below the lower Bollinger band, sell the bounce.

Entry: RSI(14) under `buy_rsi` (15-40) while the close is below the lower 20-bar Bollinger
band. Exit: RSI above `sell_rsi` (55-85) or the close back over the middle band. Suits
ranging markets; the trailing stop locks in part of a bounce once it is 2 % in profit.
"""

from __future__ import annotations

from pandas import DataFrame

from tui_trader import indicators as ta
from tui_trader.strategy import DecimalParameter, IntParameter, IStrategy


class RsiMeanReversion(IStrategy):
    name = "rsi_mean_reversion"
    timeframe = "15m"
    startup_candle_count = 100
    minimal_roi = {"0": 0.04, "240": 0.02}
    stoploss = -0.06
    trailing_stop = True
    trailing_stop_positive = 0.01
    trailing_stop_positive_offset = 0.02
    trailing_only_offset_is_reached = True

    buy_rsi = IntParameter(15, 40, default=30, space="buy")
    buy_bb_std = DecimalParameter(1.5, 3.0, default=2.0, decimals=1, space="buy")
    sell_rsi = IntParameter(55, 85, default=70, space="sell")

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        std = float(self.buy_bb_std.value)
        bands = ta.BBANDS(dataframe, timeperiod=20, nbdevup=std, nbdevdn=std)
        dataframe["bb_lower"] = bands["lowerband"]
        dataframe["bb_mid"] = bands["middleband"]
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        below_band = dataframe["close"] < dataframe["bb_lower"]
        oversold = (dataframe["rsi"] < self.buy_rsi.value) & below_band
        dataframe.loc[oversold, "enter_long"] = 1
        dataframe.loc[oversold, "enter_tag"] = "rsi_oversold"
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        above_mid = dataframe["close"] > dataframe["bb_mid"]
        recovered = (dataframe["rsi"] > self.sell_rsi.value) | above_mid
        dataframe.loc[recovered, "exit_long"] = 1
        dataframe.loc[recovered, "exit_tag"] = "rsi_recovered"
        return dataframe
