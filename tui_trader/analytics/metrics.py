"""Performance metrics of an equity curve and its trades, as plain JSON-safe numbers.

Conventions (docs/data.md has the formulas): fractions, not percents; per-bar simple
returns r_t = E_t / E_{t-1} - 1; annualised with periods_per_year(timeframe) (365-day
year); losses (max_drawdown, var_95, cvar_95) reported as positive fractions; a metric
that is undefined for the input (no trades, zero volatility, no benchmark) is None.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tui_trader.core.errors import DataError
from tui_trader.data.timeframes import periods_per_year

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

METRIC_KEYS: tuple[str, ...] = (
    "total_return", "cagr", "volatility", "sharpe", "sortino", "calmar",
    "max_drawdown", "max_drawdown_duration", "var_95", "cvar_95",
    "profit_factor", "expectancy", "win_rate", "avg_win", "avg_loss",
    "avg_trade_duration", "exposure", "alpha", "beta", "trades",
)  # fmt: skip
TRADE_COLUMNS: tuple[str, ...] = ("entry_time", "exit_time", "pnl", "pnl_pct", "mfe", "mae")
VAR_LEVEL = 0.95


def drawdown_series(equity: pd.Series) -> pd.Series:
    """E_t / max(E_0..E_t) - 1: zero at new highs, negative below them (same index)."""
    values = equity.astype("float64")
    return values / values.cummax() - 1.0


def compute_metrics(
    equity: pd.Series,
    trades: pd.DataFrame,
    *,
    timeframe: str,
    benchmark: pd.Series | None = None,
    risk_free: float = 0.0,
) -> dict[str, float | int | None]:
    """Every metric of METRIC_KEYS for one run; see the module docstring for conventions.

    `equity` holds one value per bar on a tz-aware UTC index; `trades` has TRADE_COLUMNS
    (may be empty); `benchmark` (prices or equity, e.g. buy and hold) is aligned to the
    equity index; `risk_free` is an annual rate.
    """
    import numpy as np

    ppy = periods_per_year(timeframe)
    values = _checked_equity(equity)
    returns = values[1:] / values[:-1] - 1.0 if len(values) > 1 else np.empty(0)
    rf_bar = risk_free / ppy
    out: dict[str, float | int | None] = dict.fromkeys(METRIC_KEYS)

    out["total_return"] = float(values[-1] / values[0] - 1.0) if len(values) else 0.0
    n = len(returns)
    if n:
        out["cagr"] = _cagr(float(values[-1] / values[0]), ppy / n)
    std = float(np.std(returns, ddof=1)) if n > 1 else 0.0
    if n > 1:
        out["volatility"] = std * math.sqrt(ppy)
        excess = returns - rf_bar
        if std > 0:
            out["sharpe"] = float(excess.mean() / std * math.sqrt(ppy))
        downside = float(np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2)))
        if downside > 0:
            out["sortino"] = float(excess.mean() / downside * math.sqrt(ppy))

    dd = values / np.maximum.accumulate(values) - 1.0 if len(values) else np.empty(0)
    max_dd = float(-dd.min()) if len(dd) else 0.0
    out["max_drawdown"] = max_dd
    out["max_drawdown_duration"] = _max_drawdown_duration(values, equity.index)
    if max_dd > 0 and out["cagr"] is not None:
        out["calmar"] = float(out["cagr"]) / max_dd

    if n:
        tail_bars = max(1, math.ceil(round((1.0 - VAR_LEVEL) * n, 9)))  # 0.05 * 40 is 2, not 3
        tail = np.sort(returns)[:tail_bars]
        out["var_95"] = float(-tail[-1])
        out["cvar_95"] = float(-tail.mean())

    out.update(_trade_metrics(trades, equity.index))

    if benchmark is not None and n > 1:
        out["alpha"], out["beta"] = _alpha_beta(returns, benchmark, equity.index, rf_bar, ppy)
    return {k: _json_safe(v) for k, v in out.items()}


def _cagr(growth: float, years_inverse: float) -> float | None:
    """growth ** (bars a year / bars) - 1; -1 after a total loss; None if it overflows."""
    if growth <= 0:
        return -1.0
    try:
        return growth**years_inverse - 1.0
    except OverflowError:
        return None


def _checked_equity(equity: pd.Series) -> np.ndarray:
    import numpy as np

    values = np.asarray(equity, dtype="float64")
    if len(values) == 0:
        raise DataError("cannot compute metrics of an empty equity curve")
    if not np.isfinite(values).all():
        raise DataError("equity curve holds NaN or infinite values")
    if values[0] <= 0:
        raise DataError("equity curve must start above zero")
    return values


def _max_drawdown_duration(values: np.ndarray, index: pd.Index) -> float:
    """Longest time (s) from a peak until equity is back at that peak, or until the end."""
    import numpy as np

    if len(values) < 2:
        return 0.0
    times = _times_ns(index)
    underwater = values < np.maximum.accumulate(values)
    peak_at = np.maximum.accumulate(np.where(underwater, 0, np.arange(len(values))))
    # bar i closes (or extends) a drawdown that was open at bar i-1, measured from its peak
    spans = (times[1:] - times[peak_at[:-1]])[underwater[:-1]]
    longest = int(spans.max()) if len(spans) else 0
    return longest / 1e9


def _times_ns(index: pd.Index) -> np.ndarray:
    import pandas as pd

    try:
        return pd.DatetimeIndex(index).as_unit("ns").asi8
    except (TypeError, ValueError):
        raise DataError("equity must be indexed by timestamps (one per bar)") from None


def _trade_metrics(trades: pd.DataFrame, index: pd.Index) -> dict[str, float | int | None]:
    import numpy as np
    import pandas as pd

    missing = [c for c in ("entry_time", "exit_time", "pnl", "pnl_pct") if c not in trades.columns]
    if missing:
        raise DataError(f"trades table lacks column(s) {', '.join(missing)}")
    count = len(trades)
    out: dict[str, float | int | None] = {"trades": count, "exposure": 0.0}
    if count == 0:
        return out
    pnl = trades["pnl"].to_numpy(dtype="float64")
    pct = trades["pnl_pct"].to_numpy(dtype="float64")
    wins, losses = pnl > 0, pnl < 0
    out["win_rate"] = float(wins.sum() / count)
    gross_loss = float(-pnl[losses].sum())
    out["profit_factor"] = float(pnl[wins].sum()) / gross_loss if gross_loss > 0 else None
    out["expectancy"] = float(pct.mean())
    out["avg_win"] = float(pct[wins].mean()) if wins.any() else None
    out["avg_loss"] = float(pct[losses].mean()) if losses.any() else None
    entry = pd.to_datetime(trades["entry_time"], utc=True)
    exit_ = pd.to_datetime(trades["exit_time"], utc=True)
    out["avg_trade_duration"] = float((exit_ - entry).dt.total_seconds().mean())
    # exposure: bars t with entry <= t < exit for some trade, over all bars (overlaps count once)
    times = _times_ns(index)
    marks = np.zeros(len(times) + 1, dtype="int64")
    starts = np.searchsorted(times, entry.dt.as_unit("ns").astype("int64").to_numpy(), side="left")
    ends = np.searchsorted(times, exit_.dt.as_unit("ns").astype("int64").to_numpy(), side="left")
    np.add.at(marks, starts, 1)
    np.add.at(marks, ends, -1)
    in_trade = np.cumsum(marks[:-1]) > 0
    out["exposure"] = float(in_trade.mean()) if len(times) else 0.0
    return out


def _alpha_beta(
    returns: np.ndarray, benchmark: pd.Series, index: pd.Index, rf_bar: float, ppy: float
) -> tuple[float | None, float | None]:
    """Beta = cov(r, b) / var(b); alpha = annualised mean(r - rf) - beta * mean(b - rf)."""
    import numpy as np
    import pandas as pd

    aligned = (
        benchmark.reindex(index) if isinstance(benchmark.index, pd.DatetimeIndex) else benchmark
    )
    bench = np.asarray(aligned, dtype="float64")
    if len(bench) != len(returns) + 1 or not np.isfinite(bench).all():
        raise DataError("benchmark must have one finite value for every bar of the equity curve")
    b = bench[1:] / bench[:-1] - 1.0
    var_b = float(np.var(b, ddof=1))
    if var_b == 0:
        return None, None
    beta = float(np.cov(returns, b, ddof=1)[0, 1] / var_b)
    alpha = float(((returns - rf_bar).mean() - beta * (b - rf_bar).mean()) * ppy)
    return alpha, beta


def _json_safe(value: float | int | None) -> float | int | None:
    if value is None or isinstance(value, int):
        return value
    return float(value) + 0.0 if math.isfinite(value) else None  # + 0.0 turns -0.0 into 0.0
