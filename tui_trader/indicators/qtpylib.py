"""Drop-in for qtpylib's indicators as Freqtrade strategies import them.

``from technical import qtpylib``, ``import freqtrade.vendor.qtpylib.indicators as qtpylib`` and
``from tui_trader.indicators import qtpylib`` give these functions, with qtpylib's names,
arguments and results (its conventions included: sample standard deviations, means over the
bars available at the start of Bollinger bands, `rolling_weighted_mean` as an EWM of `span`).
Written for tui_trader; `bench/parity_freqtrade.py` compares every function with qtpylib's own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from tui_trader.indicators.cross import crossed as _crossed

__all__ = [
    "atr", "awesome_oscillator", "bollinger_bands", "cci", "chopiness", "crossed",
    "crossed_above", "crossed_below", "heikinashi", "hma", "hull_moving_average", "ibs",
    "implied_volatility", "keltner_channel", "log_returns", "macd", "mid_price", "nans",
    "numpy_rolling_mean", "numpy_rolling_series", "numpy_rolling_std", "numpy_rolling_window",
    "pvt", "returns", "roc", "rolling_max",
    "rolling_mean", "rolling_min", "rolling_std", "rolling_vwap", "rolling_weighted_mean",
    "rsi", "session", "sma", "stoch", "tdi", "true_range", "typical_price", "vwap",
    "weighted_bollinger_bands", "wma", "zlema", "zlhma", "zlma", "zlsma", "zscore",
]  # fmt: skip


def _series(values: Any, index: Any = None) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    return pd.Series(np.asarray(values, dtype=np.float64), index=index)


def _windowed(values: Any, window: int, ddof: int | None) -> np.ndarray:
    """Mean (ddof None) or standard deviation over each full trailing window, NaN before."""
    data = np.asarray(values.values if isinstance(values, pd.Series) else values, dtype=np.float64)
    out = np.full(len(data), np.nan)
    if len(data) >= window:
        view = np.lib.stride_tricks.sliding_window_view(data, window)
        out[window - 1 :] = view.mean(axis=-1) if ddof is None else view.std(axis=-1, ddof=ddof)
    return out


def numpy_rolling_window(data: np.ndarray, window: int) -> np.ndarray:
    """Every full trailing window of `data` as rows of a read-only view."""
    return np.lib.stride_tricks.sliding_window_view(np.asarray(data), window)


def numpy_rolling_series(func: Any) -> Any:
    """Decorator: `func(values, window)` over full windows, NaN-padded to the input's length
    (a Series when `as_source=True` and the input is one)."""

    def wrapped(data: Any, window: int, as_source: bool = False) -> Any:
        values = data.values if isinstance(data, pd.Series) else np.asarray(data)
        out = np.full(len(values), np.nan)
        computed = func(values, window)
        if len(computed):
            out[-len(computed) :] = computed
        return pd.Series(out, index=data.index) if as_source and isinstance(data, pd.Series) else out

    return wrapped


def numpy_rolling_mean(data: Any, window: int, as_source: bool = False) -> Any:
    out = _windowed(data, window, None)
    return pd.Series(out, index=data.index) if as_source and isinstance(data, pd.Series) else out


def numpy_rolling_std(data: Any, window: int, as_source: bool = False) -> Any:
    out = _windowed(data, window, 1)
    return pd.Series(out, index=data.index) if as_source and isinstance(data, pd.Series) else out


def nans(length: int = 1) -> np.ndarray:
    return np.full(length, np.nan)


def session(df: pd.DataFrame, start: str = "17:00", end: str = "16:00") -> pd.DataFrame:
    """The rows of the current trading session (a globex-style session spans midnight)."""
    if df.empty:
        return df
    sh, sm = (int(x) for x in start.split(":"))
    eh, em = (int(x) for x in end.split(":"))
    same_day = eh + em / 100 > (sh + sm - 1 / 100) - 0.0001
    last = df.index[-1]
    today = last.strftime("%Y-%m-%d")
    first_day = today if same_day else (datetime.strptime(today, "%Y-%m-%d") - timedelta(1)).strftime("%Y-%m-%d")
    now = last.hour + df.index[0].minute / 100
    begin = today if now >= (sh + sm - 1 / 100) - 0.0001 else first_day
    return df[df.index >= f"{begin} {start}"].copy()


def heikinashi(bars: pd.DataFrame) -> pd.DataFrame:
    """Heikin-Ashi candles: open, high, low, close on the bars' index."""
    o, h, lo, c = (bars[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close"))
    ha_close = (o + h + lo + c) / 4
    ha_open = np.empty(len(o))
    if len(o):
        ha_open[0] = (o[0] + c[0]) / 2
        for i in range(1, len(o)):
            ha_open[i] = (ha_open[i - 1] + ha_close[i - 1]) / 2
    return pd.DataFrame(
        {
            "open": ha_open,
            "high": np.maximum.reduce([h, ha_open, ha_close]),
            "low": np.minimum.reduce([lo, ha_open, ha_close]),
            "close": ha_close,
        },
        index=bars.index,
    )


def tdi(series: pd.Series, rsi_lookback: int = 13, rsi_smooth_len: int = 2, rsi_signal_len: int = 7,
        bb_lookback: int = 34, bb_std: float = 1.6185) -> pd.DataFrame:  # fmt: skip
    """Traders Dynamic Index: qtpylib's RSI, its smoothings and Bollinger bands."""
    r = rsi(series, rsi_lookback)
    bands = bollinger_bands(r, bb_lookback, bb_std)
    return pd.DataFrame(
        {
            "rsi": r, "rsi_signal": sma(r, rsi_signal_len), "rsi_smooth": sma(r, rsi_smooth_len),
            "rsi_bb_upper": bands["upper"], "rsi_bb_lower": bands["lower"],
            "rsi_bb_mid": bands["mid"],
        },
        index=series.index,
    )  # fmt: skip


def awesome_oscillator(df: pd.DataFrame, weighted: bool = False, fast: int = 5, slow: int = 34) -> pd.Series:
    mid = (df["high"] + df["low"]) / 2
    if weighted:
        values = (mid.ewm(fast).mean() - mid.ewm(slow).mean()).to_numpy()
    else:
        values = _windowed(mid, fast, None) - _windowed(mid, slow, None)
    return pd.Series(values, index=df.index)


def typical_price(bars: pd.DataFrame) -> pd.Series:
    return pd.Series((bars["high"] + bars["low"] + bars["close"]) / 3.0, index=bars.index)


def mid_price(bars: pd.DataFrame) -> pd.Series:
    return pd.Series((bars["high"] + bars["low"]) / 2.0, index=bars.index)


def ibs(bars: pd.DataFrame) -> pd.Series:
    """Internal bar strength: where the close sits in the bar's range, two decimals."""
    return pd.Series(np.round((bars["close"] - bars["low"]) / (bars["high"] - bars["low"]), 2), index=bars.index)


def true_range(bars: pd.DataFrame) -> pd.Series:
    prev = bars["close"].shift(1)
    return pd.concat(
        [bars["high"] - bars["low"], (bars["high"] - prev).abs(), (bars["low"] - prev).abs()], axis=1
    ).max(axis=1)


def atr(bars: pd.DataFrame, window: int = 14, exp: bool = False) -> pd.Series:
    """Average true range: a simple mean of the true range, or its EWM with `exp`."""
    tr = true_range(bars)
    return pd.Series(rolling_weighted_mean(tr, window) if exp else rolling_mean(tr, window))


def crossed(series1: Any, series2: Any, direction: str | None = None) -> pd.Series:
    return _crossed(series1, series2, direction)


def crossed_above(series1: Any, series2: Any) -> pd.Series:
    return _crossed(series1, series2, "above")


def crossed_below(series1: Any, series2: Any) -> pd.Series:
    return _crossed(series1, series2, "below")


def _min_periods(window: Any, min_periods: Any) -> Any:
    return window if min_periods is None else min_periods


def rolling_std(series: Any, window: int = 200, min_periods: int | None = None) -> pd.Series:
    """Sample standard deviation over `window` bars (qtpylib's: ddof 1)."""
    min_periods = _min_periods(window, min_periods)
    values = _series(series)
    if min_periods == window and len(values) > window:  # qtpylib's NumPy path
        return pd.Series(_windowed(values, window, 1), index=values.index)
    return values.rolling(window=window, min_periods=min_periods).std()


def rolling_mean(series: Any, window: int = 200, min_periods: int | None = None) -> pd.Series:
    min_periods = _min_periods(window, min_periods)
    values = _series(series)
    if min_periods == window and len(values) > window:  # qtpylib's NumPy path
        return pd.Series(_windowed(values, window, None), index=values.index)
    return values.rolling(window=window, min_periods=min_periods).mean()


def rolling_min(series: Any, window: int = 14, min_periods: int | None = None) -> pd.Series:
    min_periods = _min_periods(window, min_periods)
    return _series(series).rolling(window=window, min_periods=min_periods).min()


def rolling_max(series: Any, window: int = 14, min_periods: int | None = None) -> pd.Series:
    min_periods = _min_periods(window, min_periods)
    return _series(series).rolling(window=window, min_periods=min_periods).max()


def rolling_weighted_mean(series: Any, window: float = 200, min_periods: Any = None) -> pd.Series:
    """qtpylib's "weighted" mean: an exponential mean with span `window`."""
    min_periods = _min_periods(window, min_periods)
    return _series(series).ewm(span=window, min_periods=min_periods).mean()


def hull_moving_average(series: Any, window: int = 200, min_periods: Any = None) -> pd.Series:
    min_periods = _min_periods(window, min_periods)
    ma = 2 * rolling_weighted_mean(series, window / 2, min_periods) - rolling_weighted_mean(series, window, min_periods)
    return rolling_weighted_mean(ma, np.sqrt(window), min_periods)


def sma(series: Any, window: int = 200, min_periods: int | None = None) -> pd.Series:
    return rolling_mean(series, window=window, min_periods=min_periods)


def wma(series: Any, window: float = 200, min_periods: Any = None) -> pd.Series:
    return rolling_weighted_mean(series, window=window, min_periods=min_periods)


def hma(series: Any, window: int = 200, min_periods: Any = None) -> pd.Series:
    return hull_moving_average(series, window=window, min_periods=min_periods)


def vwap(bars: pd.DataFrame) -> pd.Series:
    """Refused, as qtpylib refuses it: a VWAP of the whole history reads the future."""
    raise ValueError(
        "qtpylib.vwap reads the future (a VWAP over the whole history); use "
        "qtpylib.rolling_vwap, which looks back `window` bars"
    )


def rolling_vwap(bars: pd.DataFrame, window: int = 200, min_periods: int | None = None) -> pd.Series:
    min_periods = _min_periods(window, min_periods)
    typical = (bars["high"] + bars["low"] + bars["close"]) / 3
    volume = bars["volume"]
    left = (volume * typical).rolling(window=window, min_periods=min_periods).sum()
    right = volume.rolling(window=window, min_periods=min_periods).sum()
    return pd.Series(left / right, index=bars.index).replace([np.inf, -np.inf], np.nan).ffill()


def rsi(series: pd.Series, window: int = 14) -> pd.Series:
    """qtpylib's RSI: Wilder's smoothing seeded with the first `window` + 1 changes."""
    values = np.asarray(series, dtype=np.float64)
    deltas = np.diff(values)
    seed = deltas[: window + 1]
    ups = seed[seed > 0].sum() / window
    downs = -seed[seed < 0].sum() / window
    out = np.zeros_like(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:window] = 100.0 - 100.0 / (1.0 + ups / downs)
        for i in range(window, len(values)):
            delta = deltas[i - 1]
            up, down = (delta, 0.0) if delta > 0 else (0.0, -delta)
            ups = (ups * (window - 1) + up) / window
            downs = (downs * (window - 1.0) + down) / window
            out[i] = 100.0 - 100.0 / (1.0 + ups / downs)
    return pd.Series(out, index=series.index)


def macd(series: pd.Series, fast: int = 3, slow: int = 10, smooth: int = 16) -> pd.DataFrame:
    line = rolling_weighted_mean(series, window=fast) - rolling_weighted_mean(series, window=slow)
    signal = rolling_weighted_mean(line, window=smooth)
    return pd.DataFrame(
        {"macd": line.to_numpy(), "signal": signal.to_numpy(), "histogram": (line - signal).to_numpy()},
        index=series.index,
    )


def bollinger_bands(series: Any, window: int = 20, stds: float = 2) -> pd.DataFrame:
    """Mean +/- `stds` sample deviations; from the first bar on (means of the bars so far)."""
    mid = rolling_mean(series, window=window, min_periods=1)
    std = rolling_std(series, window=window, min_periods=1)
    return pd.DataFrame({"upper": mid + std * stds, "mid": mid, "lower": mid - std * stds}, index=_series(series).index)


def weighted_bollinger_bands(series: Any, window: int = 20, stds: float = 2) -> pd.DataFrame:
    ema = rolling_weighted_mean(series, window=window)
    std = rolling_std(series, window=window)
    return pd.DataFrame(
        {"upper": (ema + std * stds).to_numpy(), "mid": ema.to_numpy(), "lower": (ema - std * stds).to_numpy()},
        index=_series(series).index,
    )


def returns(series: pd.Series) -> pd.Series:
    return pd.Series((series / series.shift(1) - 1).replace([np.inf, -np.inf], np.nan), index=series.index)


def log_returns(series: pd.Series) -> pd.Series:
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.log(series / series.shift(1))
    return pd.Series(values.replace([np.inf, -np.inf], np.nan), index=series.index)


def implied_volatility(series: pd.Series, window: int = 252) -> pd.Series:
    logret = log_returns(series)
    return pd.Series(_windowed(logret, window, 1) * np.sqrt(window), index=series.index)


def keltner_channel(bars: pd.DataFrame, window: int = 14, atrs: float = 2) -> pd.DataFrame:
    mid = rolling_mean(typical_price(bars), window)
    band = atr(bars, window) * atrs
    return pd.DataFrame(
        {"upper": (mid + band).to_numpy(), "mid": mid.to_numpy(), "lower": (mid - band).to_numpy()},
        index=bars.index,
    )


def roc(series: pd.Series, window: int = 14) -> pd.Series:
    before = series.shift(window)
    return pd.Series((series - before) / before, index=series.index)


def cci(series: pd.DataFrame, window: int = 14) -> pd.Series:
    """qtpylib's CCI (note: it divides by the deviation of the mean over the whole frame)."""
    price = typical_price(series)
    mean = rolling_mean(price, window)
    return pd.Series((price - mean) / (0.015 * np.std(mean)), index=series.index)


def stoch(df: pd.DataFrame, window: int = 14, d: int = 3, k: int = 3, fast: bool = False) -> pd.DataFrame:
    high = df["high"].rolling(window).max()
    low = df["low"].rolling(window).min()
    fast_k = 100 * (df["close"] - low) / (high - low)
    fast_d = fast_k.rolling(d).mean()
    if fast:
        return pd.DataFrame({"fast_k": fast_k, "fast_d": fast_d}, index=df.index)
    slow_k = fast_k.rolling(k).mean()
    return pd.DataFrame({"slow_k": slow_k, "slow_d": slow_k.rolling(d).mean()}, index=df.index)


def zlma(series: pd.Series, window: int = 20, min_periods: Any = None, kind: str = "ema") -> pd.Series:
    """Ehlers' zero-lag moving average of `kind` ema, hma or sma."""
    min_periods = _min_periods(window, min_periods)
    lag = (window - 1) // 2
    shifted = 2 * series - series.shift(lag)
    if kind in ("ewm", "ema"):
        return wma(shifted, lag, min_periods)
    if kind == "hma":
        return hma(shifted, lag, min_periods)
    return sma(shifted, lag, min_periods)


def zlema(series: pd.Series, window: int, min_periods: Any = None) -> pd.Series:
    return zlma(series, window, min_periods, kind="ema")


def zlsma(series: pd.Series, window: int, min_periods: Any = None) -> pd.Series:
    return zlma(series, window, min_periods, kind="sma")


def zlhma(series: pd.Series, window: int, min_periods: Any = None) -> pd.Series:
    return zlma(series, window, min_periods, kind="hma")


def zscore(bars: pd.DataFrame, window: int = 20, stds: float = 1, col: str = "close") -> pd.Series:
    values = bars[col]
    return (values - _windowed(values, window, None)) / (_windowed(values, window, 1) * stds)


def pvt(bars: pd.DataFrame) -> pd.Series:
    """Price-volume trend."""
    prev = bars["close"].shift(1)
    return ((bars["close"] - prev) / prev * bars["volume"]).cumsum()


def chopiness(bars: pd.DataFrame, window: int = 14) -> pd.Series:
    total = true_range(bars).rolling(window).sum()
    span = bars["high"].rolling(window).max() - bars["low"].rolling(window).min()
    return 100 * np.log10(total / span) / np.log10(window)
