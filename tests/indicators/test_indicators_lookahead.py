"""No custom indicator peeks at the future: rewriting later bars never changes earlier values."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from tui_trader import indicators as ta

CASES: dict[str, Callable[[pd.DataFrame], pd.Series | pd.DataFrame]] = {
    "vwap_day": lambda df: ta.session_vwap(df),
    "vwap_week": lambda df: ta.session_vwap(df, anchor="week"),
    "vwap_london": lambda df: ta.session_vwap(df, anchor="london"),
    "fibonacci": lambda df: ta.fibonacci_retracements(df, lookback=40),
    "pivots_classic": lambda df: ta.pivot_points(df),
    "pivots_camarilla_week": lambda df: ta.pivot_points(df, method="camarilla", period="week"),
    "supertrend": lambda df: ta.supertrend(df, period=10, multiplier=2.0),
    "keltner": lambda df: ta.keltner_channels(df),
    # chikou is close shifted back: documented look-ahead, checked separately below
    "ichimoku": lambda df: ta.ichimoku(df).drop(columns="chikou"),
    "stoch_rsi": lambda df: ta.stoch_rsi(df),
    "session_ranges": lambda df: ta.session_ranges(df),
    "bollinger_bands": lambda df: ta.bollinger_bands(ta.typical_price(df), 20, 2),
    "crossed_above": lambda df: ta.crossed_above(df["close"], df["open"]),
}


def _rewrite_future(df: pd.DataFrame, cut: int, seed: int) -> pd.DataFrame:
    """A copy whose bars after position `cut` are replaced by a different random walk."""
    rng = np.random.default_rng(seed)
    out = df.copy()
    n = len(df) - cut - 1
    close = df["close"].iloc[cut] + np.cumsum(rng.normal(0.0, 3.0, n))
    open_ = close + rng.normal(0.0, 0.5, n)
    pos = slice(cut + 1, None)
    out.iloc[pos, out.columns.get_loc("close")] = close
    out.iloc[pos, out.columns.get_loc("open")] = open_
    out.iloc[pos, out.columns.get_loc("high")] = np.maximum(open_, close) + rng.exponential(2, n)
    out.iloc[pos, out.columns.get_loc("low")] = np.minimum(open_, close) - rng.exponential(2, n)
    out.iloc[pos, out.columns.get_loc("volume")] = rng.integers(1, 5000, n).astype(float)
    return out


def _same(a: pd.Series | pd.DataFrame, b: pd.Series | pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        pd.DataFrame(a), pd.DataFrame(b), check_exact=False, rtol=1e-12, atol=1e-12
    )


@pytest.fixture
def month_of_candles(make_candles) -> pd.DataFrame:
    """A month of 15-minute bars without Saturdays: a week and more after every cut point."""
    frame = make_candles(n=3000)
    return frame[frame["date"].dt.day_of_week != 5]


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("cut", [130, 1000, 1900])
def test_future_bars_do_not_change_the_past(month_of_candles, name, cut) -> None:
    candles = month_of_candles
    compute = CASES[name]
    full = compute(candles)
    changed = compute(_rewrite_future(candles, cut, seed=cut))
    truncated = compute(candles.iloc[: cut + 1])
    _same(changed.iloc[: cut + 1], full.iloc[: cut + 1])
    _same(truncated, full.iloc[: cut + 1])
    # the rewrite really reached the indicator: later values differ somewhere
    assert not pd.DataFrame(changed).iloc[cut + 1 :].equals(pd.DataFrame(full).iloc[cut + 1 :])


def test_monthly_pivots_use_only_finished_months(make_candles) -> None:
    df = make_candles(n=24 * 75, freq="1h", start="2024-01-20")
    cut = 24 * 50  # 2024-03-10: February is finished, March is not
    full = ta.pivot_points(df, period="month")
    changed = ta.pivot_points(_rewrite_future(df, cut, seed=3), period="month")
    _same(changed.iloc[: cut + 1], full.iloc[: cut + 1])
    march = df["date"].dt.month == 3
    feb = df[df["date"].dt.month == 2]
    expected_pivot = (feb["high"].max() + feb["low"].min() + feb["close"].iloc[-1]) / 3
    assert np.allclose(full.loc[march, "pivot"], expected_pivot)
    assert full["pivot"].iloc[: 24 * 12].isna().all()  # January has no previous month here


def test_chikou_is_the_documented_look_ahead(candles) -> None:
    """The check above can fail: chikou (close shifted back 26 bars) does see the future."""
    cut = 400
    full = ta.ichimoku(candles)["chikou"]
    changed = ta.ichimoku(_rewrite_future(candles, cut, seed=1))["chikou"]
    assert not np.allclose(changed.iloc[cut - 25 : cut + 1], full.iloc[cut - 25 : cut + 1])
    pd.testing.assert_series_equal(changed.iloc[: cut - 25], full.iloc[: cut - 25])
    assert "never use chikou" in (ta.ichimoku.__doc__ or "")
