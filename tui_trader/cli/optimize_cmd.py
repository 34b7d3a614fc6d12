"""`tui-trader optimize`: search a strategy's parameters, or walk forward, locally or on Dask."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from tui_trader.cli.common import add_command, context, print_json, timeframe_arg
from tui_trader.cli.sources import load_candles_arg, load_strategy_arg
from tui_trader.core.errors import UsageError

if TYPE_CHECKING:
    from tui_trader.optimize.results import OptimizationResult, Progress, WalkForwardResult


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = add_command(
        sub, "optimize", "optimize strategy parameters (or walk forward)", _optimize, json_flag=True
    )
    p.add_argument("--strategy", required=True, help="strategy name or .py/.toml file")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", metavar="FILE", help="candle file (CSV, Parquet, Freqtrade json)")
    src.add_argument("--venue", help="stored candles of this venue (with --symbol)")
    p.add_argument("--symbol", help="symbol, e.g. BTC/USDT (required with --venue)")
    p.add_argument("--timeframe", required=True, type=timeframe_arg, help="bar length, e.g. 1m, 5m, 1h")
    p.add_argument("--start", help="first bar used (ISO 8601, UTC), inclusive")
    p.add_argument("--end", help="end of the range (ISO 8601, UTC), exclusive")
    p.add_argument("--capital", type=float, default=10_000.0, help="starting quote balance")
    p.add_argument("--fee", type=float, default=0.001, help="fee rate per fill (0.001 = 0.1 %%)")
    p.add_argument("--slippage-bps", type=float, default=0.0, help="adverse slippage, bps")
    p.add_argument("--method", default="tpe", choices=("grid", "random", "tpe", "nsga2"),
                   help="search method (default tpe; grid ignores --trials)")  # fmt: skip
    p.add_argument("--trials", type=int, help="trials to run (default 100; per window)")
    p.add_argument(
        "--objective",
        default="sharpe",
        help="sharpe, sortino, calmar, total_return, profit_factor, ... or module:function",
    )
    p.add_argument("--objectives", help="several, comma-separated: a Pareto front is reported")
    p.add_argument("--min-trades", type=int, default=1, help="reject trials with fewer trades")
    p.add_argument(
        "--space",
        nargs="+",
        default=[],
        metavar="NAME=SPEC",
        help="narrow parameters: fast=5:30 slow=20:100:5 mode=ema,sma stop=0.05",
    )
    p.add_argument("--jobs", type=int, help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run trials on this Dask cluster")
    p.add_argument("--seed", type=int, help="seed for random/TPE/NSGA-II (reproducible runs)")
    p.add_argument("--no-cache", action="store_true", help="recompute indicators in every trial")
    p.add_argument("--top", type=int, default=10, help="rows in the results table")
    wf = p.add_argument_group("walk-forward")
    wf.add_argument(
        "--walk-forward", action="store_true", help="optimize in sample, test out of sample"
    )
    wf.add_argument("--train", default="90d", help="in-sample length (default 90d)")
    wf.add_argument("--test", default="30d", help="out-of-sample length (default 30d)")
    wf.add_argument("--step", help="window step (default: --test)")
    wf.add_argument("--anchored", action="store_true", help="keep the training start fixed")


def _optimize(args: argparse.Namespace) -> int:
    if args.venue and not args.symbol:
        raise UsageError("--venue needs --symbol (e.g. --venue binance --symbol BTC/USDT)")
    if args.scheduler and args.jobs:
        raise UsageError("--jobs is for local processes; with --scheduler the cluster decides")
    objectives = (args.objectives or args.objective).split(",")
    if args.walk_forward and len(objectives) > 1:
        raise UsageError("--walk-forward optimizes one --objective, not several --objectives")
    ctx = context(args)
    strategy = load_strategy_arg(args.strategy, ctx.home.strategies_dir)
    candles, symbol = load_candles_arg(args, ctx.home.data_dir, strategy)
    common: dict[str, Any] = {
        "timeframe": args.timeframe,
        "method": args.method,
        "trials": args.trials,
        "min_trades": args.min_trades,
        "space": args.space,
        "jobs": args.jobs,
        "scheduler": args.scheduler,
        "seed": args.seed,
        "capital": args.capital,
        "fee": args.fee,
        "slippage_bps": args.slippage_bps,
        "start": args.start,
        "end": args.end,
        "cache": not args.no_cache,
        "risk": ctx.settings.risk,  # trials size like `tui-trader backtest`: the live [risk]
    }
    with _ProgressBar() as bar:
        if args.walk_forward:
            from tui_trader.optimize import walk_forward

            wf = walk_forward(
                strategy, {symbol: candles}, objective=objectives[0], train=args.train,
                test=args.test, step=args.step, anchored=args.anchored,
                on_progress=bar.update, **common,
            )  # fmt: skip
        else:
            from tui_trader.optimize import optimize

            result = optimize(
                strategy, {symbol: candles}, objectives=objectives, on_progress=bar.update, **common
            )
    if args.walk_forward:
        if args.json:
            print_json(wf.to_dict())
        else:
            _print_walk_forward(wf)
        return 0
    if args.json:
        print_json(result.to_dict())
    else:
        _print_result(result, args.top)
    return 0 if result.best is not None else 1


class _ProgressBar:
    """A rich progress bar on stderr fed by the optimizer's Progress callback."""

    def __enter__(self) -> _ProgressBar:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("{task.fields[best]}"),
            console=Console(stderr=True), transient=True,
        )  # fmt: skip
        self.progress.start()
        self.task = self.progress.add_task("trials", total=None, best="")
        self.window: int | None = None
        return self

    def update(self, p: Progress) -> None:
        label = "trials" if p.window is None else f"window {p.window + 1}/{p.windows}"
        best = ""
        if p.best is not None and p.best.value is not None:
            params = " ".join(f"{k}={_num(v)}" for k, v in p.best.params.items())
            best = f"best {p.best.value:.4g} ({params})"
        if p.window != self.window:
            self.window = p.window
            self.progress.reset(self.task)
        self.progress.update(
            self.task, completed=p.done, total=p.total or None, description=label, best=best
        )

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def _num(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value * 100:.2f} %"


def _print_result(result: OptimizationResult, top: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    counts = result.to_dict(trials=False)["counts"]
    console.print(
        f"[bold]{result.strategy}[/] · {', '.join(result.symbols)} · {result.timeframe} · "
        f"{result.method} · {counts['trials']} trials ({counts['rejected']} rejected, "
        f"{counts['failed']} failed) · {result.workers} workers · {result.elapsed:.1f} s"
    )
    if result.best is None:
        failed = [t.reason for t in result.trials if t.status == "failed" and t.reason]
        if failed and len(failed) == counts["trials"]:  # one error (a hung strategy ...) said once
            console.print(f"[red]every trial failed: {failed[0]}[/]", markup=True, highlight=False)
        console.print("[red]no trial passed (see --min-trades, or the failed trials in --json)[/]")
        return
    ranked = result.pareto if len(result.objectives) > 1 else sorted(
        result.completed, key=lambda t: t.values[0] if t.values else 0.0,
        reverse=result.directions[0] == "maximize",
    )  # fmt: skip
    title = "Pareto front" if len(result.objectives) > 1 else f"top {top} by {result.objectives[0]}"
    table = Table(title=title)
    names = list(result.best.params)
    for col in ("#", *names, *result.objectives, "trades", "return", "max dd"):
        table.add_column(col, justify="right")
    for t in [x for x in ranked if not x.repeat][:top]:
        table.add_row(
            str(t.number), *(_num(t.params[n]) for n in names),
            *(_num(v) for v in t.values or ()), str(t.metrics.get("trades")),
            _pct(t.metrics.get("total_return")), _pct(t.metrics.get("max_drawdown")),
        )  # fmt: skip
    console.print(table)
    best = " ".join(f"{k}={_num(v)}" for k, v in result.best.params.items())
    console.print(f"best: [bold]{best}[/]")
    over = result.overfitting
    if over is not None and over.deflated_sharpe is not None:
        pbo = "-" if over.pbo is None else f"{over.pbo:.0%}"
        console.print(f"deflated Sharpe {over.deflated_sharpe:.2f} · PBO {pbo} "
                      f"over {over.trials} trials, {over.observations} days")  # fmt: skip
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}")


def _print_walk_forward(wf: WalkForwardResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"walk-forward · {wf.strategy} · {wf.objective} · "
                        f"{'anchored' if wf.anchored else 'rolling'}")  # fmt: skip
    for col in ("#", "train", "test", "params", "in sample", "out of sample", "OOS return"):
        table.add_column(col, justify="right")
    for w in wf.windows:
        params = " ".join(f"{k}={_num(v)}" for k, v in (w.params or {}).items()) or "-"
        table.add_row(
            str(w.index + 1), f"{w.train_start:%Y-%m-%d} → {w.train_end:%Y-%m-%d}",
            f"{w.test_start:%Y-%m-%d} → {w.test_end:%Y-%m-%d}", params,
            _num(w.is_value) if w.is_value is not None else "-",
            _num(w.oos_value) if w.oos_value is not None else "-",
            _pct(w.oos_metrics.get("total_return")),
        )  # fmt: skip
    console.print(table)
    m = wf.oos_metrics
    eff = "-" if wf.efficiency is None else f"{wf.efficiency:.0%}"
    pbo = "-" if wf.pbo is None else f"{wf.pbo:.0%}"
    sharpe = m.get("sharpe")
    console.print(
        f"stitched out of sample: return {_pct(m.get('total_return'))}, Sharpe "
        f"{'-' if sharpe is None else f'{sharpe:.2f}'}, max drawdown "
        f"{_pct(m.get('max_drawdown'))} · efficiency (OOS/IS) {eff} · PBO {pbo}"
    )
    if wf.warning:
        console.print(f"[yellow]warning:[/] {wf.warning}")
