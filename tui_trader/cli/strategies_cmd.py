"""`tui-trader strategies list / check FILE`: the strategy plugins and a dry run of one file
(enable / disable / reload NAME on the daemon: strategy_control.py; pack / install: bundle_cmd.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tui_trader.cli.common import add_command, context, print_json
from tui_trader.core.errors import UsageError

CHECK_BARS = 1500
CHECK_SEED = 42


def register(sub: argparse._SubParsersAction) -> None:
    group = add_command(sub, "strategies", "strategy plugins: list, check, pack, install", _usage)
    actions = group.add_subparsers(
        dest="strategies_command", metavar="ACTION", parser_class=type(group)
    )
    add_command(
        actions,
        "list",
        "strategies from plugins/, HOME/strategies and packages",
        _list,
        json_flag=True,
    )
    p = add_command(
        actions,
        "check",
        "import a strategy file, validate it and run it on synthetic candles",
        _check,
        json_flag=True,
    )
    p.add_argument("file", help="a strategy .py file or a rule-based .toml file")
    p.add_argument("--bars", type=int, default=CHECK_BARS, help="synthetic bars to run on")
    from tui_trader.cli.bundle_cmd import register_actions

    register_actions(actions)
    from tui_trader.cli import strategy_control

    strategy_control.register_actions(actions)


def _usage(args: argparse.Namespace) -> int:
    raise UsageError(
        "strategies needs an action: list, check FILE, pack NAME, install FILE, enable NAME, disable NAME or "
        "reload [NAME] (see `tui-trader strategies --help`)"
    )


def _list(args: argparse.Namespace) -> int:
    from tui_trader.strategy.loader import discover

    ctx = context(args)
    infos = discover([ctx.home.strategies_dir])
    if args.json:
        print_json({"strategies": infos})
        return 0
    if not infos:
        print(f"no strategies found (put .py or .toml files in {ctx.home.strategies_dir})")
        return 0
    width = max(len(i.name) for i in infos)
    for info in infos:
        where = info.path or info.package or ""
        if info.error:
            print(f"{info.name:<{width}}  BROKEN  {info.error}")
            continue
        params = ", ".join(f"{n}={p['value']}" for n, p in info.parameters.items()) or "-"
        print(
            f"{info.name:<{width}}  {info.timeframe or '?':>4}  {info.kind:<6}  {where}\n"
            f"{'':<{width}}  params: {params}"
        )
    broken = sum(1 for i in infos if i.error)
    if broken:
        print(f"{broken} strategy file(s) failed to load and are disabled", file=sys.stderr)
    return 0


def check_file(path: Path, bars: int = CHECK_BARS) -> list[dict[str, Any]]:
    """Load every strategy in `path` and run analyze on seeded synthetic candles."""
    from tui_trader.strategy.analysis import SIGNAL_COLUMNS, analyze
    from tui_trader.strategy.loader import load_file
    from tui_trader.strategy.synthetic import synthetic_ohlcv

    if path.suffix == ".toml":
        from tui_trader.strategy.rules import validate_rules

        errors = validate_rules(path.read_text(encoding="utf-8"))
        if errors:
            from tui_trader.strategy.errors import StrategyError

            first = errors[0]
            raise StrategyError(
                first.message + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
                file=str(path),
                line=first.line or None,
            )
    results = []
    for cls in load_file(path):
        strategy = cls()
        needed = max(bars, strategy.startup_candle_count * 2)
        candles = synthetic_ohlcv(needed, strategy.timeframe, seed=CHECK_SEED)
        trades = _check_backtest(strategy, candles, path)
        df = analyze(strategy, candles.copy(deep=False),
                     {"pair": "SYN/USD", "timeframe": strategy.timeframe})  # fmt: skip
        results.append(
            {
                "name": strategy.name,
                "class": cls.__name__,
                "file": str(path),
                "timeframe": strategy.timeframe,
                "bars": needed,
                "startup_candle_count": strategy.startup_candle_count,
                "signals": {c: int(df[c].sum()) for c in SIGNAL_COLUMNS},
                "trades": trades,
                "parameters": strategy.parameter_values(),
            }
        )
    return results


def _check_backtest(strategy: Any, candles: Any, path: Path) -> int:
    """Backtest the strategy on the synthetic candles, as `tui-trader backtest` would (self.dp,
    self.wallets and every hook called): a hook that raises fails the check with its message."""
    import logging

    from tui_trader.backtest import run_backtest
    from tui_trader.strategy.errors import StrategyError

    raised: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "raised" in record.getMessage():
                raised.append(record.getMessage())

    handler = Catch(logging.WARNING)
    loggers = [logging.getLogger(n) for n in ("tui_trader.strategy.exits", "tui_trader.backtest")]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        spot = not getattr(strategy, "can_short", False)
        res = run_backtest(strategy, {"SYN/USD": candles}, timeframe=strategy.timeframe,
                           stake_amount="unlimited", max_open_trades=1, protections=[],
                           enable_protections=True, lean=not spot)  # fmt: skip
    finally:
        for lg in loggers:
            lg.removeHandler(handler)
    if raised:
        raise StrategyError(f"{strategy.name}: a hook raised in a backtest: {raised[0]}", file=str(path))
    return int(res.metrics.get("trades") or 0)


def _check(args: argparse.Namespace) -> int:
    from tui_trader.strategy.errors import StrategyError

    path = Path(args.file).expanduser()
    if not path.is_file():
        raise UsageError(f"no such strategy file: {path}")
    if path.suffix not in (".py", ".toml"):
        raise UsageError(f"{path}: a strategy is a .py or .toml file")
    if args.bars < 10:
        raise UsageError("--bars must be at least 10")
    context(args, ensure=False)  # the settings: [engine] strategy_timeout_s bounds each evaluation
    try:
        results = check_file(path, args.bars)
    except StrategyError as exc:
        if args.json:
            print_json({"ok": False, "error": exc.message, "file": exc.file, "line": exc.line})
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print_json({"ok": True, "strategies": results})
        return 0
    for r in results:
        signals = ", ".join(f"{k} {v}" for k, v in r["signals"].items())
        print(f"ok  {r['name']} ({r['timeframe']}) on {r['bars']} synthetic bars: {signals}")
    return 0
