"""The worker side: what is shipped once per worker (Workload) and how one trial is run.

Every trial goes through `run_backtest`, the backtester's own code path; the indicator
cache only swaps the instance's populate_indicators for one that serves cached columns.
"""

from __future__ import annotations

import inspect
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UserError
from tui_trader.optimize.objectives import Objective
from tui_trader.optimize.results import FAILED, OK, REJECTED, Trial

if TYPE_CHECKING:
    import pandas as pd

    from tui_trader.backtest import BacktestResult
    from tui_trader.config.risk import RiskSettings
    from tui_trader.optimize.cache import Dependencies, IndicatorCache


@dataclass(frozen=True)
class StrategySpec:
    """Enough to rebuild the strategy on another machine: its source travels with it."""

    class_name: str
    file_name: str
    source: str
    config: dict[str, Any]
    fixed: dict[str, Any]

    @classmethod
    def from_strategy(cls, strategy: Any, fixed: Mapping[str, Any] | None = None) -> StrategySpec:
        path = getattr(type(strategy), "rules_path", None)  # a compiled .toml rule strategy
        if not path:
            try:
                path = inspect.getsourcefile(type(strategy))
            except TypeError:
                path = None
        if path is None or not Path(path).is_file():
            raise UserError(
                f"strategy {strategy.name}: its source file cannot be found to ship to workers"
            )
        return cls(
            class_name=type(strategy).__name__,
            file_name=Path(path).name,
            source=Path(path).read_text(encoding="utf-8"),
            config=dict(getattr(strategy, "config", {}) or {}),
            fixed=dict(fixed or {}),
        )

    def load(self) -> Any:
        """A fresh instance from the shipped source (written to a private temp folder)."""
        from tui_trader.strategy.loader import load_file

        folder = Path(tempfile.mkdtemp(prefix="tui_trader_opt_"))
        path = folder / self.file_name
        path.write_text(self.source, encoding="utf-8")
        classes = load_file(path)
        chosen = next((c for c in classes if c.__name__ == self.class_name), classes[0])
        strategy = chosen(dict(self.config))
        if self.fixed:
            strategy.set_parameters(dict(self.fixed))
        return strategy


@dataclass(frozen=True)
class BacktestSettings:
    """The run_backtest arguments every trial shares.

    `risk` is the `[risk]` settings trials size and protect with, exactly as `tui-trader
    backtest` does (the CLI passes the home's settings); None means the defaults, which is
    also what `run_backtest(risk=None)` uses: 2 % of equity per trade, no protections.
    """

    timeframe: str
    capital: float = 10_000.0
    fee: float = 0.001
    slippage_bps: float = 0.0
    risk: RiskSettings | None = None


@dataclass
class Workload:
    """Shipped once per worker: strategy, candles, settings, objectives, cache layout."""

    spec: StrategySpec
    frames: dict[str, pd.DataFrame]
    settings: BacktestSettings
    objectives: tuple[Objective, ...]
    min_trades: int = 1
    deps: Dependencies | None = None
    cache_mb: float = 512
    collect_returns: bool = True
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class TrialTask:
    number: int
    params: dict[str, Any]
    start: Any = None
    end: Any = None


class Evaluator:
    """Holds the worker's strategy instance and indicator cache between trials."""

    def __init__(self, workload: Workload, strategy: Any = None) -> None:
        from tui_trader.optimize.cache import IndicatorCache

        self.workload = workload
        self.strategy = strategy if strategy is not None else workload.spec.load()
        self.base = self.strategy.parameter_values()
        self.cache: IndicatorCache | None = None
        if workload.deps is not None and workload.deps.enabled:
            self.cache = IndicatorCache(self.strategy, workload.deps, max_mb=workload.cache_mb)

    @property
    def lean(self) -> bool:
        """Trials only read metrics unless an objective is a user function (it gets the whole
        BacktestResult): then the trades table and MFE/MAE are skipped."""
        return all(o.is_metric for o in self.workload.objectives)

    @property
    def wants_benchmark(self) -> bool:
        """The buy-and-hold curve (alpha, beta) only when an objective reads it."""
        return not self.lean or any(o.name in ("alpha", "beta") for o in self.workload.objectives)

    def backtest(
        self,
        params: Mapping[str, Any],
        start: Any = None,
        end: Any = None,
        *,
        cache: bool = True,
        lean: bool = False,
    ) -> BacktestResult:
        """run_backtest with `params` applied, indicators served from the cache when on
        (`lean`: metrics and equity only, see `run_backtest`)."""
        import pandas as pd

        from tui_trader.backtest import run_backtest
        from tui_trader.backtest.engine import to_utc

        s = self.workload.settings
        values = {**self.base, **params}
        self.strategy.set_parameters(values)
        use_cache = cache and self.cache is not None
        if use_cache:
            assert self.cache is not None
            frames = self.workload.frames
            served = self.cache

            def populate_indicators(df: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
                return served.frame(frames[metadata["pair"]], metadata, values)

            self.strategy.populate_indicators = populate_indicators
        try:
            return run_backtest(
                self.strategy,
                self.workload.frames,
                timeframe=s.timeframe,
                capital=s.capital,
                fee=s.fee,
                slippage_bps=s.slippage_bps,
                start=start,
                # the optimizer's ranges are [start, end); the backtester's end is inclusive
                end=None if end is None else to_utc(end) - pd.Timedelta(1, "ns"),
                analyze_all=True,  # the indicator cache holds whole-history columns
                risk=s.risk,
                lean=lean,
                benchmark=self.wants_benchmark if lean else True,
                validate=False,  # prepare() checked the candles once
            )
        finally:
            if use_cache:
                del self.strategy.populate_indicators

    def run(self, task: TrialTask) -> Trial:
        """One trial: backtest, min-trades check, objective values; errors become FAILED."""
        started = time.perf_counter()
        cpu = time.process_time()
        trial = Trial(number=task.number, params=dict(task.params))
        try:
            result = self.backtest(task.params, task.start, task.end, lean=self.lean)
            trial.metrics = dict(result.metrics)
            trades = int(result.metrics.get("trades") or 0)
            values = tuple(o.score(result) for o in self.workload.objectives)
            if trades < self.workload.min_trades:
                trial.status = REJECTED
                trial.reason = f"{trades} trades < minimum {self.workload.min_trades}"
            elif any(v is None for v in values):
                trial.status = REJECTED
                undefined = [o.name for o, v in zip(self.workload.objectives, values, strict=True)
                             if v is None]  # fmt: skip
                trial.reason = f"undefined objective: {', '.join(undefined)}"
            else:
                trial.values = tuple(float(v) for v in values if v is not None)
            if self.workload.collect_returns:
                trial.returns = daily_returns(result.equity)
        except UserError as exc:
            trial.status, trial.reason = FAILED, str(exc)
        except Exception as exc:  # a strategy bug must not kill the whole search
            trial.status, trial.reason = FAILED, f"{type(exc).__name__}: {exc}"
        trial.seconds = time.perf_counter() - started
        trial.cpu_seconds = time.process_time() - cpu
        if trial.status != OK:
            trial.values = None
        return trial

    def run_many(self, tasks: Sequence[TrialTask]) -> list[Trial]:
        return [self.run(t) for t in tasks]


def daily_returns(equity: pd.Series) -> Any:
    """Calendar-day simple returns of an equity curve (compact input for PBO and DSR).

    The day's last value (UTC days, carried over days without bars) against the previous
    day's, the first against the curve's first value: `equity.resample("1D").last().ffill()`
    without the resampler (a few ms per trial on a year of minutes).
    """
    import numpy as np
    import pandas as pd

    if len(equity) < 2:
        return np.empty(0)
    values = equity.to_numpy(dtype=np.float64)
    day = pd.DatetimeIndex(equity.index).as_unit("ns").asi8 // _DAY_NS
    last = np.append(np.flatnonzero(np.diff(day)), len(values) - 1)  # each day's last bar
    daily = np.full(int(day[-1] - day[0]) + 1, np.nan)
    daily[day[last] - day[0]] = values[last]
    have = np.where(np.isnan(daily), 0, np.arange(len(daily)))
    daily = daily[np.maximum.accumulate(have)]
    chained = np.concatenate([[values[0]], daily])
    return chained[1:] / chained[:-1] - 1.0


_DAY_NS = 86_400_000_000_000
