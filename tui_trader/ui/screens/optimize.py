"""The optimization screen: strategy, data, method and ranges; live progress with the best
result so far; then the results table and, for walk-forward, the out-of-sample equity.

The search runs in a thread worker through tui_trader.optimize; progress comes back at most
5 times a second, and Esc sets the optimizer's stop event (the trials done so far are kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Input, ProgressBar, Select, Static
from textual.worker import get_current_worker

from tui_trader.core.errors import UserError
from tui_trader.ui.research.base import ResearchScreen
from tui_trader.ui.research.cells import cell, params_text
from tui_trader.ui.research.charts import CellPlot, draw_curve
from tui_trader.ui.research.progress import Throttle
from tui_trader.ui.research.sources import DataSource

if TYPE_CHECKING:
    from tui_trader.optimize import OptimizationResult, Progress, WalkForwardResult

OBJECTIVES = ("sharpe", "sortino", "calmar", "total_return", "profit_factor", "max_drawdown")
METHODS = ("tpe", "random", "grid")
DEFAULT_METHOD = "tpe"  # Optuna's sampler: a good result in a bounded number of trials
DEFAULT_TRIALS = 100
TOP = 50  # rows in the results table


@dataclass(frozen=True)
class OptimizeRequest:
    """The form, checked on the UI thread."""

    strategy: str
    source: DataSource
    method: str
    trials: int | None
    objective: str
    space: tuple[str, ...]  # `--space` items: fast=5:15 slow=20:80:5
    jobs: int | None
    walk_forward: bool
    train: str
    test: str


def _int(text: str, what: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise UserError(f"{what} must be a whole number of at least 1 (got {text!r})")
    return int(text)


def describe_space(strategy: Any) -> tuple[str, str]:
    """(`fast 5..30 · slow 20..100`, `fast=5:30 slow=20:100`): what the strategy lets the
    optimizer search, and an example of narrowing it in the ranges field, in its own names."""
    from tui_trader.optimize import build_space

    space = build_space(strategy)
    dims = space.describe()["dimensions"]
    if not dims:
        return "no optimizable parameters", ""
    example = " ".join(_narrowing(d) for d in dims[:2])
    parts = []
    for d in dims:
        if "values" in d:
            values = d["values"]
            shown = f"{values[0]}..{values[-1]} ({len(values)})" if len(values) > 6 else ",".join(map(str, values))
            parts.append(f"{d['name']} {shown}")
        else:
            parts.append(f"{d['name']} {d['low']:g}..{d['high']:g}")
    try:
        grid = f" · a full grid is {space.grid_size():,} trials"
    except Exception:  # continuous ranges have no grid
        grid = ""
    return " · ".join(parts) + grid, example


def _narrowing(dim: dict[str, Any]) -> str:
    """One dimension as the ranges field writes it: `name=low:high`, or `name=a,b` for choices."""
    values = dim.get("values")
    if values is None:
        return f"{dim['name']}={dim['low']:g}:{dim['high']:g}"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return f"{dim['name']}={values[0]}:{values[-1]}"
    return f"{dim['name']}={','.join(map(str, values[:2]))}"


class OptimizeScreen(ResearchScreen):
    """F6: search parameters (or walk forward) locally, watching the best so far."""

    DEFAULT_CSS = """
    OptimizeScreen { layout: vertical; }
    OptimizeScreen .row { height: auto; }
    OptimizeScreen .row Select { width: 1fr; }
    OptimizeScreen .row Input { width: 1fr; }
    OptimizeScreen #trials, OptimizeScreen #jobs, OptimizeScreen #train, OptimizeScreen #test { width: 10; }
    OptimizeScreen #space-hint { height: auto; padding: 0 1; color: $text-muted; }
    OptimizeScreen #status { height: auto; padding: 0 1; }
    OptimizeScreen #status.error { color: $error; text-style: bold; }
    OptimizeScreen #best { height: auto; padding: 0 1; }
    OptimizeScreen ProgressBar { height: 1; padding: 0 1; }
    OptimizeScreen #output { height: 1fr; }
    OptimizeScreen #results { height: 1fr; }
    OptimizeScreen #oos { height: 1fr; display: none; }
    OptimizeScreen.-walk-forward #oos { display: block; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.result: OptimizationResult | None = None
        self.walk: WalkForwardResult | None = None
        self.progress: Progress | None = None

    def compose(self) -> ComposeResult:
        yield Static("[b]Optimize[/]  ctrl+r run · Esc stop/close", id="title")
        with Horizontal(classes="row"):
            yield Select([], prompt="strategy", id="strategy", compact=True)
            yield Select([], prompt="data", id="source", compact=True)
        with Horizontal(classes="row"):
            # A bounded search by default: a full grid can be thousands of trials (the hint says how many).
            yield Select([(m, m) for m in METHODS], value=DEFAULT_METHOD, allow_blank=False, id="method", compact=True)
            yield Input(str(DEFAULT_TRIALS), placeholder="trials", id="trials", compact=True)
            yield Select([(o, o) for o in OBJECTIVES], value="sharpe", allow_blank=False, id="objective", compact=True)
            yield Input("1", placeholder="jobs (blank: all cores)", id="jobs", compact=True)
            yield Button("Run", id="run", compact=True, variant="primary")
        with Horizontal(classes="row"):
            yield Input(placeholder="ranges (blank: declared)", id="space", compact=True)
            yield Checkbox("walk-forward", id="walk", compact=True)
            yield Input("90d", placeholder="train", id="train", compact=True)
            yield Input("30d", placeholder="test", id="test", compact=True)
        yield Static("", id="space-hint")
        yield ProgressBar(show_eta=False, id="progress")
        yield Static("loading strategies…", id="status")
        yield Static("", id="best")
        with Vertical(id="output"):
            yield DataTable(id="results", cursor_type="row", zebra_stripes=True)
            yield CellPlot(id="oos")

    # -- ranges -----------------------------------------------------------------------------

    @on(Select.Changed, "#strategy")
    def _strategy_changed(self) -> None:
        name = self.choice("#strategy")
        if name:
            self.load_space(name)

    @work(thread=True, exclusive=True, group="optimize-space", exit_on_error=False)
    def load_space(self, name: str) -> None:
        from tui_trader.strategy.loader import load_strategy

        example = ""
        try:
            text, example = describe_space(load_strategy(name, self.strategies_dirs))
        except UserError as exc:
            text = str(exc)
        self.app.call_from_thread(self.query_one("#space-hint", Static).update, f"{name}: {text}")
        hint = f"ranges, e.g. {example} (blank: declared)" if example else "ranges (blank: declared)"
        self.app.call_from_thread(setattr, self.query_one("#space", Input), "placeholder", hint)

    @on(Checkbox.Changed, "#walk")
    def _walk_changed(self, event: Checkbox.Changed) -> None:
        self.set_class(event.value, "-walk-forward")

    # -- run --------------------------------------------------------------------------------

    def request(self) -> OptimizeRequest:
        strategy, source = self.picked()
        return OptimizeRequest(
            strategy=strategy,
            source=source,
            method=self.choice("#method") or DEFAULT_METHOD,
            trials=_int(self.query_one("#trials", Input).value, "trials"),
            objective=self.choice("#objective") or "sharpe",
            space=tuple(self.query_one("#space", Input).value.split()),
            jobs=_int(self.query_one("#jobs", Input).value, "jobs"),
            walk_forward=self.query_one("#walk", Checkbox).value,
            train=self.query_one("#train", Input).value.strip(),
            test=self.query_one("#test", Input).value.strip(),
        )

    def action_run(self) -> None:
        if self.running:
            self.say("an optimization is running: Esc stops it")
            return
        try:
            req = self.request()
        except UserError as exc:
            self.say(str(exc), error=True)
            return
        self.stop.clear()
        self.progress = None
        self.show_progress(0, None)
        self.query_one("#best", Static).update("")
        self.say(f"optimizing {req.strategy} on {req.source.symbol} ({req.method})…")
        self.start_job(self.run_job(req))

    @work(thread=True, exclusive=True, exit_on_error=False, group="optimize")
    def run_job(self, req: OptimizeRequest) -> None:
        from tui_trader.optimize import optimize, walk_forward
        from tui_trader.strategy.loader import load_strategy

        worker = get_current_worker()
        strategy = load_strategy(req.strategy, self.strategies_dirs)
        df, timeframe = self.load_candles(req.source, strategy)
        if worker.is_cancelled:
            return
        throttle = Throttle(lambda p: self.app.call_from_thread(self.show_live, p), hz=5)
        common: dict[str, Any] = {
            "timeframe": timeframe,
            "method": req.method,
            "trials": req.trials,
            "space": req.space or None,
            "jobs": req.jobs,
            "seed": 1,
            "on_progress": throttle,
            "stop": self.stop,
            "risk": self.risk,
        }
        data = {req.source.symbol: df}
        if req.walk_forward:
            walk = walk_forward(
                strategy, data, train=req.train, test=req.test, objective=req.objective, **common
            )
            throttle.flush()
            if not worker.is_cancelled:
                self.app.call_from_thread(self.show_walk_forward, walk)
            return
        result = optimize(strategy, data, objectives=(req.objective,), **common)
        throttle.flush()
        if not worker.is_cancelled:
            self.app.call_from_thread(self.show_result, result)

    # -- progress and results ---------------------------------------------------------------

    def show_live(self, p: Progress) -> None:
        """One throttled progress report: the bar, the trial count and the best so far."""
        if not self.running:
            return
        self.progress = p
        self.show_progress(p.done, p.total or None)
        window = f"window {p.window + 1}/{p.windows} · " if p.window is not None and p.windows else ""
        self.say(f"{window}{p.phase} {p.done}/{p.total} trials · {p.elapsed:.1f} s")
        if p.best is not None:
            self.query_one("#best", Static).update(
                f"best so far: #{p.best.number} {cell('v', p.best.value)}  {params_text(p.best.params)}"
            )

    def show_result(self, result: OptimizationResult) -> None:
        self.result = result
        self.hide_progress()
        counts = result.to_dict(trials=False)["counts"]
        over = result.overfitting
        warn = f" · {over.warning}" if over is not None and getattr(over, "warning", None) else ""
        self.say(
            f"{result.method}: {counts['trials']} trials ({counts['ok']} ok, {counts['rejected']} rejected, "
            f"{counts['failed']} failed) in {result.elapsed:.1f} s{' · stopped' if result.stopped else ''}{warn}"
        )
        best = result.best
        self.query_one("#best", Static).update(
            f"best: #{best.number} {result.objectives[0]} {cell(result.objectives[0], best.value)}  "
            f"{params_text(best.params)}"
            if best
            else "no trial passed (too few trades? lower the minimum or widen the ranges)"
        )
        table = self.query_one("#results", DataTable)
        table.clear(columns=True)
        table.add_columns("#", result.objectives[0], "return", "max dd", "trades", "params")
        reverse = result.directions[0] == "maximize"
        ranked = sorted(result.completed, key=lambda t: t.value if t.value is not None else 0.0, reverse=reverse)
        for t in ranked[:TOP]:
            m = t.metrics
            table.add_row(
                str(t.number),
                cell(result.objectives[0], t.value),
                cell("total_return", m.get("total_return")),
                cell("max_drawdown", m.get("max_drawdown")),
                cell("trades", m.get("trades")),
                params_text(t.params),
                key=str(t.number),
            )

    def show_walk_forward(self, walk: WalkForwardResult) -> None:
        self.walk = walk
        self.hide_progress()
        eff = cell("efficiency", walk.efficiency)
        self.say(
            f"walk-forward: {len(walk.windows)} windows in {walk.elapsed:.1f} s · efficiency {eff}"
            f" · out-of-sample return {cell('total_return', walk.oos_metrics.get('total_return'))}"
            + (f" · {walk.warning}" if walk.warning else "")
        )
        self.query_one("#best", Static).update(f"objective {walk.objective} · PBO {cell('pbo', walk.pbo)}")
        table = self.query_one("#results", DataTable)
        table.clear(columns=True)
        table.add_columns("window", "test", "in-sample", "out-of-sample", "params")
        for w in walk.windows:
            table.add_row(
                str(w.index + 1),
                f"{w.test_start:%Y-%m-%d %H:%M}",
                cell("v", w.is_value),
                cell("v", w.oos_value),
                params_text(w.params),
                key=str(w.index),
            )
        self.call_after_refresh(
            lambda: draw_curve(self.query_one("#oos", CellPlot), walk.oos_equity, self.app.palette)  # type: ignore[attr-defined]
        )


__all__ = ["OptimizeRequest", "OptimizeScreen", "describe_space"]
