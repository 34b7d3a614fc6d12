"""Strategies written against Freqtrade's API (its import paths), run by Freqtrade itself and by
tui_trader on the same candles: `bench/parity_freqtrade.py --fixtures` records Freqtrade's
trades next to this file, `tests/backtest/test_backtest_freqtrade_parity.py` compares ours.

`RsiBands` follows the signal rules of Freqtrade's sample strategy (RSI crossing 30 while
TEMA sits under the middle Bollinger band and rises; out on RSI crossing 70 while TEMA sits
above it and falls); the subclasses change one exit rule or add one hook each.
"""

from datetime import datetime, timedelta

import talib.abstract as ta
from freqtrade.persistence import Trade
from freqtrade.strategy import IntParameter, IStrategy, stoploss_from_open
from pandas import DataFrame
from technical import qtpylib


class RsiBands(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    startup_candle_count = 200
    minimal_roi = {"60": 0.01, "30": 0.02, "0": 0.04}
    stoploss = -0.10
    trailing_stop = False
    buy_rsi = IntParameter(1, 50, default=30, space="buy")
    sell_rsi = IntParameter(50, 100, default=70, space="sell")

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["rsi"] = ta.RSI(dataframe)
        dataframe["tema"] = ta.TEMA(dataframe, timeperiod=9)
        bands = qtpylib.bollinger_bands(qtpylib.typical_price(dataframe), window=20, stds=2)
        dataframe["bb_mid"] = bands["mid"]
        dataframe["bb_low"] = bands["lower"]
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        rising = dataframe["tema"] > dataframe["tema"].shift(1)
        dataframe.loc[
            qtpylib.crossed_above(dataframe["rsi"], self.buy_rsi.value)
            & (dataframe["tema"] <= dataframe["bb_mid"])
            & rising
            & (dataframe["volume"] > 0),
            ["enter_long", "enter_tag"],
        ] = (1, "rsi_up")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        falling = dataframe["tema"] < dataframe["tema"].shift(1)
        dataframe.loc[
            qtpylib.crossed_above(dataframe["rsi"], self.sell_rsi.value)
            & (dataframe["tema"] > dataframe["bb_mid"])
            & falling
            & (dataframe["volume"] > 0),
            "exit_long",
        ] = 1
        return dataframe


class RsiBandsSignals(RsiBands):
    """No ROI, a wide stop: exits come from the signal (tagged) and the end of the data."""

    minimal_roi = {"0": 10.0}
    stoploss = -0.25

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[
            qtpylib.crossed_above(dataframe["rsi"], 60) & (dataframe["volume"] > 0),
            ["exit_long", "exit_tag"],
        ] = (1, "rsi_60")
        return dataframe


class RsiBandsRoiSteps(RsiBands):
    minimal_roi = {"0": 0.015, "10": 0.01, "25": 0.005, "40": 0.0}
    stoploss = -0.03


class RsiBandsTightStop(RsiBands):
    minimal_roi = {"0": 0.05}
    stoploss = -0.01


class RsiBandsTrailing(RsiBands):
    minimal_roi = {"0": 0.08}
    stoploss = -0.03
    trailing_stop = True


class RsiBandsTrailingOffset(RsiBands):
    minimal_roi = {"0": 0.08}
    stoploss = -0.04
    trailing_stop = True
    trailing_stop_positive = 0.005
    trailing_stop_positive_offset = 0.01


class RsiBandsTrailingOnlyOffset(RsiBandsTrailingOffset):
    trailing_only_offset_is_reached = True


class RsiBandsCustomStop(RsiBands):
    """Break-even once 1 % up, then half a percent above the entry; wide before."""

    minimal_roi = {"0": 0.06}
    stoploss = -0.05
    use_custom_stoploss = True

    def custom_stoploss(self, pair: str, trade: Trade, current_time: datetime,
                        current_rate: float, current_profit: float, after_fill: bool,
                        **kwargs) -> float | None:  # fmt: skip
        if current_profit > 0.02:
            return stoploss_from_open(0.005, current_profit, is_short=trade.is_short)
        if current_profit > 0.01:
            return stoploss_from_open(0.0, current_profit, is_short=trade.is_short)
        if current_time - trade.open_date_utc > timedelta(hours=6):
            return 0.02
        return None


class RsiBandsHooks(RsiBands):
    """custom_exit (string reason), confirm_trade_exit refusing some exits, custom_exit_price."""

    minimal_roi = {"0": 0.05}
    stoploss = -0.04

    def custom_exit(self, pair: str, trade: Trade, current_time: datetime, current_rate: float,
                    current_profit: float, **kwargs):  # fmt: skip
        if current_time - trade.open_date_utc >= timedelta(hours=4) and current_profit < 0:
            return "stale_loser"
        return None

    def confirm_trade_exit(self, pair: str, trade: Trade, order_type: str, amount: float,
                           rate: float, time_in_force: str, exit_reason: str,
                           current_time: datetime, **kwargs) -> bool:  # fmt: skip
        # hold on through the first hour unless the stop says otherwise
        return exit_reason == "stop_loss" or current_time - trade.open_date_utc >= timedelta(hours=1)


class RsiBandsDca(RsiBands):
    """Adds half the stake once 2 % down, takes a third off once 1.5 % up."""

    minimal_roi = {"0": 0.04}
    stoploss = -0.08
    position_adjustment_enable = True
    max_entry_position_adjustment = 1

    def adjust_trade_position(self, trade: Trade, current_time: datetime, current_rate: float,
                              current_profit: float, min_stake, max_stake: float,
                              current_entry_rate: float, current_exit_rate: float,
                              current_entry_profit: float, current_exit_profit: float,
                              **kwargs):  # fmt: skip
        if current_profit < -0.02 and trade.nr_of_successful_entries == 1:
            return trade.stake_amount / 2, "dca"
        if current_profit > 0.015 and trade.nr_of_successful_exits == 0:
            return -(trade.stake_amount / 3), "take_third"
        return None


class RsiBandsGuarded(RsiBandsDca):
    """Protections (run with --enable-protections), self.dp in a callback, a stake hook, DCA."""

    minimal_roi = {"0": 0.03}
    stoploss = -0.015

    @property
    def protections(self):
        return [
            {"method": "CooldownPeriod", "stop_duration_candles": 12},
            {"method": "StoplossGuard", "lookback_period": 720, "trade_limit": 2,
             "stop_duration": 240, "only_per_pair": False},
            {"method": "MaxDrawdown", "lookback_period": 1440, "trade_limit": 3,
             "stop_duration": 360, "max_allowed_drawdown": 0.02},
            {"method": "LowProfitPairs", "lookback_period": 360, "trade_limit": 2,
             "stop_duration": 60, "required_profit": 0.0},
        ]  # fmt: skip

    def custom_stake_amount(self, pair: str, current_time: datetime, current_rate: float,
                            proposed_stake: float, min_stake, max_stake: float, leverage: float,
                            entry_tag, side: str, **kwargs) -> float:  # fmt: skip
        return proposed_stake * 0.8

    def custom_exit(self, pair: str, trade: Trade, current_time: datetime, current_rate: float,
                    current_profit: float, **kwargs):  # fmt: skip
        dataframe, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        last = dataframe.iloc[-1]
        if last["rsi"] > 68 and current_profit > 0.002:
            return "rsi_hot"
        return None


class RsiBandsBusy(RsiBandsTrailingOffset):
    """Enters often (RSI crossing 45) with a tight trailing stop: exits inside candles, for
    --timeframe-detail."""

    buy_rsi = IntParameter(1, 50, default=45, space="buy")
    minimal_roi = {"0": 0.02}
    stoploss = -0.01
    trailing_stop_positive = 0.002
    trailing_stop_positive_offset = 0.004
