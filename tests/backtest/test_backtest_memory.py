"""A backtest that prints only trades and metrics lets go of the indicator columns, and its
trades are exactly those of a run that keeps them."""

from __future__ import annotations

import gc
import weakref

import pandas as pd
import pytest

from tui_trader import indicators as ta
from tui_trader.backtest import run_backtest
from tui_trader.strategy import IStrategy, qtpylib
from tui_trader.strategy.synthetic import synthetic_ohlcv


class ManyColumns(IStrategy):
    """Like Freqtrade's SampleStrategy: many indicator columns, a few of them used."""

    timeframe = "5m"
    startup_candle_count = 30
    minimal_roi = {"0": 0.04, "60": 0.01}
    stoploss = -0.05

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        for period in (5, 10, 20, 40):
            dataframe[f"ema{period}"] = ta.EMA(dataframe, timeperiod=period)
        bands = qtpylib.bollinger_bands(qtpylib.typical_price(dataframe), window=20, stds=2)
        dataframe["bb_lower"], dataframe["bb_upper"] = bands["lower"], bands["upper"]
        return dataframe

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe.loc[(dataframe["rsi"] < 35) & (dataframe["close"] < dataframe["bb_lower"]),
                      ["enter_long", "enter_tag"]] = (1, "dip")  # fmt: skip
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe.loc[qtpylib.crossed_above(dataframe["ema5"], dataframe["ema40"]), "exit_long"] = 1
        return dataframe


class WithHook(ManyColumns):
    def custom_stoploss(self, pair, trade, current_time, current_rate, current_profit, after_fill, **kw):  # type: ignore[no-untyped-def]
        frame, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        assert "rsi" in frame.columns  # a hook may read any indicator
        return -0.05

    use_custom_stoploss = True


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    return synthetic_ohlcv(6_000, "5m", seed=11)


def test_dropping_indicators_keeps_every_trade(candles: pd.DataFrame) -> None:
    kept = run_backtest(ManyColumns(), {"X/USDT": candles}, timeframe="5m", stake_amount="unlimited")
    lean = run_backtest(ManyColumns(), {"X/USDT": candles}, timeframe="5m", stake_amount="unlimited",
                        keep_indicators=False)  # fmt: skip
    assert len(kept.trades) > 10
    pd.testing.assert_frame_equal(kept.trades, lean.trades)
    assert kept.metrics == lean.metrics
    assert "rsi" in kept.frames["X/USDT"].columns
    assert "rsi" not in lean.frames["X/USDT"].columns
    assert {"date", "close", "enter_long", "exit_long"} <= set(lean.frames["X/USDT"].columns)


def test_a_hook_that_reads_the_frame_keeps_it(candles: pd.DataFrame) -> None:
    lean = run_backtest(WithHook(), {"X/USDT": candles}, timeframe="5m", stake_amount="unlimited",
                        keep_indicators=False)  # fmt: skip
    assert len(lean.trades) > 10 and "rsi" in lean.frames["X/USDT"].columns


class AbstractTalib(ManyColumns):
    """Indicators the way Freqtrade strategies call TA-Lib: `talib.abstract` on the frame."""

    frames: list[weakref.ref[pd.DataFrame]] = []

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        import talib.abstract as abstract

        self.frames.append(weakref.ref(dataframe))
        dataframe = super().populate_indicators(dataframe, metadata)
        dataframe["adx"] = abstract.ADX(dataframe)
        macd = abstract.MACD(dataframe)
        dataframe["macd"], dataframe["macdsignal"] = macd["macd"], macd["macdsignal"]
        return dataframe


def test_no_indicator_frame_is_alive_while_trades_are_simulated(candles: pd.DataFrame, monkeypatch) -> None:
    """Neither a leftover reference in run_backtest nor TA-Lib's abstract functions (which keep
    the last frame each was called on) hold the analyzed frame once only the signals are kept."""
    import tui_trader.backtest.engine as engine

    seen: list[object] = []
    simulate = engine.backtest_signals

    def checking(*args, **kwargs):  # type: ignore[no-untyped-def]
        gc.collect()
        seen.append(AbstractTalib.frames[-1]())
        return simulate(*args, **kwargs)

    monkeypatch.setattr(engine, "backtest_signals", checking)
    lean = run_backtest(AbstractTalib(), {"X/USDT": candles}, timeframe="5m", stake_amount="unlimited",
                        keep_indicators=False)  # fmt: skip
    assert seen == [None]
    monkeypatch.setattr(engine, "backtest_signals", simulate)
    kept = run_backtest(AbstractTalib(), {"X/USDT": candles}, timeframe="5m", stake_amount="unlimited")
    pd.testing.assert_frame_equal(kept.trades, lean.trades)
    assert len(kept.trades) > 10 and "macd" in kept.frames["X/USDT"].columns
