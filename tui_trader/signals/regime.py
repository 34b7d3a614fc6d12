"""Market regime per bar: TREND_UP, TREND_DOWN, RANGE or HIGH_VOL.

Rule, in order: realized volatility above its own past quantile -> HIGH_VOL; else
ADX at or above a threshold -> a trend in the direction of +DI vs -DI; else RANGE.
Every input to bar t comes from bars <= t (rolling windows, Wilder smoothing, a
rolling or expanding quantile), so the label never peeks at the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from tui_trader.core.enums import Direction
from tui_trader.core.errors import DataError
from tui_trader.core.signals import Signal

if TYPE_CHECKING:
    import pandas as pd


class Regime(StrEnum):
    TREND_UP = "TREND_UP"
    TREND_DOWN = "TREND_DOWN"
    RANGE = "RANGE"
    HIGH_VOL = "HIGH_VOL"


@dataclass(frozen=True, slots=True)
class RegimeParams:
    vol_window: int = 20  # bars in the realized-volatility window
    vol_quantile: float = 0.9  # above this quantile of past volatility = HIGH_VOL
    vol_lookback: int | None = 500  # bars of volatility history for the quantile; None = all
    min_history: int = 100  # bars of volatility history before any label
    adx_period: int = 14
    adx_trend: float = 25.0  # ADX at or above this = trending


def regime_frame(df: pd.DataFrame, params: RegimeParams | None = None) -> pd.DataFrame:
    """The working columns (rv, rv_threshold, adx, plus_di, minus_di) and the `regime` label."""
    import numpy as np
    import pandas as pd
    import talib

    p = params or RegimeParams()
    missing = {"high", "low", "close"} - set(df.columns)
    if missing:
        raise DataError(
            f"regime needs candle columns high, low, close; missing {', '.join(sorted(missing))}"
        )
    high = df["high"].to_numpy(dtype="float64")
    low = df["low"].to_numpy(dtype="float64")
    close = df["close"].to_numpy(dtype="float64")

    logret = pd.Series(np.log(close)).diff()
    rv = logret.rolling(p.vol_window, min_periods=p.vol_window).std()
    if p.vol_lookback is None:
        threshold = rv.expanding(min_periods=p.min_history).quantile(p.vol_quantile)
    else:
        threshold = rv.rolling(p.vol_lookback, min_periods=p.min_history).quantile(p.vol_quantile)
    adx = talib.ADX(high, low, close, timeperiod=p.adx_period)
    plus_di = talib.PLUS_DI(high, low, close, timeperiod=p.adx_period)
    minus_di = talib.MINUS_DI(high, low, close, timeperiod=p.adx_period)

    rv_a = rv.to_numpy()
    thr_a = threshold.to_numpy()
    ready = ~(np.isnan(rv_a) | np.isnan(thr_a) | np.isnan(adx))
    trend = np.where(plus_di >= minus_di, Regime.TREND_UP.value, Regime.TREND_DOWN.value)
    label = np.where(
        rv_a > thr_a, Regime.HIGH_VOL.value, np.where(adx >= p.adx_trend, trend, Regime.RANGE.value)
    )
    regime = label.astype(object)
    regime[~ready] = None
    return pd.DataFrame(
        {
            "rv": rv_a,
            "rv_threshold": thr_a,
            "adx": adx,
            "plus_di": plus_di,
            "minus_di": minus_di,
            "regime": regime,
        },
        index=df.index,
    )


def classify_regime(df: pd.DataFrame, params: RegimeParams | None = None) -> pd.Series:
    """The regime of every bar (None during warm-up); strategies can add it as a column."""
    return regime_frame(df, params)["regime"].rename("regime")


def current_regime(df: pd.DataFrame, params: RegimeParams | None = None) -> Regime | None:
    """The regime of the last (closed) bar, or None if there is not enough history yet."""
    last = classify_regime(df, params).iloc[-1] if len(df) else None
    return Regime(last) if last is not None else None


def regime_signal(
    df: pd.DataFrame,
    symbol: str,
    at: datetime,
    *,
    timeframe: str | None = None,
    params: RegimeParams | None = None,
) -> Signal | None:
    """The last bar's regime as a Signal: trends point their way with strength ADX/50;
    RANGE and HIGH_VOL are FLAT (HIGH_VOL damps the decision score, see decision.py)."""
    frame = regime_frame(df, params)
    if not len(frame) or frame["regime"].iloc[-1] is None:
        return None
    row = frame.iloc[-1]
    regime = Regime(row["regime"])
    direction = {Regime.TREND_UP: Direction.LONG, Regime.TREND_DOWN: Direction.SHORT}.get(
        regime, Direction.FLAT
    )
    strength = min(1.0, float(row["adx"]) / 50.0) if direction is not Direction.FLAT else 0.0
    reason = (
        f"{regime.value}: ADX {row['adx']:.0f}, "
        f"volatility {row['rv']:.4f} (high above {row['rv_threshold']:.4f})"
    )
    return Signal(
        source="regime",
        symbol=symbol,
        direction=direction,
        strength=round(strength, 4),
        ts=at,
        reason=reason,
        confidence=round(strength, 4) if strength else None,
        timeframe=timeframe,
        meta={"regime": regime.value, "adx": float(row["adx"]), "rv": float(row["rv"])},
    )
