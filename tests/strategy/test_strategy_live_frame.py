"""The live runner's per-candle frame gives the same analysis as a plain pandas frame.

The runner builds its frame from pandas blocks (strategy/frames.py) instead of the dict
constructor; every bundled strategy (plugins/, Python and TOML rules), Freqtrade's sample
strategy and the parity strategies written against Freqtrade's imports must analyse it to the
same frame, cell for cell, as the frame a backtest gets, at every candle, across the window
rolling over."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_strategy_api import SampleStrategy

from tui_trader.core.market import Candle
from tui_trader.strategy.analysis import analyze
from tui_trader.strategy.interface import IStrategy
from tui_trader.strategy.loader import bundled_dir, load_file, strategy_files
from tui_trader.strategy.runner import StrategyRunner
from tui_trader.strategy.synthetic import synthetic_ohlcv
from tui_trader.strategy.timeframes import timeframe_to_seconds
from tui_trader.strategy.window import BarWindow

PARITY = Path(__file__).resolve().parents[1] / "backtest" / "parity" / "parity_strategies.py"
SYMBOL = "BTC/USDT"


def _classes() -> list[tuple[str, type[IStrategy]]]:
    found = [(f"plugins/{path.name}:{cls.__name__}", cls)
             for path in strategy_files(bundled_dir()) for cls in load_file(path)]  # fmt: skip
    found.append(("freqtrade-sample", SampleStrategy))
    found += [(f"parity:{cls.__name__}", cls) for cls in load_file(PARITY)]
    return found


CLASSES = _classes()


def test_every_bundled_strategy_is_covered() -> None:
    names = {n.split(":")[0] for n, _ in CLASSES}
    assert {f"plugins/{p.name}" for p in strategy_files(bundled_dir())} <= names
    assert any(p.suffix == ".toml" for p in strategy_files(bundled_dir()))
    assert "freqtrade-sample" in names and "parity" in names


def _candles(df: pd.DataFrame, timeframe: str) -> list[Candle]:
    return [Candle(SYMBOL, timeframe, r.date.to_pydatetime(), r.open, r.high, r.low, r.close,
                   r.volume) for r in df.itertuples()]  # fmt: skip


@pytest.mark.parametrize(("name", "cls"), CLASSES, ids=[n for n, _ in CLASSES])
def test_the_live_frame_analyses_like_a_plain_pandas_frame(name: str, cls: type[IStrategy]) -> None:
    live, reference = cls(), cls()
    tf = live.timeframe
    window = live.startup_candle_count + 20
    bars = 2 * window + 6  # the window's buffer moves its rows to the front at bar 2 * window
    candles = synthetic_ohlcv(bars, tf, seed=11)
    runner = StrategyRunner(live, [SYMBOL], on_decision=lambda d: None, window=window)
    compared = 0
    for i, candle in enumerate(_candles(candles, tf)):
        evaluate = runner.enabled = i >= bars - 12  # only the bars around the move
        runner.on_candle(SYMBOL, tf, candle)
        if not evaluate:
            continue
        assert runner.error is None, runner.error
        got, when = runner.dp.get_analyzed_dataframe(SYMBOL, tf)
        assert when == candle.open_time == got["date"].iloc[-1].to_pydatetime()
        plain = candles.iloc[max(0, i + 1 - window) : i + 1].reset_index(drop=True)
        want = analyze(reference, plain, {"pair": SYMBOL, "timeframe": tf})
        pd.testing.assert_frame_equal(got, want, check_column_type=False, check_exact=True)
        compared += 1
    assert compared >= 10


def test_the_frame_is_a_copy_a_strategy_cannot_write_the_window_through() -> None:
    win = BarWindow(5)
    t0 = synthetic_ohlcv(6, "1m", seed=1)
    for c in _candles(t0, "1m"):
        win.add(c)
    before = win.array()
    frame = win.frame()
    frame.loc[frame.index[:3], "close"] = -1.0  # a strategy editing a candle column in place
    frame["open"] = 0.0
    np.testing.assert_array_equal(win.array(), before)
    assert str(frame["date"].dtype) == "datetime64[us, UTC]" and list(frame.index) == list(range(5))
    assert frame["date"].iloc[-1] == t0["date"].iloc[-1]
    assert timeframe_to_seconds("1m") == (frame["date"].iloc[1] - frame["date"].iloc[0]) / timedelta(seconds=1)


def test_without_pandas_block_constructor_the_frames_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """pandas before 3.0 has no public block constructor: the dict constructor builds the same."""
    from tui_trader.strategy import frames

    rows = synthetic_ohlcv(30, "5m", seed=2)
    win = BarWindow(30)
    for c in _candles(rows, "5m"):
        win.add(c)
    fast = win.frame()
    fast_signals = frames.signal_frame(fast.index, frames.SIGNAL_COLUMNS + frames.TAG_COLUMNS)
    monkeypatch.setattr(frames._get(), "build", None)
    slow = win.frame()
    pd.testing.assert_frame_equal(fast, slow, check_column_type=False, check_exact=True)
    pd.testing.assert_frame_equal(
        fast_signals,
        frames.signal_frame(slow.index, frames.SIGNAL_COLUMNS + frames.TAG_COLUMNS),
        check_column_type=False,
    )
    pd.testing.assert_frame_equal(slow, rows, check_column_type=False, check_exact=True)


def test_frame_of_builds_what_the_dict_constructor_builds() -> None:
    from tui_trader.strategy.frames import frame_of

    index = pd.RangeIndex(4)
    dates = pd.date_range("2026-01-01", periods=4, freq="h", tz="UTC").array
    columns = {
        "a": np.array([1.0, np.nan, 3.0, 4.0]),
        "when": dates,
        "flag": np.array([True, False, True, False]),
        "n": np.array([1, 2, 3, 4], dtype="int8"),
        "b": pd.Series([5.0, 6.0, 7.0, 8.0], index=index),
    }
    got = frame_of(columns, index)
    pd.testing.assert_frame_equal(got, pd.DataFrame(columns, index=index), check_column_type=False)
    assert got.columns.dtype == object
    got.loc[0, "a"] = -1.0  # a copy: the caller's arrays are untouched
    assert columns["a"][0] == 1.0
    # what pandas would align or infer goes through pandas: a Series on another index, strings
    for odd in ({"a": pd.Series([1.0, 2.0], index=[1, 2])}, {"tag": np.array(["x", None, "y", None], dtype=object)}):
        pd.testing.assert_frame_equal(frame_of(odd, index), pd.DataFrame(odd, index=index))
