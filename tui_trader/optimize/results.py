"""Plain dataclasses the optimizer reports: trials, progress, searches and walk-forwards.

A UI reads these directly; `to_dict()` is the `--json` contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from tui_trader.optimize.overfitting import OverfitReport

OK, REJECTED, FAILED = "ok", "rejected", "failed"


@dataclass
class Trial:
    """One parameter set tried. `values` follow the objectives' order; None unless status ok."""

    number: int
    params: dict[str, Any]
    status: str = OK
    values: tuple[float, ...] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the worker's CPU time for this trial (the machine may be shared)
    repeat: bool = False  # same params as an earlier trial: its result was reused
    returns: np.ndarray | None = field(default=None, repr=False)  # daily, for PBO

    @property
    def value(self) -> float | None:
        return self.values[0] if self.values else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "params": dict(self.params),
            "status": self.status,
            "values": list(self.values) if self.values is not None else None,
            "metrics": {k: _plain(v) for k, v in self.metrics.items()},
            "reason": self.reason or None,
            "seconds": round(self.seconds, 4),
            "repeat": self.repeat,
        }


@dataclass(frozen=True)
class Progress:
    """Sent to `on_progress` after every trial (in the caller's thread)."""

    phase: str  # "probe" | "search" | "verify" | "walk-forward"
    done: int
    total: int
    best: Trial | None
    last: Trial | None
    elapsed: float
    window: int | None = None  # walk-forward window (0-based) being optimized
    windows: int | None = None


@dataclass
class OptimizationResult:
    """A finished (or stopped) search."""

    strategy: str
    symbols: list[str]
    timeframe: str
    method: str
    objectives: list[str]
    directions: list[str]
    space: dict[str, Any]
    trials: list[Trial]
    best: Trial | None
    pareto: list[Trial]
    seed: int | None
    workers: int
    elapsed: float
    start: str | None = None
    end: str | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    overfitting: OverfitReport | None = None
    verified: bool | None = None  # the best re-run without the cache agreed
    stopped: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def completed(self) -> list[Trial]:
        return [t for t in self.trials if t.status == OK]

    def to_dict(self, *, trials: bool = True) -> dict[str, Any]:
        from dataclasses import asdict

        doc: dict[str, Any] = {
            "strategy": self.strategy,
            "symbols": self.symbols,
            "timeframe": self.timeframe,
            "method": self.method,
            "objectives": [
                {"name": n, "direction": d}
                for n, d in zip(self.objectives, self.directions, strict=True)
            ],
            "start": self.start,
            "end": self.end,
            "seed": self.seed,
            "workers": self.workers,
            "elapsed": round(self.elapsed, 3),
            "stopped": self.stopped,
            "space": self.space,
            "best": _best(self.best),
            "pareto": [_best(t) for t in self.pareto] if len(self.objectives) > 1 else None,
            "counts": {
                "trials": len(self.trials),
                "ok": len(self.completed),
                "rejected": sum(t.status == REJECTED for t in self.trials),
                "failed": sum(t.status == FAILED for t in self.trials),
            },
            "cache": self.cache,
            "verified": self.verified,
            "overfitting": asdict(self.overfitting) if self.overfitting else None,
            "warnings": list(self.warnings),
        }
        if doc["overfitting"]:
            doc["overfitting"].pop("logits", None)
        if trials:
            doc["trials"] = [t.to_dict() for t in self.trials]
        return doc


def _best(trial: Trial | None) -> dict[str, Any] | None:
    if trial is None:
        return None
    return {
        "number": trial.number,
        "params": dict(trial.params),
        "values": list(trial.values or ()),
        "metrics": {k: _plain(v) for k, v in trial.metrics.items()},
    }


@dataclass
class WindowResult:
    """One walk-forward step: optimize on [train_start, train_end), test on [test_start,
    test_end)."""

    index: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp
    params: dict[str, Any] | None
    is_value: float | None
    oos_value: float | None
    is_metrics: dict[str, Any]
    oos_metrics: dict[str, Any]
    trials: int
    overfitting: OverfitReport | None = None
    oos_equity: pd.Series | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        over = asdict(self.overfitting) if self.overfitting else None
        return {
            "index": self.index,
            "train": [_iso(self.train_start), _iso(self.train_end)],
            "test": [_iso(self.test_start), _iso(self.test_end)],
            "params": self.params,
            "in_sample": _plain(self.is_value),
            "out_of_sample": _plain(self.oos_value),
            "in_sample_metrics": {k: _plain(v) for k, v in self.is_metrics.items()},
            "out_of_sample_metrics": {k: _plain(v) for k, v in self.oos_metrics.items()},
            "trials": self.trials,
            "overfitting": over,
        }


@dataclass
class WalkForwardResult:
    """Every window, the stitched out-of-sample equity, and how much worse OOS was than IS."""

    strategy: str
    timeframe: str
    objective: str
    anchored: bool
    windows: list[WindowResult]
    oos_equity: pd.Series
    oos_metrics: dict[str, Any]
    efficiency: float | None  # mean OOS objective / mean IS objective (1.0 = no degradation)
    pbo: float | None  # mean over windows of the in-sample trials' PBO (CSCV)
    warning: str | None
    elapsed: float
    stopped: bool = False

    def to_dict(self) -> dict[str, Any]:
        step = max(1, len(self.oos_equity) // 2000)
        curve = self.oos_equity.iloc[::step]
        return {
            "strategy": self.strategy,
            "timeframe": self.timeframe,
            "objective": self.objective,
            "anchored": self.anchored,
            "windows": [w.to_dict() for w in self.windows],
            "out_of_sample_metrics": {k: _plain(v) for k, v in self.oos_metrics.items()},
            "efficiency": _plain(self.efficiency),
            "pbo": _plain(self.pbo),
            "warning": self.warning,
            "elapsed": round(self.elapsed, 3),
            "stopped": self.stopped,
            "equity": [[_iso(ts), _plain(v)] for ts, v in curve.items()],
        }


def _iso(ts: Any) -> str | None:
    from tui_trader.backtest.result import _iso as iso

    return iso(ts)


def _plain(value: Any) -> Any:
    from tui_trader.backtest.result import _plain as plain

    return plain(value)
