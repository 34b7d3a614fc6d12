"""Causal features for the direction model: every value at bar t uses bars <= t only.

The higher-timeframe block resamples to `htf_factor` x the timeframe, epoch-aligned, and a
base bar sees a higher bar only once that higher bar has closed (its last constituent bar
has closed), so a half-built 4h candle never leaks into a 1h row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tui_trader.core.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

RETURN_LAGS = (1, 2, 4, 8, 16)
FEATURES: tuple[str, ...] = (
    *(f"ret_{k}" for k in RETURN_LAGS),
    "rv_10",
    "rv_30",
    "rv_ratio",
    "rsi_14",
    "macd_atr",
    "macd_hist_atr",
    "bb_pctb",
    "bb_width",
    "atr_pct",
    "adx_14",
    "ema50_dist_atr",
    "range_pos_20",
    "vol_z_20",
    "body",
    "upper_wick",
    "lower_wick",
    "vwap_dist_atr",
    "htf_trend",
    "htf_ret_1",
    "htf_rsi_14",
    "tod_sin",
    "tod_cos",
    "dow_sin",
    "dow_cos",
    "sess_asia",
    "sess_london",
    "sess_ny",
)
HTF_FACTOR = 4
WARMUP = 120  # bars before features settle (EMA 50, higher-timeframe RSI 14 x 4 ...)
NS_PER_DAY = 86_400 * 1_000_000_000


def bar_times_ns(df: pd.DataFrame) -> np.ndarray:
    """Bar open times as epoch nanoseconds (from `date`, or a DatetimeIndex)."""
    from tui_trader.indicators.inputs import utc_ns

    return utc_ns(df, "ml features")


def infer_timeframe_seconds(df: pd.DataFrame, timeframe: str | None = None) -> int:
    """The bar length: the given timeframe, df.attrs["timeframe"], or the median spacing."""
    from tui_trader.data.timeframes import timeframe_to_seconds

    tf = timeframe or df.attrs.get("timeframe")
    if tf:
        return timeframe_to_seconds(tf)
    ns = bar_times_ns(df)
    if len(ns) < 2:
        raise DataError("ml features: need at least 2 candles to infer the timeframe; pass it")
    return int(np.median(np.diff(ns)) // 1_000_000_000)


def build_features(
    df: pd.DataFrame, timeframe: str | None = None, *, htf_factor: int = HTF_FACTOR
) -> pd.DataFrame:
    """The FEATURES columns for every bar of `df` (date + OHLCV), NaN during warm-up."""
    import pandas as pd
    import talib

    from tui_trader.indicators.inputs import column, require_frame
    from tui_trader.indicators.sessions import session_mask
    from tui_trader.indicators.vwap import session_vwap

    require_frame(df, ("open", "high", "low", "close", "volume"), "ml features")
    if len(df) == 0:
        raise DataError("ml features: no candles")
    step_s = infer_timeframe_seconds(df, timeframe)
    ns = bar_times_ns(df)
    o, h, lo, c = (column(df, k) for k in ("open", "high", "low", "close"))
    v = np.nan_to_num(column(df, "volume"), nan=0.0)
    if np.any(c <= 0) or np.any(~np.isfinite(c)):
        raise DataError("ml features: close prices must be positive numbers; clean the data")
    out: dict[str, np.ndarray] = {}

    logc = np.log(c)
    for k in RETURN_LAGS:
        out[f"ret_{k}"] = _lagged_diff(logc, k)
    r1 = pd.Series(out["ret_1"])
    rv10 = r1.rolling(10, min_periods=10).std().to_numpy()
    rv30 = r1.rolling(30, min_periods=30).std().to_numpy()
    out["rv_10"] = rv10
    out["rv_30"] = rv30
    out["rv_ratio"] = _ratio(rv10, rv30)

    atr = talib.ATR(h, lo, c, timeperiod=14)
    atr = np.where(atr > 0, atr, np.nan)
    out["rsi_14"] = talib.RSI(c, timeperiod=14) / 100.0 - 0.5
    macd, _signal, hist = talib.MACD(c, fastperiod=12, slowperiod=26, signalperiod=9)
    out["macd_atr"] = macd / atr
    out["macd_hist_atr"] = hist / atr
    upper, middle, lower = talib.BBANDS(c, timeperiod=20, nbdevup=2.0, nbdevdn=2.0)
    out["bb_pctb"] = _ratio(c - lower, upper - lower)
    out["bb_width"] = _ratio(upper - lower, middle)
    out["atr_pct"] = atr / c
    out["adx_14"] = talib.ADX(h, lo, c, timeperiod=14) / 100.0
    out["ema50_dist_atr"] = (c - talib.EMA(c, timeperiod=50)) / atr
    hi20 = talib.MAX(h, timeperiod=20)
    lo20 = talib.MIN(lo, timeperiod=20)
    out["range_pos_20"] = _ratio(c - lo20, hi20 - lo20)

    vs = pd.Series(v)
    vmean = vs.rolling(20, min_periods=20).mean().to_numpy()
    vstd = vs.rolling(20, min_periods=20).std().to_numpy()
    out["vol_z_20"] = _ratio(v - vmean, vstd)

    span = h - lo
    out["body"] = np.where(span > 0, (c - o) / np.where(span > 0, span, 1.0), 0.0)
    out["upper_wick"] = np.where(
        span > 0, (h - np.maximum(o, c)) / np.where(span > 0, span, 1.0), 0.0
    )
    out["lower_wick"] = np.where(
        span > 0, (np.minimum(o, c) - lo) / np.where(span > 0, span, 1.0), 0.0
    )

    frame = pd.DataFrame({"high": h, "low": lo, "close": c, "volume": v})
    frame["date"] = pd.to_datetime(ns, utc=True)
    vwap = session_vwap(frame, "day").to_numpy()
    out["vwap_dist_atr"] = (c - vwap) / atr

    out.update(_higher_timeframe(ns, c, step_s, htf_factor))

    day_frac = (ns % NS_PER_DAY) / NS_PER_DAY * 2 * np.pi
    out["tod_sin"], out["tod_cos"] = np.sin(day_frac), np.cos(day_frac)
    dow = (((ns // NS_PER_DAY) + 3) % 7) / 7.0 * 2 * np.pi  # 1970-01-01 was a Thursday
    out["dow_sin"], out["dow_cos"] = np.sin(dow), np.cos(dow)
    for col, name in (("sess_asia", "asia"), ("sess_london", "london"), ("sess_ny", "new_york")):
        out[col] = session_mask(ns, name)[0].astype("float64")

    values = np.column_stack([np.asarray(out[name], dtype="float64") for name in FEATURES])
    values[~np.isfinite(values)] = np.nan
    return pd.DataFrame(values, index=df.index, columns=list(FEATURES))


def _higher_timeframe(
    ns: np.ndarray, close: np.ndarray, step_s: int, factor: int
) -> dict[str, np.ndarray]:
    """Trend, last return and RSI of the last CLOSED higher-timeframe bar, per base bar."""
    import talib

    step_ns = step_s * 1_000_000_000
    htf_ns = step_ns * factor
    bucket = ns // htf_ns
    # the last base bar of each bucket carries the bucket's close
    last_of_bucket = np.r_[bucket[1:] != bucket[:-1], True]
    buckets = bucket[last_of_bucket]
    htf_close = close[last_of_bucket]
    ema = (
        talib.EMA(htf_close, timeperiod=20)
        if len(htf_close) >= 20
        else np.full(len(htf_close), np.nan)
    )
    rsi = (
        talib.RSI(htf_close, timeperiod=14)
        if len(htf_close) > 14
        else np.full(len(htf_close), np.nan)
    )
    trend = np.log(htf_close / ema)
    ret = _lagged_diff(np.log(htf_close), 1)
    # bucket b has closed once this bar's close time reaches (b + 1) * htf_ns
    closed_upto = (ns + step_ns) // htf_ns - 1
    pos = np.searchsorted(buckets, closed_upto, side="right") - 1
    ok = pos >= 0
    safe = np.maximum(pos, 0)
    # a bucket missing its last bar (a gap) is still over once time has passed it
    nan = np.full(len(ns), np.nan)
    return {
        "htf_trend": np.where(ok, trend[safe], nan),
        "htf_ret_1": np.where(ok, ret[safe], nan),
        "htf_rsi_14": np.where(ok, rsi[safe] / 100.0 - 0.5, nan),
    }


def _lagged_diff(values: np.ndarray, k: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    if len(values) > k:
        out[k:] = values[k:] - values[:-k]
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)
