"""One symbol's candles as arrays, and the exit of a single trade (the batch search of one row).

The rules themselves live in `tui_trader.backtest.batch` (vectorized, Freqtrade's order) and
`tui_trader.strategy.exits` (bar by bar, for hooks and the live runner).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_trader.backtest.rules import ExitRules
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


def find_exit(
    m: MarketArrays,
    e: int,
    side: int,
    entry: float,
    rules: ExitRules,
    *,
    signal_bar: int | None = None,
    roi_blocked: np.ndarray | None = None,
    fee: float = 0.0,
) -> ExitFill:
    """First exit of a trade entered at the open of bar `e` at price `entry` (+1 long, -1 short).

    `signal_bar` is the bar at whose open an exit signal fills (latency already applied);
    `roi_blocked` marks bars whose ROI is ignored (ignore_roi_if_entry_signal).
    """
    from tui_trader.backtest.batch import find_exits

    blocked = None if roi_blocked is None else (roi_blocked, roi_blocked)
    out = find_exits(
        m,
        np.array([e], dtype=np.int64),
        np.array([side], dtype=np.int8),
        np.array([entry], dtype=np.float64),
        rules,
        np.array([-1 if signal_bar is None else signal_bar], dtype=np.int64),
        blocked,
        fee=fee,
    )
    return ExitFill(int(out.bar[0]), float(out.price[0]), out.reason_name(0), bool(out.at_open[0]))


def excursions(
    m: MarketArrays, e: int, x: int, side: int, entry: float, exit_price: float
) -> tuple[float, float]:
    """(MFE, MAE) as fractions of the entry: bars e..x-1 whole, plus the exit price."""
    hi = max(float(m.high[e:x].max()) if x > e else -np.inf, exit_price)
    lo = min(float(m.low[e:x].min()) if x > e else np.inf, exit_price)
    if side > 0:
        return max(hi / entry - 1.0, 0.0), min(lo / entry - 1.0, 0.0)
    return max(1.0 - lo / entry, 0.0), min(1.0 - hi / entry, 0.0)
