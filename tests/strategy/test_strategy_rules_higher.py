"""The NumPy higher-timeframe path of rule strategies equals resample_ohlcv + merge_closed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tui_trader.strategy.informative import merge_closed, resample_ohlcv
from tui_trader.strategy.rules import compile_rules, resample_bars
from tui_trader.strategy.synthetic import synthetic_ohlcv

RULES = """
[strategy]
name = "higher"
timeframe = "5m"
[indicators]
ema = { fn = "EMA", timeperiod = 5 }
[entry]
tag = "up"
all = ["close@1h > ema@1h", "close crosses_above ema"]
[exit]
when = "close@4h < ema@4h"
"""


def reference(strategy, df: pd.DataFrame) -> pd.DataFrame:
    """The pandas implementation the NumPy one replaced."""
    out = df.copy()
    for tf in ("1h", "4h"):
        higher = resample_ohlcv(df[["date", "open", "high", "low", "close", "volume"]], tf)
        higher = pd.concat([higher, pd.DataFrame(strategy._compute(higher), index=higher.index)],
                           axis=1)  # fmt: skip
        higher = higher.rename(columns={c: f"{c}@{tf}" for c in higher.columns})
        out = merge_closed(out, higher, "5m", tf, f"date@{tf}")
    return out


@pytest.mark.parametrize("offset", [0, 7])  # a window that starts mid-hour, too
def test_numpy_merge_matches_pandas_reference(offset: int) -> None:
    strategy = compile_rules(RULES)()
    df = synthetic_ohlcv(700, "5m", seed=5).iloc[offset:]
    df.index = df.index + 1000  # not a RangeIndex from 0: nothing may align by label
    got = strategy.populate_indicators(df.copy(), {"pair": "X"})
    want = reference(strategy, df)
    for col in [c for c in want.columns if "@" in c]:
        if col.startswith("date@"):
            assert got[col].equals(want[col]), col
        else:
            np.testing.assert_allclose(got[col].to_numpy(float), want[col].to_numpy(float),
                                       equal_nan=True, err_msg=col)  # fmt: skip
    assert list(got.index) == list(df.index)


@pytest.mark.parametrize("tf", ["15m", "1h", "1d"])
def test_resample_bars_matches_resample_ohlcv(tf: str) -> None:
    df = synthetic_ohlcv(3_000, "5m", seed=2).iloc[5:]
    df = df.drop(index=df.index[100:130]).reset_index(drop=True)  # a gap: empty buckets
    times = df["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    got = resample_bars(df, times, tf)
    want = resample_ohlcv(df, tf)
    # the column index's own dtype differs (ours keeps object labels, for faster lookups)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_index_type=False, check_column_type=False)


def test_weekly_bars_start_on_monday() -> None:
    df = synthetic_ohlcv(24 * 30, "1h", seed=2)
    times = df["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    weeks = resample_bars(df, times, "1w")
    assert (weeks["date"].dt.day_of_week.iloc[1:] == 0).all() and len(weeks) >= 4
    first = df[df["date"] < weeks["date"].iloc[1]]
    assert weeks["high"].iloc[0] == first["high"].max()
    assert weeks["volume"].iloc[0] == pytest.approx(first["volume"].sum())
