"""Each custom indicator against a plain-loop calculation written here, on seeded candles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tui_trader import indicators as ta
from tui_trader.core.errors import DataError, UserError

NAN = math.nan


def close_to(actual, expected) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float),
        np.asarray(expected, dtype=float),
        rtol=1e-9,
        atol=1e-9,
        equal_nan=True,
    )


def rows(df: pd.DataFrame) -> list[tuple]:
    return list(zip(df["date"], df["high"], df["low"], df["close"], df["volume"], strict=True))


# ---- reference calculations: one bar at a time, nothing vectorised ------------------------


def ref_ema(x: list[float], n: int) -> list[float]:
    """EMA seeded with the SMA of the first n values (TA-Lib's convention)."""
    out = [NAN] * len(x)
    if len(x) < n:
        return out
    value = sum(x[:n]) / n
    out[n - 1] = value
    alpha = 2.0 / (n + 1)
    for i in range(n, len(x)):
        value = value + alpha * (x[i] - value)
        out[i] = value
    return out


def ref_atr(h: list[float], lo: list[float], c: list[float], n: int) -> list[float]:
    """Wilder's ATR: first value the mean of true ranges 1..n, then (prev*(n-1)+tr)/n."""
    tr = [NAN] + [
        max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1])) for i in range(1, len(c))
    ]
    out = [NAN] * len(c)
    value = sum(tr[1 : n + 1]) / n
    out[n] = value
    for i in range(n + 1, len(c)):
        value = (value * (n - 1) + tr[i]) / n
        out[i] = value
    return out


def ref_rsi(c: list[float], n: int) -> list[float]:
    out = [NAN] * len(c)
    gains = [max(c[i] - c[i - 1], 0.0) for i in range(1, len(c))]
    losses = [max(c[i - 1] - c[i], 0.0) for i in range(1, len(c))]
    avg_gain, avg_loss = sum(gains[:n]) / n, sum(losses[:n]) / n
    out[n] = 100.0 * avg_gain / (avg_gain + avg_loss)
    for i in range(n + 1, len(c)):
        avg_gain = (avg_gain * (n - 1) + gains[i - 1]) / n
        avg_loss = (avg_loss * (n - 1) + losses[i - 1]) / n
        out[i] = 100.0 * avg_gain / (avg_gain + avg_loss)
    return out


def ref_sma(x: list[float], n: int) -> list[float]:
    out = [NAN] * len(x)
    for i in range(n - 1, len(x)):
        window = x[i - n + 1 : i + 1]
        out[i] = sum(window) / n  # NaN in the window gives NaN
    return out


def ref_window(x: list[float], n: int, pick) -> list[float]:
    return [pick(x[i - n + 1 : i + 1]) if i >= n - 1 else NAN for i in range(len(x))]


# ---- the indicators ------------------------------------------------------------------------


def test_reference_helpers_agree_with_talib(candles) -> None:
    """The loops above are TA-Lib's definitions (so the comparisons below mean something)."""
    import talib

    h, lo, c = (candles[k].tolist() for k in ("high", "low", "close"))
    close_to(ref_ema(c, 20), talib.EMA(np.array(c), 20))
    close_to(ref_atr(h, lo, c, 14), talib.ATR(np.array(h), np.array(lo), np.array(c), 14))
    close_to(ref_rsi(c, 14), talib.RSI(np.array(c), 14))


@pytest.mark.parametrize("anchor", ["day", "week", "london", "New York"])
def test_session_vwap_matches_running_sums(candles, anchor) -> None:
    hours = {"london": (7, 16), "New York": (12, 21)}
    expected, current, pv, vol = [], None, 0.0, 0.0
    for date, h, lo, c, v in rows(candles):
        if anchor in hours:
            start, end = hours[anchor]
            if not start <= date.hour < end:
                expected.append(NAN)
                continue
            key = date.date()
        else:
            key = date.date() if anchor == "day" else date.isocalendar()[:2]
        if key != current:
            current, pv, vol = key, 0.0, 0.0
        pv += (h + lo + c) / 3.0 * v
        vol += v
        expected.append(pv / vol if vol > 0 else NAN)
    result = ta.session_vwap(candles, anchor=anchor)
    assert result.index.equals(candles.index)
    close_to(result, expected)
    assert result.notna().sum() > 100


def test_session_vwap_zero_volume_is_nan(make_candles) -> None:
    df = make_candles(n=96)
    df.loc[df.index[:3], "volume"] = 0.0
    out = ta.session_vwap(df)
    assert out.iloc[:3].isna().all() and out.iloc[3:].notna().all()


@pytest.mark.parametrize("lookback", [1, 20, 50])
def test_fibonacci_matches_window_scan(candles, lookback) -> None:
    high, low = candles["high"].tolist(), candles["low"].tolist()
    levels = (0.0, 0.382, 0.618, 1.0)
    out = ta.fibonacci_retracements(candles, lookback=lookback, levels=levels)
    assert list(out.columns) == [
        "swing_high",
        "swing_low",
        "trend",
        "fib_0",
        "fib_382",
        "fib_618",
        "fib_1000",
    ]
    for i in range(len(candles)):
        row = out.iloc[i]
        if i < lookback - 1:
            assert row.isna().all()
            continue
        hi, hi_at, lo, lo_at = -math.inf, -1, math.inf, -1
        for j in range(i - lookback + 1, i + 1):
            if high[j] >= hi:
                hi, hi_at = high[j], j
            if low[j] <= lo:
                lo, lo_at = low[j], j
        up = hi_at >= lo_at
        assert row["swing_high"] == hi and row["swing_low"] == lo
        assert row["trend"] == (1 if up else -1)
        for r in levels:
            want = hi - r * (hi - lo) if up else lo + r * (hi - lo)
            assert row[f"fib_{round(r * 1000)}"] == pytest.approx(want, rel=1e-12)


def test_fibonacci_known_swing(make_candles) -> None:
    """A straight rally from 100 to 110: the 61.8 % retracement of an up-swing is 103.82."""
    df = make_candles(n=11)
    df["high"] = np.linspace(100, 110, 11)
    df["low"] = df["high"] - 0.0
    out = ta.fibonacci_retracements(df, lookback=11).iloc[-1]
    assert out["trend"] == 1
    assert out["fib_618"] == pytest.approx(110 - 0.618 * 10)
    assert out["fib_0"] == 110 and out["fib_1000"] == 100


def _previous_hlc_by(candles: pd.DataFrame, key) -> list[tuple[float, float, float]]:
    stats: dict = {}
    order: list = []
    for date, h, lo, c, _ in rows(candles):
        k = key(date)
        if k not in stats:
            stats[k] = [h, lo, c]
            order.append(k)
        else:
            stats[k] = [max(stats[k][0], h), min(stats[k][1], lo), c]
    prev = {k: (stats[order[i - 1]] if i else (NAN, NAN, NAN)) for i, k in enumerate(order)}
    return [tuple(prev[key(d)]) for d in candles["date"]]


@pytest.mark.parametrize("period", ["day", "week"])
def test_classic_pivots_from_previous_period(candles, period) -> None:
    key = (lambda d: d.date()) if period == "day" else (lambda d: d.isocalendar()[:2])
    prev = _previous_hlc_by(candles, key)
    out = ta.pivot_points(candles, method="classic", period=period)
    for (h, lo, c), (_, row) in zip(prev, out.iterrows(), strict=True):
        p = (h + lo + c) / 3
        want = {
            "pivot": p,
            "r1": 2 * p - lo,
            "s1": 2 * p - h,
            "r2": p + (h - lo),
            "s2": p - (h - lo),
            "r3": h + 2 * (p - lo),
            "s3": lo - 2 * (h - p),
        }
        close_to([row[k] for k in want], list(want.values()))
    assert out["pivot"].notna().sum() > len(out) // 2


def test_camarilla_pivots_from_previous_day(candles) -> None:
    prev = _previous_hlc_by(candles, lambda d: d.date())
    out = ta.pivot_points(candles, method="camarilla")
    assert list(out.columns) == ["pivot", "r1", "r2", "r3", "r4", "s1", "s2", "s3", "s4"]
    for (h, lo, c), (_, row) in zip(prev, out.iterrows(), strict=True):
        rng = h - lo
        want = [
            (h + lo + c) / 3,
            c + rng * 1.1 / 12,
            c + rng * 1.1 / 6,
            c + rng * 1.1 / 4,
            c + rng * 1.1 / 2,
            c - rng * 1.1 / 12,
            c - rng * 1.1 / 6,
            c - rng * 1.1 / 4,
            c - rng * 1.1 / 2,
        ]
        close_to(row.to_numpy(), want)


def test_pivots_known_day(make_candles) -> None:
    """Yesterday H=110, L=90, C=105: classic P=101.667, R1=113.333, S1=93.333."""
    df = make_candles(n=48, freq="1h", start="2024-03-04")
    df["high"], df["low"], df["close"] = 100.0, 100.0, 100.0
    df.loc[df.index[3], "high"] = 110.0
    df.loc[df.index[5], "low"] = 90.0
    df.loc[df.index[23], "close"] = 105.0
    row = ta.pivot_points(df).iloc[30]
    assert row["pivot"] == pytest.approx(305 / 3)
    assert row["r1"] == pytest.approx(2 * 305 / 3 - 90)
    assert row["s1"] == pytest.approx(2 * 305 / 3 - 110)


def ref_supertrend(df: pd.DataFrame, period: int, mult: float) -> tuple[list, list]:
    """TradingView's Pine v4 Supertrend, line by line."""
    h, lo, c = df["high"].tolist(), df["low"].tolist(), df["close"].tolist()
    atr = ref_atr(h, lo, c, period)
    line, direction = [], []
    up_prev = dn_prev = None
    trend = 1
    for i in range(len(c)):
        if math.isnan(atr[i]):
            line.append(NAN)
            direction.append(0)
            continue
        up = (h[i] + lo[i]) / 2 - mult * atr[i]
        dn = (h[i] + lo[i]) / 2 + mult * atr[i]
        up1 = up if up_prev is None else up_prev  # nz(up[1], up)
        dn1 = dn if dn_prev is None else dn_prev
        up = max(up, up1) if c[i - 1] > up1 else up
        dn = min(dn, dn1) if c[i - 1] < dn1 else dn
        trend = (
            1 if (trend == -1 and c[i] > dn1) else (-1 if (trend == 1 and c[i] < up1) else trend)
        )
        line.append(up if trend == 1 else dn)
        direction.append(trend)
        up_prev, dn_prev = up, dn
    return line, direction


@pytest.mark.parametrize(("period", "mult"), [(10, 3.0), (7, 1.5), (3, 0.5)])
def test_supertrend_matches_pine(candles, period, mult) -> None:
    line, direction = ref_supertrend(candles, period, mult)
    out = ta.supertrend(candles, period=period, multiplier=mult)
    close_to(out["supertrend"], line)
    assert out["direction"].tolist() == direction
    assert set(out["direction"].iloc[period:]) == {1, -1}  # both regimes were exercised


def test_supertrend_direction_on_trends(make_candles) -> None:
    df = make_candles(n=120)
    ramp = np.r_[np.linspace(100, 160, 60), np.linspace(160, 100, 60)]
    df["close"], df["high"], df["low"] = ramp, ramp + 0.5, ramp - 0.5
    out = ta.supertrend(df, period=10, multiplier=3.0)
    assert (out["direction"].iloc[15:60] == 1).all()
    assert (out["supertrend"].iloc[15:60] < df["close"].iloc[15:60]).all()
    assert (out["direction"].iloc[-20:] == -1).all()
    assert (out["supertrend"].iloc[-20:] > df["close"].iloc[-20:]).all()


def test_keltner_matches_ema_and_atr_loops(candles) -> None:
    h, lo, c = (candles[k].tolist() for k in ("high", "low", "close"))
    ema, atr = ref_ema(c, 20), ref_atr(h, lo, c, 10)
    out = ta.keltner_channels(candles, period=20, multiplier=2.0, atr_period=10)
    close_to(out["mid"], ema)
    close_to(out["upper"], [m + 2 * a for m, a in zip(ema, atr, strict=True)])
    close_to(out["lower"], [m - 2 * a for m, a in zip(ema, atr, strict=True)])


def test_ichimoku_matches_window_loops(candles) -> None:
    h, lo, c = (candles[k].tolist() for k in ("high", "low", "close"))

    def mid(n: int) -> list[float]:
        hh, ll = ref_window(h, n, max), ref_window(lo, n, min)
        return [(a + b) / 2 for a, b in zip(hh, ll, strict=True)]

    def shift(x: list[float], k: int) -> list[float]:
        return [x[i - k] if 0 <= i - k < len(x) else NAN for i in range(len(x))]

    tenkan, kijun, span_b = mid(9), mid(26), mid(52)
    out = ta.ichimoku(candles)
    close_to(out["tenkan"], tenkan)
    close_to(out["kijun"], kijun)
    close_to(out["senkou_a"], shift([(a + b) / 2 for a, b in zip(tenkan, kijun, strict=True)], 26))
    close_to(out["senkou_b"], shift(span_b, 26))
    close_to(out["chikou"], shift(c, -26))


def test_stoch_rsi_matches_loops(candles) -> None:
    rsi = ref_rsi(candles["close"].tolist(), 14)
    lowest, highest = ref_window(rsi, 14, min), ref_window(rsi, 14, max)
    stoch = [
        100 * (r - lo) / (hi - lo) if hi - lo > 0 else NAN
        for r, lo, hi in zip(rsi, lowest, highest, strict=True)
    ]
    k = ref_sma(stoch, 3)
    d = ref_sma(k, 3)
    out = ta.stoch_rsi(candles)
    close_to(out["k"], k)
    close_to(out["d"], d)
    valid = out["k"].dropna()
    assert len(valid) > 500 and valid.between(0, 100).all()
    close_to(ta.stoch_rsi(candles["close"])["k"], k)  # a Series works too


def test_session_ranges_match_running_state(candles) -> None:
    out = ta.session_ranges(candles)
    for name, (start, end) in {"asia": (0, 9), "london": (7, 16), "new_york": (12, 21)}.items():
        key, hi, lo = None, NAN, NAN
        highs, lows, inside_flags = [], [], []
        for date, h, low, _, _ in rows(candles):
            inside = start <= date.hour < end
            if inside:
                if date.date() != key:
                    key, hi, lo = date.date(), h, low
                else:
                    hi, lo = max(hi, h), min(lo, low)
            highs.append(hi)
            lows.append(lo)
            inside_flags.append(inside)
        close_to(out[f"{name}_high"], highs)
        close_to(out[f"{name}_low"], lows)
        assert out[f"in_{name}"].tolist() == inside_flags
    assert ta.in_session(candles, "london").tolist() == out["in_london"].tolist()


def test_crossings_match_loop() -> None:
    a = pd.Series([1.0, 2.0, 3.0, 2.0, 2.0, 3.0, 1.0], index=list("abcdefg"))
    b = pd.Series([2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], index=a.index)
    above = [i > 0 and a.iloc[i] > b.iloc[i] and a.iloc[i - 1] <= b.iloc[i - 1] for i in range(7)]
    below = [i > 0 and a.iloc[i] < b.iloc[i] and a.iloc[i - 1] >= b.iloc[i - 1] for i in range(7)]
    assert (
        ta.crossed_above(a, b).tolist() == above == [False, False, True, False, False, True, False]
    )
    assert ta.crossed_below(a, b).tolist() == below
    assert ta.crossed_above(a, 2.0).tolist() == above  # scalar b
    assert ta.crossed(a, b).tolist() == [x or y for x, y in zip(above, below, strict=True)]
    assert ta.crossed_above(a, b).index.equals(a.index)


def test_bollinger_and_typical_price(candles) -> None:
    tp = ta.typical_price(candles)
    close_to(tp, [(h + lo + c) / 3 for _, h, lo, c, _ in rows(candles)])
    x = tp.tolist()
    out = ta.bollinger_bands(tp, window=20, stds=2)
    assert list(out.columns) == ["lower", "mid", "upper"]
    for i in range(19, len(x)):
        w = x[i - 19 : i + 1]
        m = sum(w) / 20
        sd = math.sqrt(sum((v - m) ** 2 for v in w) / 20)
        assert out["mid"].iloc[i] == pytest.approx(m)
        assert out["upper"].iloc[i] == pytest.approx(m + 2 * sd)
        assert out["lower"].iloc[i] == pytest.approx(m - 2 * sd)
    assert out.iloc[:19].isna().all().all()
    from tui_trader.indicators import qtpylib

    # qtpylib's own convention (sample deviation, means from the first bar): Freqtrade
    # strategies that import it get its numbers, not TA-Lib's
    q = qtpylib.bollinger_bands(tp, window=20, stds=2)
    for i in range(len(x)):
        w = x[max(0, i - 19) : i + 1]
        m = sum(w) / len(w)
        assert q["mid"].iloc[i] == pytest.approx(m)
        if len(w) > 1:
            sd = math.sqrt(sum((v - m) ** 2 for v in w) / (len(w) - 1))
            assert q["upper"].iloc[i] == pytest.approx(m + 2 * sd)


def test_user_mistakes_are_one_line_errors(make_candles) -> None:
    df = make_candles(n=50)
    with pytest.raises(DataError, match="timezone-aware"):
        ta.session_vwap(df.assign(date=df["date"].dt.tz_localize(None)))
    with pytest.raises(DataError, match="sorted"):
        ta.pivot_points(df.iloc[::-1])
    with pytest.raises(DataError, match="volume"):
        ta.session_vwap(df.drop(columns="volume"))
    with pytest.raises(UserError, match="unknown anchor"):
        ta.session_vwap(df, anchor="tuesday")
    with pytest.raises(UserError, match="period"):
        ta.supertrend(df, period=0)
    with pytest.raises(UserError, match="camarilla"):
        ta.pivot_points(df, method="woodie")
    with pytest.raises(UserError, match="unknown session"):
        ta.session_ranges(df, sessions=["sydney"])


def test_crossings_match_qtpylibs_definition_with_gaps_and_scalars() -> None:
    """qtpylib's own definition, (a > b) & (a.shift(1) <= b.shift(1)), on values with NaNs,
    ties and a scalar, without the shifted copies."""
    rng = np.random.default_rng(5)
    a = pd.Series(np.round(rng.normal(0, 1, 400), 1))
    b = pd.Series(np.round(rng.normal(0, 1, 400), 1))
    a[[0, 7, 8, 100]] = np.nan
    b[[3, 8, 250]] = np.nan
    for other in (b, 0.0, b.to_numpy()):
        ref = other if not isinstance(other, np.ndarray) else pd.Series(other)
        prev = ref.shift(1) if isinstance(ref, pd.Series) else ref
        above = (a > ref) & (a.shift(1) <= prev)
        below = (a < ref) & (a.shift(1) >= prev)
        if not isinstance(ref, pd.Series):  # a scalar has no bar before the first either
            above.iloc[0] = below.iloc[0] = False
        assert ta.crossed_above(a, other).tolist() == above.tolist()
        assert ta.crossed_below(a, other).tolist() == below.tolist()
        assert ta.crossed(a, other).tolist() == (above | below).tolist()
    with pytest.raises(UserError, match="400 values against 3"):
        ta.crossed_above(a, np.array([1.0, 2.0, 3.0]))
