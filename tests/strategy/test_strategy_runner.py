"""The live runner: decisions on the right closed candle, exits for open trades, state, builder."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tui_trader.core.market import Candle
from tui_trader.strategy import IStrategy, informative
from tui_trader.strategy.analysis import analyze
from tui_trader.strategy.candles import CandleBuilder
from tui_trader.strategy.loader import load_strategy
from tui_trader.strategy.runner import Decision, StrategyRunner
from tui_trader.strategy.synthetic import synthetic_ohlcv

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _candles(df, symbol="BTC/USDT", tf="5m"):
    return [
        Candle(symbol, tf, r.date.to_pydatetime(), r.open, r.high, r.low, r.close, r.volume)
        for r in df.itertuples()
    ]


class EveryTenth(IStrategy):
    """Enters on bars whose index in the window is a multiple of ten of its open minute."""

    timeframe = "5m"
    startup_candle_count = 3
    stoploss = -0.5

    def populate_entry_trend(self, dataframe, metadata):
        dataframe.loc[dataframe["date"].dt.minute == 50, ["enter_long", "enter_tag"]] = (1, "m50")
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        dataframe.loc[dataframe["date"].dt.minute == 20, "exit_long"] = 1
        return dataframe


def test_decisions_on_the_right_candle_and_exits_after_fill():
    decisions: list[Decision] = []
    runner = StrategyRunner(EveryTenth(), ["BTC/USDT"], on_decision=decisions.append)
    bars = _candles(synthetic_ohlcv(30, "5m"))
    for c in bars[:10]:  # 00:00 .. 00:45
        runner.on_candle("BTC/USDT", "5m", c)
    assert decisions == []
    out = runner.on_candle("BTC/USDT", "5m", bars[10])  # the 00:50 bar closes at 00:55
    assert out == decisions and len(decisions) == 1
    d = decisions[0]
    assert (d.action, d.tag, d.reason, d.symbol) == (
        "enter_long",
        "m50",
        "entry_signal",
        "BTC/USDT",
    )
    assert d.ts == T0 + timedelta(minutes=55) and d.price == bars[10].close and d.side == "buy"
    # Unclosed bars, other timeframes and duplicates never evaluate.
    forming = Candle("BTC/USDT", "5m", bars[11].open_time, 1, 1, 1, 1, 1, closed=False)
    assert runner.on_candle("BTC/USDT", "5m", forming) == []
    assert runner.on_candle("BTC/USDT", "5m", bars[10]) == []
    runner.on_fill("BTC/USDT", "buy", 2.0, bars[10].close, d.ts)
    assert runner.open_trades()["BTC/USDT"].enter_tag == "m50"
    for c in bars[11:17]:  # up to 01:20
        runner.on_candle("BTC/USDT", "5m", c)
    assert [x.action for x in decisions] == ["enter_long", "exit_long"]
    assert decisions[-1].reason == "exit_signal" and decisions[-1].ts == T0 + timedelta(minutes=85)
    runner.on_fill("BTC/USDT", "sell", 2.0, 100.0, decisions[-1].ts)
    assert runner.open_trades() == {}
    json.dumps(runner.state)  # JSON-able for the engine's store


def test_runner_matches_vectorized_analysis():
    """Live (one bar at a time) and backtest (whole history) agree on entry signals."""
    strategy = load_strategy("ema_cross")
    candles = synthetic_ohlcv(400, "5m", seed=21)
    full = analyze(load_strategy("ema_cross"), candles, {"pair": "X"})
    decisions: list[Decision] = []
    runner = StrategyRunner(
        strategy, ["X"], on_decision=decisions.append, window=300, pending_bars=1
    )
    for c in _candles(candles, "X"):
        runner.on_candle("X", "5m", c)
    live = {d.ts for d in decisions}
    expected = {
        ts + timedelta(minutes=5)
        for ts in full.loc[full["enter_long"] == 1, "date"]
        if ts >= candles["date"].iat[strategy.startup_candle_count]
    }
    assert live and live == expected


def test_stoploss_exit_and_state_restore():
    decisions: list[Decision] = []
    runner = StrategyRunner(EveryTenth(), ["X"], on_decision=decisions.append)
    runner.on_fill("X", "buy", 1.0, 100.0, T0)
    state = json.loads(json.dumps(runner.state))
    fresh = StrategyRunner(EveryTenth(), ["X"], on_decision=decisions.append, state=state)
    assert fresh.open_trades()["X"].open_rate == 100.0
    for i, low in enumerate([99, 98, 45]):
        fresh.on_candle(
            "X", "5m", Candle("X", "5m", T0 + timedelta(minutes=5 * i), 100, 101, low, 99, 1)
        )
    assert decisions[-1].action == "exit_long" and decisions[-1].reason == "stop_loss"
    assert decisions[-1].price == pytest.approx(50.0)


def test_strategy_errors_disable_the_runner_only():
    class Boom(EveryTenth):
        def populate_indicators(self, dataframe, metadata):
            raise RuntimeError("boom")

    errors = []
    runner = StrategyRunner(Boom(), ["X"], on_decision=lambda d: None, on_error=errors.append)
    for c in _candles(synthetic_ohlcv(5, "5m"), "X"):
        runner.on_candle("X", "5m", c)
    assert not runner.enabled and "boom" in str(errors[0]) and errors[0].line is not None
    assert runner.status()["error"]


def test_informative_subscriptions_and_history_warm_up():
    class Inf(EveryTenth):
        @informative("1h")
        def populate_indicators_1h(self, dataframe, metadata):
            return dataframe

        def informative_pairs(self):
            return [("ETH/USDT", "15m")]

    calls = []

    def history(symbol, tf, limit):
        calls.append((symbol, tf, limit))
        return _candles(synthetic_ohlcv(20, tf), symbol, tf) if tf == "5m" else []

    runner = StrategyRunner(Inf(), ["BTC/USDT"], on_decision=lambda d: None, history=history)
    assert set(runner.subscriptions()) == {
        ("BTC/USDT", "5m"),
        ("ETH/USDT", "15m"),
        ("BTC/USDT", "1h"),
    }
    runner.start()
    assert {c[:2] for c in calls} == set(runner.subscriptions())
    nxt = synthetic_ohlcv(21, "5m").iloc[20]
    runner.on_candle(
        "BTC/USDT",
        "5m",
        Candle(
            "BTC/USDT",
            "5m",
            nxt.date.to_pydatetime(),
            nxt.open,
            nxt.high,
            nxt.low,
            nxt.close,
            nxt.volume,
        ),
    )
    assert runner.evaluations == 1 and runner.enabled


def test_candle_builder_from_trades_and_minutes():
    b = CandleBuilder(["1m", "5m"])
    out = []
    for i, price in enumerate([10, 12, 9, 11, 13, 8]):
        out += b.add_trade("X", price, 1.0, T0 + timedelta(seconds=50 * i))  # 0s .. 250s
    closed_1m = [c for c in out if c.timeframe == "1m"]
    assert [(c.open, c.high, c.low, c.close, c.volume) for c in closed_1m[:2]] == [
        (10, 12, 10, 12, 2.0),
        (9, 9, 9, 9, 1.0),
    ]
    assert all(c.closed for c in out)
    forming = b.forming("X", "5m")
    assert forming is not None and not forming.closed and forming.high == 13 and forming.low == 8
    assert b.flush(T0 + timedelta(minutes=5))[-1].timeframe in ("1m", "5m")
    # 1m candles into 5m and 15m: a bar is emitted the moment its last minute arrives.
    b2 = CandleBuilder(["5m", "15m"])
    got = []
    for i in range(15):
        got += b2.add_candle(
            Candle("X", "1m", T0 + timedelta(minutes=i), i, i + 1, i - 1, i + 0.5, 1)
        )
    assert [(c.timeframe, c.open_time) for c in got] == [
        ("5m", T0),
        ("5m", T0 + timedelta(minutes=5)),
        ("5m", T0 + timedelta(minutes=10)),
        ("15m", T0),
    ]
    bar15 = got[-1]
    assert (bar15.open, bar15.high, bar15.low, bar15.close, bar15.volume) == (0, 15, -1, 14.5, 15)


def test_a_bar_backfilled_after_newer_ones_takes_its_place_in_the_window_without_a_decision():
    """After a reconnect the venue's REST backfill can arrive after live bars: the strategy's
    next evaluation must see the gap filled, in time order, and the old bar decides nothing."""
    decisions: list[Decision] = []
    runner = StrategyRunner(EveryTenth(), ["BTC/USDT"], on_decision=decisions.append, window=8)
    bars = _candles(synthetic_ohlcv(30, "5m"))
    for i in [*range(0, 9), *range(11, 14)]:  # 00:45 and 00:50 missed during an outage
        runner.on_candle("BTC/USDT", "5m", bars[i])
    assert runner.on_candle("BTC/USDT", "5m", bars[10]) == []  # the 00:50 entry bar, late
    assert runner.on_candle("BTC/USDT", "5m", bars[9]) == []
    frame = runner._windows[("BTC/USDT", "5m")].frame()
    assert list(frame["date"]) == [b.open_time for b in bars[6:14]]  # full (8), in order
    assert decisions == []


def test_dataprovider_in_a_backtest_sees_only_closed_candles() -> None:
    """As Freqtrade's backtester: get_analyzed_dataframe returns the candles before the one
    being simulated; ticker is empty and orderbook refuses with a hint."""
    import pandas as pd
    import pytest as _pytest

    from tui_trader.core.errors import UserError
    from tui_trader.strategy.dataprovider import DataProvider
    from tui_trader.strategy.enums import RunMode

    df = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=5, freq="5min", tz="UTC"),
                       "close": [1.0, 2, 3, 4, 5]})  # fmt: skip
    dp = DataProvider({("X/Y", "5m"): df}, ["X/Y"], RunMode.BACKTEST)
    dp.set_analyzed("X/Y", "5m", df)
    assert dp.get_analyzed_dataframe("X/Y", "5m")[0].empty  # no candle simulated yet
    dp.set_current("X/Y", df.date[3].value)
    seen, _ = dp.get_analyzed_dataframe("X/Y", "5m")
    assert seen["close"].tolist() == [1.0, 2, 3] and dp.runmode.value == "backtest"
    assert dp.ticker("X/Y") == {} and dp.current_whitelist() == ["X/Y"]
    with _pytest.raises(UserError, match="runmode"):
        dp.orderbook("X/Y", 1)
    live = DataProvider(whitelist=["X/Y"])
    live.set_analyzed("X/Y", "5m", df)
    assert len(live.get_analyzed_dataframe("X/Y", "5m")[0]) == 5 and live.runmode.value == "live"


def test_atr_for_volatility_sizing_is_wilders_atr_of_the_windows_last_bars() -> None:
    import numpy as np
    import talib

    df = synthetic_ohlcv(400, "5m", seed=3)
    runner = StrategyRunner(EveryTenth(), ["BTC/USDT"], on_decision=lambda d: None, window=300)
    assert runner.atr("BTC/USDT") is None  # no bars yet
    for c in _candles(df):
        runner.on_candle("BTC/USDT", "5m", c)
    tail = df.iloc[-141:]
    want = talib.ATR(tail["high"].to_numpy(), tail["low"].to_numpy(), tail["close"].to_numpy(), timeperiod=14)[-1]
    assert runner.atr("BTC/USDT") == want and np.isfinite(want) and want > 0


def test_a_bar_whose_window_has_a_hole_reads_no_signal_but_checks_the_stop():
    """The engine holds a bar whose window has a hole the venue could not fill
    (engine/candle_holes.py): added to the window, no entry on its signal, but an open trade's
    stop still checked on its prices (they need the bar alone)."""
    decisions: list[Decision] = []
    runner = StrategyRunner(EveryTenth(), ["BTC/USDT"], on_decision=decisions.append)
    bars = _candles(synthetic_ohlcv(30, "5m"))
    for c in bars[:10]:
        runner.on_candle("BTC/USDT", "5m", c)
    evaluated = runner.evaluations
    assert runner.on_candle("BTC/USDT", "5m", bars[10], signals=False) == []  # the 00:50 entry bar
    assert len(runner._windows[("BTC/USDT", "5m")]) == 11 and runner.evaluations == evaluated
    runner.on_fill("BTC/USDT", "buy", 1.0, bars[10].close, bars[10].open_time)
    crash = bars[11]
    crash = Candle(crash.symbol, crash.timeframe, crash.open_time, crash.open, crash.open,
                   crash.open * 0.1, crash.open * 0.2, crash.volume)  # fmt: skip
    (stop,) = runner.on_candle("BTC/USDT", "5m", crash, signals=False)
    assert (stop.action, stop.reason) == ("exit_long", "stop_loss")
