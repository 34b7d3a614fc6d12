"""Walk-forward analysis: optimize in sample, test the winner on the next, unseen stretch, repeat.

Rolling windows slide the training range forward by `step`; anchored windows keep its start.
Each window's out-of-sample equity starts where the previous one ended (compounded), which
gives one stitched out-of-sample curve: the only honest estimate of the method's skill.
"""

from __future__ import annotations

import math
import re
import statistics
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import DataError, UsageError
from tui_trader.optimize.results import WalkForwardResult, WindowResult
from tui_trader.optimize.runner import InlineRunner
from tui_trader.optimize.search import ProgressCallback, prepare

if TYPE_CHECKING:
    import pandas as pd

    from tui_trader.config.risk import RiskSettings
    from tui_trader.optimize.space import SearchSpace

DSR_FLOOR = 0.95


@dataclass(frozen=True)
class Window:
    """Train on [train_start, train_end), then test on [test_start = train_end, test_end)."""

    index: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp


def parse_duration(text: str | Any, option: str = "duration") -> pd.Timedelta:
    """`90d`, `12h`, `4w`, `1d12h` -> Timedelta (one clear error otherwise)."""
    import pandas as pd

    if isinstance(text, pd.Timedelta):
        return text
    try:
        # pandas wants upper-case D and W; traders write 90d and 4w
        value = pd.Timedelta(re.sub(r"(?<=\d)([dw])(?![a-z])", lambda m: m[1].upper(), str(text)))
    except (ValueError, TypeError):
        raise UsageError(
            f"{option} {text!r} is not a duration; write e.g. 90d, 12h or 4w"
        ) from None
    if value <= pd.Timedelta(0):
        raise UsageError(f"{option} must be positive (got {text})")
    return value


def windows(
    first: Any, last: Any, *, train: Any, test: Any, step: Any = None, anchored: bool = False
) -> list[Window]:
    """Every complete (train, test) pair that fits in [first, last)."""
    import pandas as pd

    train_d = parse_duration(train, "--train")
    test_d = parse_duration(test, "--test")
    step_d = parse_duration(step, "--step") if step is not None else test_d
    if step_d < test_d:
        raise UsageError(
            f"--step ({step}) is shorter than --test ({test}): out-of-sample windows would "
            "overlap; use --step of at least the test length"
        )
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    out: list[Window] = []
    k = 0
    while True:
        train_end = first + train_d + k * step_d
        test_end = train_end + test_d
        if test_end > last:
            break
        start = first if anchored else first + k * step_d
        out.append(Window(k, start, train_end, train_end, test_end))
        k += 1
    if not out:
        raise DataError(
            f"the data covers {last - first} after warm-up; a walk-forward needs at least "
            f"--train + --test = {train_d + test_d}; shorten them or load more history"
        )
    return out


def stitch_equity(segments: Sequence[pd.Series]) -> pd.Series:
    """Chain equity segments: each is rescaled to start at the previous segment's last value."""
    import pandas as pd

    parts: list[pd.Series] = []
    level: float | None = None
    for seg in segments:
        if seg is None or len(seg) == 0:
            continue
        scale = 1.0 if level is None else level / float(seg.iloc[0])
        part = seg.astype("float64") * scale
        parts.append(part)
        level = float(part.iloc[-1])
    if not parts:
        return pd.Series(dtype="float64", name="equity")
    out = pd.concat(parts)
    out.name = "equity"
    return out


def walk_forward(
    strategy: Any,
    data: Mapping[str, pd.DataFrame] | pd.DataFrame,
    *,
    timeframe: str,
    train: Any,
    test: Any,
    step: Any = None,
    anchored: bool = False,
    method: str = "tpe",
    trials: int | None = None,
    objective: str = "sharpe",
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
    symbol: str | None = None,
    risk: RiskSettings | None = None,
) -> WalkForwardResult:
    """Optimize on each training window, test the best parameters on the following test window."""
    import pandas as pd

    from tui_trader.analytics.metrics import compute_metrics
    from tui_trader.backtest.engine import to_utc
    from tui_trader.data.timeframes import timeframe_to_seconds

    clock = time.perf_counter()
    session = prepare(
        strategy,
        data,
        timeframe=timeframe,
        space=space,
        objectives=[objective],
        min_trades=min_trades,
        capital=capital,
        fee=fee,
        slippage_bps=slippage_bps,
        cache=cache,
        symbol=symbol,
        risk=risk,
    )
    obj = session.objectives[0]
    bar = pd.Timedelta(seconds=timeframe_to_seconds(timeframe))
    warmup = int(getattr(strategy, "startup_candle_count", 0) or 0)
    first = min(df["date"].iloc[min(warmup, len(df) - 1)] for df in session.frames.values())
    last = max(df["date"].iloc[-1] for df in session.frames.values()) + bar
    if start is not None:
        first = max(first, to_utc(start))
    if end is not None:
        last = min(last, to_utc(end))
    plan = windows(first, last, train=train, test=test, step=step, anchored=anchored)
    results: list[WindowResult] = []
    oos_trades = []
    with session.runner(jobs=jobs, scheduler=scheduler, client=client) as runner:
        evaluator = runner.evaluator if isinstance(runner, InlineRunner) else None
        if evaluator is None:
            from tui_trader.optimize.evaluate import Evaluator

            evaluator = Evaluator(session.workload, session.strategy)
        for w in plan:
            if stop is not None and stop.is_set():
                break
            found = session.search(
                runner,
                method=method,
                trials=trials,
                seed=None if seed is None else seed + w.index,
                start=w.train_start,
                end=w.train_end,
                on_progress=on_progress,
                stop=stop,
                verify=False,
                window=(w.index, len(plan)),
            )
            row = WindowResult(
                index=w.index,
                train_start=w.train_start,
                train_end=w.train_end,
                test_start=w.test_start,
                test_end=w.test_end,
                params=None,
                is_value=None,
                oos_value=None,
                is_metrics={},
                oos_metrics={},
                trials=len(found.trials),
                overfitting=found.overfitting,
            )
            if found.best is not None:
                oos = evaluator.backtest(found.best.params, w.test_start, w.test_end)
                row.params = dict(found.best.params)
                row.is_value = found.best.value
                row.is_metrics = dict(found.best.metrics)
                row.oos_value = obj.score(oos)
                row.oos_metrics = dict(oos.metrics)
                row.oos_equity = oos.equity
                oos_trades.append(oos.trades)
            results.append(row)
    equity = stitch_equity([r.oos_equity for r in results if r.oos_equity is not None])
    metrics: dict[str, Any] = {}
    if len(equity) > 1:
        trades = pd.concat(oos_trades, ignore_index=True) if oos_trades else pd.DataFrame()
        metrics = compute_metrics(equity, trades, timeframe=timeframe)
    efficiency = _efficiency(results, obj.direction)
    pbos = [r.overfitting.pbo for r in results if r.overfitting and r.overfitting.pbo is not None]
    pbo = statistics.fmean(pbos) if pbos else None
    return WalkForwardResult(
        strategy=getattr(strategy, "name", type(strategy).__name__),
        timeframe=timeframe,
        objective=obj.name,
        anchored=anchored,
        windows=results,
        oos_equity=equity,
        oos_metrics=metrics,
        efficiency=efficiency,
        pbo=pbo,
        warning=_warning(results, metrics, efficiency, pbo),
        elapsed=time.perf_counter() - clock,
        stopped=bool(stop is not None and stop.is_set()),
    )


def _efficiency(rows: Sequence[WindowResult], direction: str) -> float | None:
    """Mean out-of-sample objective over mean in-sample objective (maximized objectives only)."""
    pairs = [(r.is_value, r.oos_value) for r in rows if r.is_value is not None]
    if direction != "maximize" or not pairs or any(o is None for _, o in pairs):
        return None
    mean_is = statistics.fmean(i for i, _ in pairs if i is not None)
    mean_oos = statistics.fmean(o for _, o in pairs if o is not None)
    if mean_is <= 0 or not math.isfinite(mean_is):
        return None
    return mean_oos / mean_is


def _warning(
    rows: Sequence[WindowResult],
    metrics: Mapping[str, Any],
    efficiency: float | None,
    pbo: float | None,
) -> str | None:
    problems = []
    sharpe = metrics.get("sharpe")
    if not rows or all(r.params is None for r in rows):
        problems.append("no window found parameters that pass --min-trades")
    elif sharpe is None or sharpe <= 0:
        problems.append("the stitched out-of-sample Sharpe is not positive")
    if efficiency is not None and efficiency < 0.5:
        problems.append(f"out of sample kept only {efficiency:.0%} of the in-sample objective")
    if pbo is not None and pbo > 0.5:
        problems.append(f"probability of backtest overfitting {pbo:.0%}")
    dsrs = [r.overfitting.deflated_sharpe for r in rows
            if r.overfitting and r.overfitting.deflated_sharpe is not None]  # fmt: skip
    if dsrs and statistics.median(dsrs) < DSR_FLOOR:
        problems.append(f"median deflated Sharpe {statistics.median(dsrs):.2f} < {DSR_FLOOR}")
    return "likely overfit: " + "; ".join(problems) if problems else None
