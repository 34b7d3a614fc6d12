"""The league's leaderboard: Sharpe on a common grid, the deflated Sharpe beside it, drawdown,
and a rank only once a strategy has traded enough.

Strategies on different timeframes are compared on the same bars: each equity curve is sampled
at the close of every bar of the coarsest timeframe in the league (the grid), so every Sharpe
rests on the same observations. The Sharpe is annualised by the calendar the grid spans (as the
backtester's metrics are). The deflated Sharpe (Bailey and López de Prado, reused from
tui_trader/optimize/overfitting.py) asks how likely the strategy's true Sharpe is above zero
once you account for picking the best of the league: each strategy is one trial, and the
variance of the league's Sharpes sets how high the luckiest would score by chance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui_trader.optimize.overfitting import deflated_sharpe_ratio, moments

if TYPE_CHECKING:
    import pandas as pd

NS_PER_YEAR = 365 * 86_400 * 1_000_000_000
MIN_TRADES = 10


@dataclass
class Entry:
    """One strategy's run: its own capital, equity per bar and trade count."""

    name: str
    timeframe: str
    equity: pd.Series
    trades: int
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Row:
    rank: int | None
    name: str
    timeframe: str
    score: float | None  # annualised Sharpe on the grid
    deflated_sharpe: float | None
    max_drawdown: float | None
    total_return: float | None
    trades: int
    win_rate: float | None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "strategy": self.name,
            "timeframe": self.timeframe,
            "score": self.score,
            "sharpe": self.score,
            "deflated_sharpe": self.deflated_sharpe,
            "max_drawdown": self.max_drawdown,
            "total_return": self.total_return,
            "trades": self.trades,
            "win_rate": self.win_rate,
            "note": self.note,
        }


def grid_returns(equity: pd.Series, grid: str) -> pd.Series:
    """Simple returns of `equity` sampled at each grid bar's close (last value in the bar)."""
    sampled = equity.resample(grid, label="right", closed="right").last().ffill()
    return sampled.pct_change().dropna()


def leaderboard(entries: Sequence[Entry], grid_freq: str, *, min_trades: int = MIN_TRADES) -> list[Row]:
    """Rows best first: ranked strategies by score, then those without a rank (too few trades,
    no volatility, failed) with the reason."""
    import numpy as np

    returns: dict[str, np.ndarray] = {}
    annual: dict[str, float | None] = {}
    per_obs: dict[str, float] = {}
    for e in entries:
        if e.error is not None or len(e.equity) < 2:
            continue
        r = grid_returns(e.equity, grid_freq)
        values = r.to_numpy(dtype="float64")
        returns[e.name] = values
        sr, _, _ = moments(values)
        annual[e.name] = None
        if len(values) >= 2 and math.isfinite(sr) and np.std(values, ddof=1) > 0:
            years = (r.index[-1].value - r.index[0].value) / NS_PER_YEAR
            ppy = (len(values) - 1) / years if years > 0 else float("nan")
            annual[e.name] = sr * math.sqrt(ppy) if math.isfinite(ppy) else None
            per_obs[e.name] = sr
    trials = len(per_obs)
    variance = float(np.var(list(per_obs.values()), ddof=1)) if trials >= 2 else 0.0
    rows: list[Row] = []
    for e in entries:
        m = e.metrics
        row = Row(None, e.name, e.timeframe, annual.get(e.name), None, _num(m.get("max_drawdown")),
                  _num(m.get("total_return")), e.trades, _num(m.get("win_rate")))  # fmt: skip
        if e.error is not None:
            row.note = e.error
        elif e.name in per_obs:
            values = returns[e.name]
            sr, skew, kurt = moments(values)
            dsr = deflated_sharpe_ratio(sr, len(values), max(trials, 1), variance, skew, kurt)
            row.deflated_sharpe = dsr if math.isfinite(dsr) else None
            if e.trades < min_trades:
                row.note = f"{e.trades} trade(s), fewer than {min_trades}: no rank yet"
        else:
            row.note = "no trades" if e.trades == 0 else "flat equity: no Sharpe"
        rows.append(row)
    ranked = [r for r in rows if not r.note and r.score is not None]
    ranked.sort(key=lambda r: (-(r.score or 0.0), r.name))
    for i, r in enumerate(ranked, 1):
        r.rank = i
    rest = sorted((r for r in rows if r.rank is None), key=lambda r: (r.score is None, -(r.score or 0.0), r.name))
    return ranked + rest


def coarsest(timeframes: Sequence[str]) -> str:
    """The longest timeframe (the league's common grid)."""
    from tui_trader.data.timeframes import timeframe_to_seconds

    return max(timeframes, key=timeframe_to_seconds)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    f = float(value)
    return f if math.isfinite(f) else None
