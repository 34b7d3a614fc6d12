"""optimize(): grid, random, TPE or NSGA-II search over a strategy's parameters.

from tui_trader.optimize import optimize
result = optimize(strategy, candles, timeframe="5m", method="tpe", trials=200, seed=1)
result.best.params, result.best.metrics, result.pareto, result.overfitting
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UsageError
from tui_trader.optimize.cache import DEFAULT_CACHE_MB, Dependencies, probe_dependencies
from tui_trader.optimize.evaluate import (
    BacktestSettings,
    Evaluator,
    StrategySpec,
    TrialTask,
    Workload,
)
from tui_trader.optimize.objectives import Objective, resolve_objectives
from tui_trader.optimize.pareto import pareto_front
from tui_trader.optimize.results import OK, OptimizationResult, Progress, Trial
from tui_trader.optimize.runner import InlineRunner, Runner, make_runner
from tui_trader.optimize.space import Dimension, SearchSpace, build_space

if TYPE_CHECKING:
    import pandas as pd

    from tui_trader.config.risk import RiskSettings

METHODS: tuple[str, ...] = ("grid", "random", "tpe", "nsga2")
DEFAULT_TRIALS = 100
MAX_GRID = 1_000_000
ProgressCallback = Callable[[Progress], None]


@dataclass
class Session:
    """A strategy, its candles and space, ready to search (once or once per walk-forward window)."""

    strategy: Any
    frames: dict[str, pd.DataFrame]
    space: SearchSpace
    objectives: tuple[Objective, ...]
    workload: Workload
    deps: Dependencies

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]

    def runner(
        self, *, jobs: int | None = None, scheduler: str | None = None, client: Any = None
    ) -> Runner:
        return make_runner(
            self.workload, jobs=jobs, scheduler=scheduler, client=client, strategy=self.strategy
        )

    def search(
        self,
        runner: Runner,
        *,
        method: str = "tpe",
        trials: int | None = None,
        seed: int | None = None,
        start: Any = None,
        end: Any = None,
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
        verify: bool = True,
        window: tuple[int, int] | None = None,
    ) -> OptimizationResult:
        """Run one search on [start, end) with `runner` and rank the trials."""
        if method not in METHODS:
            raise UsageError(f"unknown --method {method!r}; use one of {', '.join(METHODS)}")
        if trials is not None and trials < 1:
            raise UsageError(f"--trials must be at least 1 (got {trials})")
        clock = time.perf_counter()
        tracker = _Tracker(self, on_progress, clock, window)
        if method in ("grid", "random"):
            points = (
                _grid(self.space)
                if method == "grid"
                else _random(self.space, trials or DEFAULT_TRIALS, seed)
            )
            tracker.total = len(points)
            tasks = [TrialTask(i, p, start, end) for i, p in enumerate(points)]
            for trial in runner.run(tasks, stop):
                tracker.add(trial)
        else:
            self._optuna(runner, method, trials or DEFAULT_TRIALS, seed, start, end, tracker, stop)
        done = sorted(tracker.trials, key=lambda t: t.number)
        best, front = rank(done, self.objectives)
        result = OptimizationResult(
            strategy=getattr(self.strategy, "name", type(self.strategy).__name__),
            symbols=list(self.frames),
            timeframe=self.workload.settings.timeframe,
            method=method,
            objectives=[o.name for o in self.objectives],
            directions=self.directions,
            space=self.space.describe(),
            trials=done,
            best=best,
            pareto=front,
            seed=seed,
            workers=runner.workers,
            elapsed=0.0,
            start=_iso(start),
            end=_iso(end),
            stopped=bool(stop is not None and stop.is_set()),
            cache={**self.deps.describe(), "populate_calls": _calls(runner)},
        )
        if best is not None:
            result.overfitting = _overfitting(best, done)
            if result.overfitting and result.overfitting.warning:
                result.warnings.append(result.overfitting.warning)
            if verify and self.deps.enabled:
                result.verified = self._verify(runner, best, start, end)
                if not result.verified:
                    result.warnings.append(
                        "the indicator cache disagreed with a full run for the best parameters; "
                        "rerun with --no-cache"
                    )
        result.elapsed = time.perf_counter() - clock
        return result

    def _verify(self, runner: Runner, best: Trial, start: Any, end: Any) -> bool:
        """Re-run the best parameters without the cache; the objective values must match."""
        evaluator = runner.evaluator if isinstance(runner, InlineRunner) else None
        evaluator = evaluator or Evaluator(self.workload, self.strategy)
        full = evaluator.backtest(best.params, start, end, cache=False)
        for obj, value in zip(self.objectives, best.values or (), strict=False):
            again = obj.score(full)
            if again is None or not math.isclose(again, value, rel_tol=1e-9, abs_tol=1e-12):
                return False
        return True

    def _optuna(
        self,
        runner: Runner,
        method: str,
        trials: int,
        seed: int | None,
        start: Any,
        end: Any,
        tracker: _Tracker,
        stop: threading.Event | None,
    ) -> None:
        import optuna
        from optuna.trial import TrialState

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if method == "tpe":
            sampler: Any = optuna.samplers.TPESampler(seed=seed)
        else:
            sampler = optuna.samplers.NSGAIISampler(seed=seed)
        study = optuna.create_study(directions=self.directions, sampler=sampler)  # type: ignore[arg-type]
        dists = {d.name: _distribution(d) for d in self.space.dimensions}
        tracker.total = trials
        batch = max(16, 2 * runner.workers)  # fixed per worker count: reproducible with a seed
        number = 0
        seen: dict[tuple[Any, ...], Trial] = {}
        while number < trials and not (stop is not None and stop.is_set()):
            asked, tasks, repeats = [], [], []
            for _ in range(min(batch, trials - number)):
                ot = study.ask(dists)
                params = {d.name: _snap(d, ot.params[d.name]) for d in self.space.dimensions}
                key = tuple(params.values())
                asked.append((ot, number, key))
                if key in seen or any(k == key for _, _, k in asked[:-1]):
                    repeats.append(number)
                else:
                    tasks.append(TrialTask(number, params, start, end))
                number += 1
            for trial in runner.run(tasks, stop):
                seen[tuple(trial.params.values())] = trial
                tracker.add(trial)
            for ot, n, key in asked:  # tell in trial order: the same seed gives the same study
                original = seen.get(key)
                if original is None:
                    study.tell(ot, state=TrialState.FAIL)
                    continue
                if n in repeats:
                    tracker.add(_repeat(original, n))
                if original.status == OK and original.values is not None:
                    study.tell(ot, list(original.values))
                else:
                    study.tell(ot, state=TrialState.FAIL)


class _Tracker:
    """Collects trials, keeps the best so far, reports Progress."""

    def __init__(
        self,
        session: Session,
        callback: ProgressCallback | None,
        clock: float,
        window: tuple[int, int] | None,
    ) -> None:
        self.session = session
        self.callback = callback
        self.clock = clock
        self.window = window
        self.trials: list[Trial] = []
        self.best: Trial | None = None
        self.total = 0

    def add(self, trial: Trial) -> None:
        self.trials.append(trial)
        first = self.session.objectives[0]
        if (
            trial.status == OK
            and trial.value is not None
            and (
                self.best is None or first.better(trial.value, self.best.value)  # type: ignore[arg-type]
            )
        ):
            self.best = trial
        if self.callback is not None:
            self.callback(
                Progress(
                    phase="search" if self.window is None else "walk-forward",
                    done=len(self.trials),
                    total=self.total,
                    best=self.best,
                    last=trial,
                    elapsed=time.perf_counter() - self.clock,
                    window=self.window[0] if self.window else None,
                    windows=self.window[1] if self.window else None,
                )
            )


def _repeat(original: Trial, number: int) -> Trial:
    return Trial(
        number=number,
        params=dict(original.params),
        status=original.status,
        values=original.values,
        metrics=dict(original.metrics),
        reason=original.reason,
        repeat=True,
    )


def rank(
    trials: Sequence[Trial], objectives: Sequence[Objective]
) -> tuple[Trial | None, list[Trial]]:
    """(best on the first objective, Pareto front of distinct trials) among completed trials."""
    ok = [t for t in trials if t.status == OK and t.values is not None and not t.repeat]
    if not ok:
        return None, []
    first = objectives[0]
    sign = 1.0 if first.direction == "maximize" else -1.0
    best = max(ok, key=lambda t: (sign * t.values[0], -t.number))  # type: ignore[index]
    if len(objectives) == 1:
        return best, [best]
    idx = pareto_front([t.values for t in ok], [o.direction for o in objectives])  # type: ignore[misc]
    front = sorted((ok[i] for i in idx), key=lambda t: (-sign * t.values[0], t.number))  # type: ignore[index]
    return front[0], front


def _overfitting(best: Trial, trials: Sequence[Trial]) -> Any:
    from tui_trader.optimize.overfitting import overfit_report

    series = [t.returns for t in trials if t.returns is not None and not t.repeat]
    if best.returns is None or len(series) < 2 or len({len(s) for s in series}) != 1:
        return None
    return overfit_report(best.returns, series)


def _calls(runner: Runner) -> int | None:
    if isinstance(runner, InlineRunner) and runner.evaluator.cache is not None:
        return runner.evaluator.cache.calls
    return None


def _grid(space: SearchSpace) -> list[dict[str, Any]]:
    size = space.grid_size()
    if size > MAX_GRID:
        raise UsageError(f"the grid has {size:,} points; narrow --space or use --method random/tpe")
    return list(space.grid())


def _random(space: SearchSpace, trials: int, seed: int | None) -> list[dict[str, Any]]:
    """`trials` distinct points (all of them, shuffled, when the space is that small)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    if space.size() <= trials:
        points = list(space.grid())
        order = rng.permutation(len(points))
        return [points[i] for i in order]
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    attempts = 0
    while len(out) < trials and attempts < trials * 50:
        point = space.sample(rng)
        out.setdefault(tuple(point.values()), point)
        attempts += 1
    return list(out.values())


def _distribution(dim: Dimension) -> Any:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if dim.continuous:
        return FloatDistribution(float(dim.low), float(dim.high))  # type: ignore[arg-type]
    values = dim.choices
    if dim.kind == "decimal" and len(values) > 1:
        # the ladder's positions, not a float step: optuna trims a float range to whole
        # steps, and 1.6 - 1.5 = 0.10000000000000009 made [1.5, 3.0] end at 2.9
        return IntDistribution(0, len(values) - 1)
    if dim.kind == "int" and len(values) > 1:
        step = values[1] - values[0]
        if all(b - a == step for a, b in itertools.pairwise(values)):
            return IntDistribution(int(values[0]), int(values[-1]), step=int(step))
    return CategoricalDistribution(list(values))


def _snap(dim: Dimension, value: Any) -> Any:
    """Optuna's value back onto the dimension's own (a decimal's position on its ladder)."""
    if dim.continuous or dim.kind not in ("int", "decimal"):
        return value
    if dim.kind == "decimal" and len(dim.choices) > 1:
        return dim.choices[int(value)]
    return min(dim.choices, key=lambda c: abs(c - value))


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    from tui_trader.backtest.engine import to_utc

    return to_utc(value).isoformat().replace("+00:00", "Z")


def prepare(
    strategy: Any,
    data: Mapping[str, pd.DataFrame] | pd.DataFrame,
    *,
    timeframe: str,
    space: SearchSpace | Sequence[str] | None = None,
    objectives: Sequence[str] | str = ("sharpe",),
    min_trades: int = 1,
    capital: float = 10_000.0,
    fee: float = 0.001,
    slippage_bps: float = 0.0,
    cache: bool = True,
    cache_mb: float = DEFAULT_CACHE_MB,
    collect_returns: bool = True,
    symbol: str | None = None,
    risk: RiskSettings | None = None,
) -> Session:
    """Check the candles, build the space, probe indicator dependencies, pack the Workload."""
    from tui_trader.backtest.engine import checked_candles

    if isinstance(objectives, str):
        objectives = objectives.split(",")
    objs = resolve_objectives(list(objectives))
    if min_trades < 0:
        raise UsageError(f"--min-trades must be 0 or more (got {min_trades})")
    frames = _frames(data, symbol)
    frames = {name: checked_candles(df, timeframe, name) for name, df in frames.items()}
    if not isinstance(space, SearchSpace):
        space = build_space(strategy, list(space or ()))
    if space.fixed:
        strategy.set_parameters(dict(space.fixed))
    if cache:
        first = next(iter(frames))
        deps = probe_dependencies(
            strategy, frames[first], {"pair": first, "timeframe": timeframe}, space
        )
    else:
        deps = Dependencies(False, reason="switched off (--no-cache)")
    workload = Workload(
        spec=StrategySpec.from_strategy(strategy, space.fixed),
        frames=frames,
        settings=BacktestSettings(timeframe, capital, fee, slippage_bps, risk),
        objectives=objs,
        min_trades=min_trades,
        deps=deps,
        cache_mb=cache_mb,
        collect_returns=collect_returns,
    )
    return Session(strategy, frames, space, objs, workload, deps)


def _frames(
    data: Mapping[str, pd.DataFrame] | pd.DataFrame, symbol: str | None
) -> dict[str, pd.DataFrame]:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return {symbol or data.attrs.get("symbol") or "ASSET": data}
    return dict(data)


def optimize(
    strategy: Any,
    data: Mapping[str, pd.DataFrame] | pd.DataFrame,
    *,
    timeframe: str,
    method: str = "tpe",
    trials: int | None = None,
    objectives: Sequence[str] | str = ("sharpe",),
    min_trades: int = 1,
    space: SearchSpace | Sequence[str] | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    seed: int | None = None,
    capital: float = 10_000.0,
    fee: float = 0.001,
    slippage_bps: float = 0.0,
    start: Any = None,
    end: Any = None,
    cache: bool = True,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    verify: bool = True,
    symbol: str | None = None,
    risk: RiskSettings | None = None,
) -> OptimizationResult:
    """Search `strategy`'s parameters on `data` and rank them (see the module docstring).

    `space` is a SearchSpace or `--space` items (`fast=5:30`); `objectives` one name or
    several (multi-objective: the Pareto front is reported); trials with fewer than
    `min_trades` trades are rejected. Trials run on `jobs` local processes (1 = in this
    process), or on the Dask cluster at `scheduler` / through `client`. `on_progress`
    receives a Progress after each trial; setting `stop` ends the search early. `risk` (the
    `[risk]` settings) sizes and protects every trial as `run_backtest(risk=...)` does; None
    is the default settings (2 % of equity per trade), as for `run_backtest`.
    """
    session = prepare(
        strategy,
        data,
        timeframe=timeframe,
        space=space,
        objectives=objectives,
        min_trades=min_trades,
        capital=capital,
        fee=fee,
        slippage_bps=slippage_bps,
        cache=cache,
        symbol=symbol,
        risk=risk,
    )
    with session.runner(jobs=jobs, scheduler=scheduler, client=client) as runner:
        return session.search(
            runner,
            method=method,
            trials=trials,
            seed=seed,
            start=start,
            end=end,
            on_progress=on_progress,
            stop=stop,
            verify=verify,
        )
