"""A futures strategy written against Freqtrade's API: Freqtrade's own futures backtest of it is
recorded beside this file (`bench/parity_freqtrade_futures.py --fixtures`), and
`tests/backtest/test_backtest_futures_parity.py` compares ours with it.

`RsiBandsFutures` trades both sides at 3x on isolated margin: long on RSI crossing up through
30 while TEMA sits under the middle Bollinger band and rises, short on RSI crossing down
through 70 while TEMA sits above it and falls; out on the opposite RSI level. No ROI (it would
be measured with the funding paid so far, see docs/backtesting.md); a 9 % stop on the margin
(3 % of price at 3x).
"""

import talib.abstract as ta
from freqtrade.strategy import IStrategy
from pandas import DataFrame
from technical import qtpylib


class RsiBandsFutures(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    startup_candle_count = 200
    can_short = True
    minimal_roi = {"0": 100.0}
    stoploss = -0.09
    trailing_stop = False

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["rsi"] = ta.RSI(dataframe)
        dataframe["tema"] = ta.TEMA(dataframe, timeperiod=9)
        bands = qtpylib.bollinger_bands(qtpylib.typical_price(dataframe), window=20, stds=2)
        dataframe["bb_mid"] = bands["mid"]
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        rising = dataframe["tema"] > dataframe["tema"].shift(1)
        falling = dataframe["tema"] < dataframe["tema"].shift(1)
        dataframe.loc[
            qtpylib.crossed_above(dataframe["rsi"], 30) & (dataframe["tema"] <= dataframe["bb_mid"]) & rising,
            ["enter_long", "enter_tag"],
        ] = (1, "rsi_up")
        dataframe.loc[
            qtpylib.crossed_below(dataframe["rsi"], 70) & (dataframe["tema"] > dataframe["bb_mid"]) & falling,
            ["enter_short", "enter_tag"],
        ] = (1, "rsi_down")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[qtpylib.crossed_above(dataframe["rsi"], 65), ["exit_long", "exit_tag"]] = (1, "rsi_65")
        dataframe.loc[qtpylib.crossed_below(dataframe["rsi"], 35), ["exit_short", "exit_tag"]] = (1, "rsi_35")
        return dataframe

    def leverage(self, pair: str, current_time, current_rate: float, proposed_leverage: float,
                 max_leverage: float, entry_tag, side: str, **kwargs) -> float:
        return 3.0
