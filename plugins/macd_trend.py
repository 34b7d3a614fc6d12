"""MACD trend: trade MACD signal-line crosses only in the direction of the 200-EMA trend.

Long when MACD crosses above its signal line while the close is above EMA(`buy_trend_ema`);
short (where the venue allows, `can_short`) on the mirror image. Exits on the opposite
cross. Tunable: fast/slow/signal periods and the trend EMA length.
"""

from __future__ import annotations

from pandas import DataFrame

from tui_trader import indicators as ta
from tui_trader.strategy import IntParameter, IStrategy, qtpylib


class MacdTrend(IStrategy):
    name = "macd_trend"
    timeframe = "1h"
    startup_candle_count = 250
    can_short = True
    minimal_roi = {"0": 0.10, "1440": 0.04}
    stoploss = -0.08

    buy_fast = IntParameter(8, 16, default=12)
    buy_slow = IntParameter(20, 34, default=26)
    buy_signal = IntParameter(5, 12, default=9)
    buy_trend_ema = IntParameter(100, 250, default=200)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        macd = ta.MACD(dataframe, fastperiod=self.buy_fast.value, slowperiod=self.buy_slow.value,
                       signalperiod=self.buy_signal.value)
        dataframe["macd"] = macd["macd"]
        dataframe["macdsignal"] = macd["macdsignal"]
        dataframe["trend_ema"] = ta.EMA(dataframe, timeperiod=self.buy_trend_ema.value)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        up = qtpylib.crossed_above(dataframe["macd"], dataframe["macdsignal"])
        down = qtpylib.crossed_below(dataframe["macd"], dataframe["macdsignal"])
        uptrend = dataframe["close"] > dataframe["trend_ema"]
        long, short = up & uptrend, down & ~uptrend
        dataframe.loc[long, "enter_long"] = 1
        dataframe.loc[long, "enter_tag"] = "macd_up_trend"
        dataframe.loc[short, "enter_short"] = 1
        dataframe.loc[short, "enter_tag"] = "macd_down_trend"
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        macd, signal = dataframe["macd"], dataframe["macdsignal"]
        dataframe.loc[qtpylib.crossed_below(macd, signal), "exit_long"] = 1
        dataframe.loc[qtpylib.crossed_above(macd, signal), "exit_short"] = 1
        return dataframe
