"""Portfolio risk figures for the risk pane: VaR / CVaR, correlations, beta, heat.

Pure NumPy over daily returns (imported inside the functions: the engine starts fast).
VaR and CVaR are positive losses in quote currency over one day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def returns(closes: Sequence[float]) -> list[float]:
    """Simple returns of consecutive closes."""
    return [b / a - 1.0 for a, b in pairwise(closes) if a > 0]


def historical_var(pnl: Sequence[float], level: float) -> tuple[float, float]:
    """(VaR, CVaR) at `level` (0.95, 0.99) from P&L scenarios; CVaR averages the tail beyond VaR."""
    import numpy as np

    arr = np.asarray(pnl, float)
    if arr.size == 0:
        return 0.0, 0.0
    cut = float(np.quantile(arr, 1.0 - level, method="lower"))
    tail = arr[arr <= cut]
    return max(0.0, -cut), max(0.0, -float(tail.mean())) if tail.size else max(0.0, -cut)


def parametric_var(exposures: ArrayLike, cov: Any, level: float) -> tuple[float, float]:
    """(VaR, CVaR) of a normal P&L with covariance `cov` of returns and zero mean."""
    import numpy as np

    w = np.asarray(exposures, float)
    sigma = float(np.sqrt(max(0.0, w @ np.asarray(cov, float) @ w)))
    z = NormalDist().inv_cdf(level)
    cvar = sigma * NormalDist().pdf(z) / (1.0 - level)
    return z * sigma, cvar


def aligned(series: Mapping[str, Sequence[float]], lookback: int) -> tuple[list[str], Any]:
    """The last common `lookback` returns of each symbol as a (days x symbols) matrix."""
    import numpy as np

    names = [s for s, r in series.items() if len(r) >= 2]
    if not names:
        return [], np.zeros((0, 0))
    n = min(lookback, *(len(series[s]) for s in names))
    return names, np.column_stack([np.asarray(series[s][-n:], float) for s in names])


def correlation(matrix: Any) -> Any:
    import numpy as np

    if matrix.shape[1] == 1:
        return np.ones((1, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(matrix, rowvar=False)
    return np.nan_to_num(corr, nan=0.0)


def beta(portfolio: Sequence[float], benchmark: Sequence[float]) -> float | None:
    import numpy as np

    n = min(len(portfolio), len(benchmark))
    if n < 3:
        return None
    p, b = np.asarray(portfolio[-n:], float), np.asarray(benchmark[-n:], float)
    var = float(b.var())
    return None if var <= 0 else float(np.cov(p, b, bias=True)[0, 1] / var)


def value_at_risk(
    exposures: Mapping[str, float],
    rets: Mapping[str, Sequence[float]],
    lookback: int,
    benchmark: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Every VaR figure, the correlation matrix and beta for positions `exposures` (signed value)."""
    import numpy as np

    names, matrix = aligned({s: rets[s] for s in exposures if s in rets}, lookback)
    out: dict[str, Any] = {"days": 0, "symbols": names, "correlation": [], "beta": None}
    for level in (95, 99):
        out[f"hist_{level}"] = out[f"cvar_hist_{level}"] = out[f"param_{level}"] = out[
            f"cvar_param_{level}"
        ] = None
    if not names or matrix.shape[0] < 2:
        return out
    w = np.asarray([exposures[s] for s in names], float)
    pnl = matrix @ w
    cov = np.atleast_2d(np.cov(matrix, rowvar=False))
    out["days"] = int(matrix.shape[0])
    for level in (95, 99):
        out[f"hist_{level}"], out[f"cvar_hist_{level}"] = historical_var(pnl, level / 100)
        out[f"param_{level}"], out[f"cvar_param_{level}"] = parametric_var(w, cov, level / 100)
    out["correlation"] = [[round(float(x), 4) for x in row] for row in correlation(matrix)]
    gross = float(np.abs(w).sum())
    if benchmark is not None and gross > 0:
        out["beta"] = beta(list(pnl / gross), list(benchmark))
    return out


def heat(
    positions: Sequence[tuple[str, float, float]], stops: Mapping[str, float]
) -> tuple[float, list[str]]:
    """Sum of what each position loses if its stop is hit; positions with no stop are listed.

    `positions` are (symbol, signed quantity, mark); `stops` the nearest protective stop per symbol.
    """
    total, unprotected = 0.0, []
    for symbol, qty, mark in positions:
        stop = stops.get(symbol)
        if stop is None:
            unprotected.append(symbol)
            continue
        total += max(0.0, (mark - stop) * qty)
    return total, unprotected
