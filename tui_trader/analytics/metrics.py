"""Performance metrics of an equity curve and its trades, as plain JSON-safe numbers.

Conventions (docs/data.md has the formulas): fractions, not percents; per-bar simple
returns r_t = E_t / E_{t-1} - 1; annualised by the data's own calendar: bars per year =
returns / years between the first and the last bar (a 365-day year), so stock sessions and
gaps count as the time they really span (`periods_per_year(timeframe)` when the bar times are
not known or span no time); losses (max_drawdown, var_95, cvar_95) reported as positive fractions; a metric
that is undefined for the input (no trades, zero volatility, no benchmark) is None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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
NS_PER_YEAR = 365 * 86_400 * 1_000_000_000
SMALL_SAMPLE = 30  # fewer trades than this: the ratios say little (a warning, not an error)


def sample_warnings(metrics: dict[str, float | int | None]) -> list[str]:
    """Plain-words caveats for a result whose statistics rest on too few trades."""
    trades = int(metrics.get("trades") or 0)
    if 0 < trades < SMALL_SAMPLE:
        return [
            f"only {trades} trade(s): Sharpe, Sortino, win rate and profit factor from fewer "
            f"than {SMALL_SAMPLE} trades are mostly chance; test on more data"
        ]
    return []


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
    import pandas as pd

    values = checked_equity(equity)
    missing = [c for c in ("entry_time", "exit_time", "pnl", "pnl_pct") if c not in trades.columns]
    if missing:
        raise DataError(f"trades table lacks column(s) {', '.join(missing)}")
    times = _times_ns(equity.index) if len(values) > 1 or len(trades) else None
    trade_arrays = None
    if len(trades):
        trade_arrays = TradeArrays(
            entry_ns=_ns(pd.to_datetime(trades["entry_time"], utc=True)),
            exit_ns=_ns(pd.to_datetime(trades["exit_time"], utc=True)),
            pnl=trades["pnl"].to_numpy(dtype="float64"),
            pnl_pct=trades["pnl_pct"].to_numpy(dtype="float64"),
        )
    bench = None
    if benchmark is not None and len(values) > 2:
        aligned = (
            benchmark.reindex(equity.index)
            if isinstance(benchmark.index, pd.DatetimeIndex)
            else benchmark
        )
        bench = aligned.to_numpy(dtype="float64", na_value=float("nan"))
    return metrics_from_arrays(
        values, times, trade_arrays, timeframe=timeframe, benchmark=bench, risk_free=risk_free
    )


@dataclass(frozen=True, slots=True)
class TradeArrays:
    """The trade columns the metrics read: entry and exit times (int64 ns UTC), P&L, P&L %."""

    entry_ns: np.ndarray
    exit_ns: np.ndarray
    pnl: np.ndarray
    pnl_pct: np.ndarray


def metrics_from_arrays(
    values: np.ndarray,
    times: np.ndarray | None,
    trades: TradeArrays | None,
    *,
    timeframe: str,
    benchmark: np.ndarray | None = None,
    risk_free: float = 0.0,
) -> dict[str, float | int | None]:
    """`compute_metrics` on float64 / int64 arrays (no pandas): what the backtester and the
    optimizer call. `values` is a checked equity curve, `times` its bar times in int64 ns
    (needed with two or more bars or any trade), `benchmark` aligned to it."""
    import numpy as np

    ppy = periods_per_year(timeframe)
    returns = values[1:] / values[:-1] - 1.0 if len(values) > 1 else np.empty(0)
    if times is not None and len(returns) and len(times) == len(values) and times[-1] > times[0]:
        ppy = len(returns) / (float(times[-1] - times[0]) / NS_PER_YEAR)
    rf_bar = risk_free / ppy
    out: dict[str, float | int | None] = dict.fromkeys(METRIC_KEYS)

    out["total_return"] = float(values[-1] / values[0] - 1.0) if len(values) else 0.0
    n = len(returns)
    if n:
        out["cagr"] = _cagr(float(values[-1] / values[0]), ppy / n)
    std = float(np.std(returns, ddof=1)) if n > 1 else 0.0
    if n > 1:
        out["volatility"] = std * math.sqrt(ppy)
        excess = _less(returns, rf_bar)
        mean_excess = excess.mean()
        if std > 0:
            out["sharpe"] = float(mean_excess / std * math.sqrt(ppy))
        downside = float(np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2)))
        if downside > 0:
            out["sortino"] = float(mean_excess / downside * math.sqrt(ppy))

    peaks = np.maximum.accumulate(values) if len(values) else np.empty(0)
    dd = values / peaks - 1.0 if len(values) else np.empty(0)
    max_dd = float(-dd.min()) if len(dd) else 0.0
    out["max_drawdown"] = max_dd
    out["max_drawdown_duration"] = _max_drawdown_duration(values, times, peaks)
    if max_dd > 0 and out["cagr"] is not None:
        out["calmar"] = float(out["cagr"]) / max_dd

    if n:
        tail_bars = max(1, math.ceil(round((1.0 - VAR_LEVEL) * n, 9)))  # 0.05 * 40 is 2, not 3
        tail = _smallest(returns, tail_bars)
        tail = np.sort(tail)
        out["var_95"] = float(-tail[-1])
        out["cvar_95"] = float(-tail.mean())

    out.update(_trade_metrics(trades, times))

    if benchmark is not None and n > 1:
        out["alpha"], out["beta"] = _alpha_beta(returns, benchmark, rf_bar, ppy)
    return {k: _json_safe(v) for k, v in out.items()}


def _less(values: np.ndarray, rate: float) -> np.ndarray:
    """values - rate; the values themselves when the rate is 0 (x - 0.0 is x, -0.0 included:
    a pass over every bar saved)."""
    return values - rate if rate else values


def _smallest(values: np.ndarray, count: int) -> np.ndarray:
    """The `count` smallest values, in no order. A flat bar's return is 0 (half of a backtest's
    bars hold no trade): when enough are negative the partition runs on those alone (a quarter
    of a year of 1m bars with ema_cross; ~0.6 ms less with the filter paid), the same values."""
    import numpy as np

    if count >= len(values):
        return values
    below = values[values < 0.0]
    pool = below if len(below) >= count else values
    return np.partition(pool, count - 1)[:count] if count < len(pool) else pool


def _ns(stamps: pd.Series) -> np.ndarray:
    return stamps.dt.as_unit("ns").astype("int64").to_numpy()


def _cagr(growth: float, years_inverse: float) -> float | None:
    """growth ** (bars a year / bars) - 1; -1 after a total loss; None if it overflows."""
    if growth <= 0:
        return -1.0
    try:
        return growth**years_inverse - 1.0
    except OverflowError:
        return None


def checked_equity(equity: pd.Series | np.ndarray) -> np.ndarray:
    """The equity curve as float64, or one DataError if it cannot be measured."""
    import numpy as np

    values = np.asarray(equity, dtype="float64")
    if len(values) == 0:
        raise DataError("cannot compute metrics of an empty equity curve")
    if not np.isfinite(values).all():
        raise DataError("equity curve holds NaN or infinite values")
    if values[0] <= 0:
        raise DataError("equity curve must start above zero")
    return values


def _max_drawdown_duration(
    values: np.ndarray, times: np.ndarray | None, peaks: np.ndarray
) -> float:
    """Longest time (s) from a peak until equity is back at that peak, or until the end.

    Bar i closes (or extends) a drawdown that was open at bar i-1, measured from its peak:
    for each run of underwater bars s..e (peak at s-1) the longest span ends at bar
    min(e, last - 1) + 1, so only the runs' ends are read, not every bar.
    """
    import numpy as np

    if len(values) < 2 or times is None:
        return 0.0
    underwater = (values < peaks).view(np.int8)
    edges = np.diff(underwater)
    starts = np.flatnonzero(edges == 1) + 1  # bar 0 is its own peak: never underwater
    ends = np.flatnonzero(edges == -1)
    if len(ends) < len(starts):
        ends = np.append(ends, len(values) - 1)
    last = np.minimum(ends, len(values) - 2)
    keep = last >= starts
    if not keep.any():
        return 0.0
    spans = times[last[keep] + 1] - times[starts[keep] - 1]
    return int(spans.max()) / 1e9


def _times_ns(index: pd.Index) -> np.ndarray:
    import pandas as pd

    try:
        return pd.DatetimeIndex(index).as_unit("ns").asi8
    except (TypeError, ValueError):
        raise DataError("equity must be indexed by timestamps (one per bar)") from None


def _trade_metrics(
    trades: TradeArrays | None, times: np.ndarray | None
) -> dict[str, float | int | None]:
    import numpy as np

    count = 0 if trades is None else len(trades.pnl)
    out: dict[str, float | int | None] = {"trades": count, "exposure": 0.0}
    if trades is None or count == 0 or times is None:
        return out
    pnl, pct = trades.pnl, trades.pnl_pct
    wins, losses = pnl > 0, pnl < 0
    out["win_rate"] = float(wins.sum() / count)
    gross_loss = float(-pnl[losses].sum())
    out["profit_factor"] = float(pnl[wins].sum()) / gross_loss if gross_loss > 0 else None
    out["expectancy"] = float(pct.mean())
    out["avg_win"] = float(pct[wins].mean()) if wins.any() else None
    out["avg_loss"] = float(pct[losses].mean()) if losses.any() else None
    # seconds as pandas' total_seconds computes them (whole seconds + the remainder)
    whole, rest = np.divmod(trades.exit_ns - trades.entry_ns, 1_000_000_000)
    out["avg_trade_duration"] = float((whole + rest / 1e9).mean())
    # exposure: bars t with entry <= t < exit for some trade, over all bars (overlaps count
    # once): the length of the union of the trades' [start, end) bar ranges
    starts = np.searchsorted(times, trades.entry_ns, side="left")
    ends = np.searchsorted(times, trades.exit_ns, side="left")
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)
    before = np.concatenate([[0], reach[:-1]])
    covered = int(np.maximum(reach - np.maximum(starts, before), 0).sum())
    out["exposure"] = covered / len(times) if len(times) else 0.0
    return out


def _alpha_beta(
    returns: np.ndarray, bench: np.ndarray, rf_bar: float, ppy: float
) -> tuple[float | None, float | None]:
    """Beta = cov(r, b) / var(b); alpha = annualised mean(r - rf) - beta * mean(b - rf)."""
    import numpy as np

    if len(bench) != len(returns) + 1 or not np.isfinite(bench).all():
        raise DataError("benchmark must have one finite value for every bar of the equity curve")
    b = bench[1:] / bench[:-1] - 1.0
    var_b = float(np.var(b, ddof=1))
    if var_b == 0:
        return None, None
    beta = float(np.cov(returns, b, ddof=1)[0, 1] / var_b)
    alpha = float((_less(returns, rf_bar).mean() - beta * _less(b, rf_bar).mean()) * ppy)
    return alpha, beta


def _json_safe(value: float | int | None) -> float | int | None:
    if value is None or isinstance(value, int):
        return value
    return float(value) + 0.0 if math.isfinite(value) else None  # + 0.0 turns -0.0 into 0.0
