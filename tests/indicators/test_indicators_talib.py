"""The generated TA-Lib wrappers: three call styles, same numbers as talib itself."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import talib
from talib import abstract

from tui_trader import indicators as ta
from tui_trader.core.errors import DataError, UserError


def test_every_talib_function_is_exposed_and_runs_on_a_dataframe(candles) -> None:
    df = candles.assign(periods=np.full(len(candles), 10.0))  # MAVP reads a periods column
    names = talib.get_functions()
    assert len(names) > 150 and "CDLENGULFING" in names
    for name in names:
        out = getattr(ta, name)(df)
        outputs = abstract.Function(name).info["output_names"]
        if len(outputs) == 1:
            assert isinstance(out, pd.Series), name
            assert out.index.equals(df.index), name
        else:
            assert isinstance(out, pd.DataFrame), name
            assert list(out.columns) == outputs, name
            assert out.index.equals(df.index), name


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("RSI", {"timeperiod": 14}),
        ("BBANDS", {"timeperiod": 20, "nbdevup": 2.0, "nbdevdn": 2.0}),
        ("MACD", {}),
        ("ATR", {"timeperiod": 14}),
        ("MFI", {"timeperiod": 14}),
        ("OBV", {}),
        ("BETA", {"timeperiod": 5}),
        ("STOCH", {}),
        ("CDLHAMMER", {}),
    ],
)
def test_dataframe_call_equals_array_call_and_talib_abstract(candles, name, params) -> None:
    spec_inputs = ta.talib_wrappers.spec(name).columns
    arrays = [candles[c].to_numpy(dtype=float) for c in spec_inputs]
    from_frame = getattr(ta, name)(candles, **params)
    from_arrays = getattr(ta, name)(*arrays, **params)
    reference = getattr(talib, name)(*arrays, **params)
    freqtrade_style = getattr(abstract, name)(candles, **params)
    if isinstance(from_frame, pd.DataFrame):
        for col, arr, ref in zip(from_frame.columns, from_arrays, reference, strict=True):
            np.testing.assert_array_equal(from_frame[col].to_numpy(), arr)
            np.testing.assert_array_equal(arr, ref)
        np.testing.assert_array_equal(from_frame.to_numpy(), freqtrade_style.to_numpy())
    else:
        np.testing.assert_array_equal(from_frame.to_numpy(), from_arrays)
        np.testing.assert_array_equal(from_arrays, reference)
        np.testing.assert_array_equal(from_frame.to_numpy(), freqtrade_style.to_numpy())
    assert not np.isnan(np.asarray(reference, dtype=float)[..., -1]).any()


def test_series_in_series_out_with_the_same_index(candles) -> None:
    close = candles.set_index("date")["close"]
    rsi = ta.RSI(close, timeperiod=14)
    assert isinstance(rsi, pd.Series) and rsi.index.equals(close.index)
    np.testing.assert_array_equal(rsi.to_numpy(), talib.RSI(close.to_numpy(), 14))
    upper, middle, lower = ta.BBANDS(close, 20)
    assert upper.index.equals(close.index) and middle.name == "middleband"
    assert (upper.dropna() >= lower.dropna()).all()
    assert isinstance(ta.RSI(close.to_numpy()), np.ndarray)  # arrays stay arrays


def test_positional_parameters_and_column_overrides(candles) -> None:
    pd.testing.assert_series_equal(ta.EMA(candles, 7), ta.EMA(candles, timeperiod=7))
    np.testing.assert_array_equal(
        ta.EMA(candles, timeperiod=5, price="open").to_numpy(),
        talib.EMA(candles["open"].to_numpy(), 5),
    )
    np.testing.assert_array_equal(
        ta.RSI(candles["close"], 9).to_numpy(), talib.RSI(candles["close"].to_numpy(), 9)
    )


def test_integer_volume_is_accepted(candles) -> None:
    df = candles.assign(volume=candles["volume"].astype("int64"))
    np.testing.assert_array_equal(ta.OBV(df).to_numpy(), ta.OBV(candles).to_numpy())


def test_candlestick_patterns_return_integers_and_find_a_known_engulfing(make_candles) -> None:
    df = make_candles(n=7)
    df["open"] = [10.0, 9.5, 9.0, 8.5, 8.0, 7.6, 7.0]
    df["close"] = [9.5, 9.0, 8.5, 8.0, 7.6, 7.1, 8.2]
    df["high"] = np.maximum(df["open"], df["close"]) + 0.05
    df["low"] = np.minimum(df["open"], df["close"]) - 0.05
    out = ta.CDLENGULFING(df)
    assert out.dtype.kind == "i"
    assert out.tolist() == [0, 0, 0, 0, 0, 0, 100]


def test_candlestick_values_are_signed_hundreds(candles) -> None:
    for name in talib.get_function_groups()["Pattern Recognition"]:
        out = getattr(ta, name)(candles)
        assert out.dtype.kind == "i", name
        assert set(np.unique(out)) <= {-200, -100, 0, 100, 200}, name


def test_mistakes_raise_one_line_errors(candles) -> None:
    with pytest.raises(UserError, match=r"unknown parameter 'period'.*timeperiod"):
        ta.RSI(candles, period=14)
    with pytest.raises(UserError, match="RSI"):
        ta.RSI(candles, timeperiod=-3)
    with pytest.raises(DataError, match="volume"):
        ta.MFI(candles.drop(columns="volume"))
    with pytest.raises(DataError, match="different lengths"):
        ta.ATR(np.ones(10), np.ones(10), np.ones(9))
    with pytest.raises(AttributeError):
        ta.NOT_A_FUNCTION  # noqa: B018
    for err in (UserError, DataError):
        assert "\n" not in str(err("x"))


def test_import_is_cheap() -> None:
    code = (
        "import sys, tui_trader.indicators as ta;"
        "heavy = {'numpy', 'pandas', 'talib'} & set(sys.modules);"
        "assert not heavy, heavy;"
        "ta.RSI; assert 'talib' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_every_functions_description_is_talib_abstracts_without_importing_it() -> None:
    """A spec is read without importing talib.abstract (its import makes all ~200 functions,
    ~40 ms of a rule backtest), and says exactly what abstract.Function(name).info says."""
    from tui_trader.indicators.talib_wrappers import _info, talib_names

    assert all(_info(name) == dict(abstract.Function(name).info) for name in talib_names())
    code = (
        "import sys; from tui_trader.indicators.talib_wrappers import spec; "
        "assert spec('EMA').parameters == {'timeperiod': 30}; print('talib.abstract' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"
