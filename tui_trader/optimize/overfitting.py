"""Is the best result luck? Deflated Sharpe ratio and probability of backtest overfitting.

Formulas from Bailey & López de Prado: "The Sharpe Ratio Efficient Frontier" (2012, PSR),
"The Deflated Sharpe Ratio" (2014, DSR) and, with Borwein and Zhu, "The Probability of
Backtest Overfitting" (2016, CSCV). Sharpe ratios here are per observation (not annualized).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

EULER_GAMMA = 0.5772156649015329
_N = NormalDist()


def probabilistic_sharpe_ratio(
    sharpe: float, benchmark: float, observations: int, skew: float = 0.0, kurtosis: float = 3.0
) -> float:
    """P(true Sharpe > benchmark) given the estimate's length, skew and (non-excess) kurtosis."""
    if observations < 2:
        return float("nan")
    var = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if var <= 0:
        return float("nan")
    z = (sharpe - benchmark) * math.sqrt(observations - 1) / math.sqrt(var)
    return _N.cdf(z)


def expected_max_sharpe(trials: int, sharpe_variance: float) -> float:
    """E[max Sharpe] of `trials` independent zero-skill trials whose Sharpes have this variance."""
    if trials < 2 or sharpe_variance <= 0:
        return 0.0
    a = _N.inv_cdf(1.0 - 1.0 / trials)
    b = _N.inv_cdf(1.0 - 1.0 / (trials * math.e))
    return math.sqrt(sharpe_variance) * ((1.0 - EULER_GAMMA) * a + EULER_GAMMA * b)


def deflated_sharpe_ratio(
    sharpe: float,
    observations: int,
    trials: int,
    sharpe_variance: float,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """PSR against the Sharpe the best of `trials` lucky tries would show: > 0.95 is credible."""
    benchmark = expected_max_sharpe(trials, sharpe_variance)
    return probabilistic_sharpe_ratio(sharpe, benchmark, observations, skew, kurtosis)


def moments(returns: np.ndarray) -> tuple[float, float, float]:
    """Per-observation Sharpe, skewness and non-excess kurtosis of a return series."""
    import numpy as np

    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if len(r) < 2:
        return float("nan"), 0.0, 3.0
    mean, std = float(r.mean()), float(r.std(ddof=1))
    if std == 0:
        return 0.0, 0.0, 3.0
    z = (r - mean) / r.std(ddof=0)
    return mean / std, float(np.mean(z**3)), float(np.mean(z**4))


@dataclass(frozen=True)
class PBOResult:
    """CSCV outcome: PBO = share of splits where the in-sample best ranks below the OOS median."""

    pbo: float
    logits: list[float] = field(default_factory=list)
    splits: int = 0


def pbo_cscv(returns: np.ndarray, blocks: int = 16) -> PBOResult:
    """Combinatorially symmetric cross-validation over a T x N matrix (rows: periods, N trials).

    Rows are cut into `blocks` (even) equal parts; for every choice of half of them as
    in-sample, the trial with the best in-sample Sharpe is ranked out of sample.
    """
    import numpy as np

    m = np.asarray(returns, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] < 2:
        raise ValueError("pbo_cscv needs a T x N matrix with at least two trials")
    blocks = min(blocks, m.shape[0] - m.shape[0] % 2)
    blocks -= blocks % 2
    if blocks < 2:
        raise ValueError("pbo_cscv needs at least two rows per trial")
    m = np.nan_to_num(m[: m.shape[0] - m.shape[0] % blocks], nan=0.0)
    parts = m.reshape(blocks, -1, m.shape[1])
    n_obs = parts.shape[1]
    sums, squares = parts.sum(axis=1), (parts**2).sum(axis=1)  # blocks x N
    combos = np.array(list(itertools.combinations(range(blocks), blocks // 2)), dtype=np.int64)
    # each split and its complement appear once each: both are valid CSCV splits.
    mask = np.zeros((len(combos), blocks))
    np.put_along_axis(mask, combos, 1.0, axis=1)
    logits = []
    for chunk in np.array_split(mask, max(1, len(mask) // 512)):
        is_sr = _block_sharpe(chunk @ sums, chunk @ squares, chunk.sum(axis=1) * n_obs)
        oos = 1.0 - chunk
        oos_sr = _block_sharpe(oos @ sums, oos @ squares, oos.sum(axis=1) * n_obs)
        best = np.argmax(is_sr, axis=1)
        chosen = oos_sr[np.arange(len(chunk)), best][:, None]
        less = (oos_sr < chosen).sum(axis=1)
        equal = (oos_sr == chosen).sum(axis=1)
        rank = less + (equal + 1) / 2.0  # average rank, 1 = worst
        omega = rank / (m.shape[1] + 1)
        logits.extend(np.log(omega / (1.0 - omega)).tolist())
    arr = np.asarray(logits)
    return PBOResult(float((arr <= 0).mean()), arr.tolist(), len(arr))


def _block_sharpe(total: Any, squares: Any, count: Any) -> Any:
    import numpy as np

    n = count[:, None]
    mean = total / n
    var = (squares - n * mean**2) / np.maximum(n - 1, 1)
    std = np.sqrt(np.maximum(var, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std > 1e-12, mean / std, 0.0)


@dataclass(frozen=True)
class OverfitReport:
    """What the optimizer says about luck; `warning` is None when nothing looks wrong."""

    trials: int
    observations: int
    best_sharpe: float | None
    expected_max_sharpe: float | None
    deflated_sharpe: float | None
    pbo: float | None
    warning: str | None


def overfit_report(
    best: np.ndarray, all_returns: Sequence[np.ndarray] | np.ndarray, *, dsr_floor: float = 0.95
) -> OverfitReport:
    """DSR of the best trial's returns against all tried; PBO by CSCV over the same matrix."""
    import numpy as np

    matrix = np.column_stack(list(all_returns)) if len(all_returns) else np.empty((0, 0))
    n = matrix.shape[1] if matrix.ndim == 2 else 0
    sr, skew, kurt = moments(best)
    obs = int(np.isfinite(np.asarray(best, dtype=float)).sum())
    if n < 2 or obs < 4 or not math.isfinite(sr):
        return OverfitReport(n, obs, None if not math.isfinite(sr) else sr, None, None, None, None)
    sharpes = [moments(matrix[:, i])[0] for i in range(n)]
    var = float(np.nanvar(sharpes, ddof=1))
    sr0 = expected_max_sharpe(n, var)
    dsr = probabilistic_sharpe_ratio(sr, sr0, obs, skew, kurt)
    pbo = pbo_cscv(matrix).pbo if matrix.shape[0] >= 4 else None
    problems = []
    if math.isfinite(dsr) and dsr < dsr_floor:
        problems.append(f"deflated Sharpe {dsr:.2f} < {dsr_floor:.2f}")
    if pbo is not None and pbo > 0.5:
        problems.append(f"probability of backtest overfitting {pbo:.0%}")
    warning = "the best result may be luck: " + ", ".join(problems) if problems else None
    return OverfitReport(n, obs, sr, sr0, dsr if math.isfinite(dsr) else None, pbo, warning)
