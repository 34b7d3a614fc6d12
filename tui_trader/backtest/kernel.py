"""One symbol's candles as arrays, and where a trade left.

The exit rules live in `tui_trader.backtest.batch` (vectorized, Freqtrade's order; `find_exit`
for one trade) and `tui_trader.strategy.exits` (bar by bar, for hooks and the live runner).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_trader.strategy.exits import EXIT_SIGNAL, FORCE_EXIT, ROI, STOP_LOSS, TRAILING_STOP_LOSS

__all__ = ["EXIT_SIGNAL", "FORCE_EXIT", "ROI", "STOP_LOSS", "TRAILING_STOP_LOSS"]


@dataclass(frozen=True, slots=True)
class MarketArrays:
    """One symbol's candles as float64 arrays; `time` is each bar's open in int64 ns UTC and
    `tick` the price tick of each bar's month (`strategy.precision.month_ticks`)."""

    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    bar_ns: int  # length of one bar
    tick: np.ndarray

    def __len__(self) -> int:
        return len(self.open)


@dataclass(frozen=True, slots=True)
class ExitFill:
    """Where a trade leaves: bar, raw price (before slippage), reason, and whether at the open."""

    bar: int
    price: float
    reason: str
    at_open: bool


def excursions(
    m: MarketArrays, e: int, x: int, side: int, entry: float, exit_price: float
) -> tuple[float, float]:
    """(MFE, MAE) as fractions of the entry: bars e..x-1 whole, plus the exit price."""
    hi = max(float(m.high[e:x].max()) if x > e else -np.inf, exit_price)
    lo = min(float(m.low[e:x].min()) if x > e else np.inf, exit_price)
    if side > 0:
        return max(hi / entry - 1.0, 0.0), min(lo / entry - 1.0, 0.0)
    return max(1.0 - lo / entry, 0.0), min(1.0 - hi / entry, 0.0)
