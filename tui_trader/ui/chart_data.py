"""Chart arithmetic with NumPy: overlays and folding live prices into the last candle.

NumPy is imported by the functions that use it, not with the module: the workstation paints
its first screen before any chart overlay is drawn (~60 ms of its start)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from tui_trader.core.market import Candle

_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def timeframe_seconds(timeframe: str) -> int:
    try:
        return int(timeframe[:-1]) * _UNIT[timeframe[-1]]
    except (KeyError, ValueError):
        raise ValueError(f"unknown timeframe {timeframe!r}") from None


def ema(values: np.ndarray, period: int) -> np.ndarray:
    """Exponential moving average seeded with the first value (NaN before `period` bars)."""
    import numpy as np

    out = np.full(values.shape, np.nan)
    if len(values) == 0:
        return out
    alpha = 2.0 / (period + 1)
    acc = float(values[0])
    for i, v in enumerate(values):
        acc = alpha * float(v) + (1 - alpha) * acc
        if i >= period - 1:
            out[i] = acc
    return out


def sma(values: np.ndarray, period: int) -> np.ndarray:
    """Simple moving average (NaN before `period` bars)."""
    import numpy as np

    out = np.full(values.shape, np.nan)
    if len(values) >= period:
        out[period - 1 :] = np.lib.stride_tricks.sliding_window_view(values, period).mean(axis=1)
    return out


def vwap(high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """Volume-weighted average of the typical price from the first bar given (NaN until volume)."""
    import numpy as np

    typical = (high + low + close) / 3.0
    cum_vol = np.cumsum(volume)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.cumsum(typical * volume) / cum_vol
    out[cum_vol == 0] = np.nan
    return out


def bollinger(
    values: np.ndarray, period: int = 20, stds: float = 2.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Middle, upper and lower bands of a simple moving average +- `stds` standard deviations."""
    import numpy as np

    n = len(values)
    mid = np.full(n, np.nan)
    dev = np.full(n, np.nan)
    if n >= period:
        windows = np.lib.stride_tricks.sliding_window_view(values, period)
        mid[period - 1 :] = windows.mean(axis=1)
        dev[period - 1 :] = windows.std(axis=1)
    return mid, mid + stds * dev, mid - stds * dev


def bar_start(ts: datetime, seconds: int) -> datetime:
    epoch = int(ts.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def fold_price(candles: list[Candle], price: float, ts: datetime, timeframe: str) -> list[Candle]:
    """The candles with the live price folded into the forming bar (a new bar when one began)."""
    if not candles or price <= 0:
        return candles
    secs = timeframe_seconds(timeframe)
    last = candles[-1]
    start = bar_start(ts, secs)
    if start <= last.open_time or ts < last.open_time + timedelta(seconds=secs):
        if ts < last.open_time:
            return candles
        updated = replace(
            last, close=price, high=max(last.high, price), low=min(last.low, price), closed=False
        )
        return [*candles[:-1], updated]
    from tui_trader.core.market import Candle  # the market types load after the first paint

    forming = Candle(
        last.symbol,
        timeframe,
        start,
        last.close,
        max(last.close, price),
        min(last.close, price),
        price,
        0.0,
        closed=False,
    )
    return [*candles, forming]
