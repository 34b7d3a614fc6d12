"""released_talib_outputs: TA-Lib's abstract functions keep no outputs during the block and
no inputs after it, and what a strategy gets from them does not change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import talib
import talib.abstract as abstract

from tui_trader.indicators.talib_cache import released_talib_outputs
from tui_trader.strategy.synthetic import synthetic_ohlcv


def _state(function):  # type: ignore[no-untyped-def]
    return function._Function__localdata


def test_outputs_are_not_kept_and_results_are_talibs() -> None:
    frame = synthetic_ohlcv(500, "5m", seed=3)
    call = type(abstract.RSI).__call__
    with released_talib_outputs():
        rsi = abstract.RSI(frame, timeperiod=14)
        macd = abstract.MACD(frame)
        assert all(v is None for v in _state(abstract.RSI).outputs.values())
        assert all(v is None for v in _state(abstract.MACD).outputs.values())
        assert _state(abstract.RSI).input_arrays is frame  # kept during the block
        again = abstract.RSI.outputs  # asked for: computed again from the kept inputs
        np.testing.assert_array_equal(again.to_numpy(), rsi.to_numpy())
    assert type(abstract.RSI).__call__ is call
    np.testing.assert_array_equal(rsi.to_numpy(), talib.RSI(frame["close"].to_numpy(), timeperiod=14))
    np.testing.assert_array_equal(macd["macdhist"].to_numpy(), talib.MACD(frame["close"].to_numpy())[2])
    assert isinstance(rsi, pd.Series) and list(macd.columns) == ["macd", "macdsignal", "macdhist"]
    # after the block: no frame is held, and the functions work as before
    assert _state(abstract.RSI).input_arrays == {} and _state(abstract.MACD).input_arrays == {}
    after = abstract.RSI(frame, timeperiod=14)
    np.testing.assert_array_equal(after.to_numpy(), rsi.to_numpy())
    assert _state(abstract.RSI).outputs["real"] is not None  # outside a block talib caches as ever


def test_blocks_nest_and_restore_talib() -> None:
    call = type(abstract.RSI).__call__
    with released_talib_outputs():
        with released_talib_outputs():
            pass
        assert type(abstract.RSI).__call__ is not call  # the outer block still releases
    assert type(abstract.RSI).__call__ is call


def test_results_take_talibs_arrays_over_without_copies() -> None:
    import tracemalloc

    frame = synthetic_ohlcv(50_000, "1m", seed=5)
    outputs = 2 * 8 * len(frame)  # HT_SINE's two float64 arrays
    with released_talib_outputs():
        tracemalloc.start()
        try:
            hilbert = abstract.HT_SINE(frame)
            grown = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        rsi = abstract.RSI(frame, timeperiod=14)
        again = abstract.HT_SINE.outputs  # computed again, and handed over too
    # TA-Lib's own result stacks the arrays and pandas copies that: three copies at its peak
    assert grown < 1.5 * outputs + 8 * len(frame)  # + TA-Lib's copy of its input column
    sine, leadsine = talib.HT_SINE(frame["close"].to_numpy())
    assert list(hilbert.columns) == ["sine", "leadsine"] and hilbert.index.equals(frame.index)
    assert (hilbert.dtypes == np.float64).all()
    np.testing.assert_array_equal(hilbert["sine"].to_numpy(), sine)
    np.testing.assert_array_equal(again["leadsine"].to_numpy(), leadsine)
    assert isinstance(rsi, pd.Series) and rsi.index.equals(frame.index) and rsi.name is None
    assert not np.shares_memory(hilbert["sine"].to_numpy(), again["sine"].to_numpy())
    assert all(v is None for v in _state(abstract.HT_SINE).outputs.values())  # nothing kept to write to
    # outside the block TA-Lib builds its results as ever
    assert type(type(abstract.RSI).__dict__["outputs"]) is property  # TA-Lib's own, put back
    pd.testing.assert_frame_equal(abstract.HT_SINE(frame), hilbert)
