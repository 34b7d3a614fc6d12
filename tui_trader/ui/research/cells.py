"""Metric and parameter values as table cells: fractions as percents, durations as d/h/m."""

from __future__ import annotations

import math
from typing import Any

from tui_trader.ui import format as fmt

# The order a trader reads a backtest in (keys of tui_trader.analytics.metrics).
METRICS = (
    "total_return", "cagr", "sharpe", "sortino", "calmar", "max_drawdown",
    "max_drawdown_duration", "volatility", "var_95", "cvar_95", "profit_factor",
    "expectancy", "win_rate", "avg_trade_duration", "exposure", "alpha", "beta", "trades",
)  # fmt: skip
PERCENT = {
    "total_return", "cagr", "volatility", "max_drawdown", "var_95", "cvar_95", "expectancy",
    "win_rate", "avg_win", "avg_loss", "exposure", "alpha", "pnl_pct", "mfe", "mae",
}  # fmt: skip
# Sizes and shares, not gains: no sign (a win rate of "+45.83%" reads as a change).
UNSIGNED = {"volatility", "max_drawdown", "var_95", "cvar_95", "win_rate", "exposure", "mfe", "mae"}
DURATION = {"max_drawdown_duration", "avg_trade_duration"}


def duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86_400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours}h {rest // 60}m" if days else f"{hours}h {rest // 60}m"


def cell(key: str, value: Any) -> str:
    """One metric for a table: '-' when undefined (None or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if key in PERCENT:
        return fmt.pct(float(value), signed=key not in UNSIGNED)
    if key in DURATION:
        return duration(float(value))
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def params_text(params: dict[str, Any] | None) -> str:
    """`fast=12 slow=44`: a parameter set on one line."""
    if not params:
        return "-"
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())
