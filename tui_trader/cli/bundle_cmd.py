"""`tui-trader strategies pack NAME` and `strategies install FILE`: signed strategy bundles
(format and checks in tui_trader/strategy/bundle.py, keys and trust in strategy/authors.py)."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui_trader.cli.common import Context, add_command, context, print_json
from tui_trader.core.errors import UsageError, UserError

PACK_DAYS = 30
PACK_CAPITAL = 10_000.0


def register_actions(actions: argparse._SubParsersAction) -> None:
    p = add_command(
        actions,
        "pack",
        "write a strategy, its parameters, required data and a backtest summary to one signed file",
        _pack,
        json_flag=True,
    )
    p.add_argument("name", help="a strategy name (see `strategies list`) or its .py/.toml file")
    p.add_argument("--out", "-o", help="the bundle file (default: NAME.ttbundle here)")
    p.add_argument("--symbols", help="symbols of the backtest summary, comma separated (default: BTC/USDT)")
    p.add_argument("--days", type=int, default=PACK_DAYS, help="days of paper-market history to backtest")
    p.add_argument("--author", help="your name as the bundle shows it (default: your login name)")
    p = add_command(
        actions,
        "install",
        "verify a strategy bundle, show its author and summary, and install it on confirmation",
        _install,
        json_flag=True,
    )
    p.add_argument("file", help="a .ttbundle file")
    p.add_argument("--yes", "-y", action="store_true", help="install without asking (scripts)")
    p.add_argument("--replace", action="store_true", help="replace a different strategy file of the same name")


# -- pack -------------------------------------------------------------------------------------------


def _pack(args: argparse.Namespace) -> int:
    from tui_trader.strategy.authors import author_key
    from tui_trader.strategy.bundle import SUFFIX, pack, read_bundle

    ctx = context(args)
    if not 1 <= args.days <= 3650:
        raise UsageError("--days must be between 1 and 3650")
    payload = _payload(ctx, args)
    key = author_key(ctx.home.root)
    data = pack(payload, key)
    bundle = read_bundle(data)  # what we wrote is what install will read
    out = Path(args.out).expanduser() if args.out else Path.cwd() / f"{payload['name']}{SUFFIX}"
    _write_private(out, data, replace=True)
    result = {
        "file": str(out),
        "bytes": len(data),
        "sha256": bundle.sha256,
        "name": bundle.name,
        "fingerprint": key.fingerprint,
        "key_file": str(key.path),
        "key_created": key.created,
        "backtest": payload["backtest"],
    }
    if args.json:
        print_json(result)
        return 0
    if key.created:
        print(f"created your author key {key.path} (keep it private; it signs your bundles)", file=sys.stderr)
    print(f"wrote {out} ({len(data):,} bytes), sha256 {bundle.sha256}")
    print(f"signed by {bundle.author or 'you'}, key {key.fingerprint}")
    print(_summary_line(payload["backtest"]))
    return 0


def _payload(ctx: Context, args: argparse.Namespace) -> dict[str, Any]:
    from tui_trader import __version__
    from tui_trader.backtest.paper_market import PaperHistory, backtest_on, summary, window_for_days
    from tui_trader.strategy.errors import UnknownStrategy
    from tui_trader.strategy.loader import locate_strategy

    try:
        cls, path = locate_strategy(args.name, [ctx.home.strategies_dir])
    except UnknownStrategy as exc:  # the command line named it: a usage error (exit 2), as backtest
        raise UsageError(str(exc)) from None
    if path is None or path.suffix not in (".py", ".toml"):
        raise UserError(
            f"{args.name} comes from an installed package; only a strategy in one .py or .toml file can be packed"
        )
    source = path.read_text(encoding="utf-8")
    table = _config_table(ctx, cls)
    strategy = cls()
    if table is not None and table.params:
        strategy.set_parameters(table.params)
    symbols = _symbols(args.symbols) if args.symbols else (list(table.symbols) if table else ["BTC/USDT"])
    start, end = window_for_days(args.days)
    history = PaperHistory(ctx.settings.paper)
    frames = history.frames(symbols, strategy.timeframe, start, end, strategy.startup_candle_count)
    result = backtest_on(strategy, frames, start, end, capital=PACK_CAPITAL, risk=ctx.settings.risk)
    informative = []
    with contextlib.suppress(Exception):  # a strategy that needs its data provider here tells us nothing
        informative = [list(pair) for pair in strategy.informative_pairs()]
    return {
        "name": strategy.name,
        "kind": "rules" if path.suffix == ".toml" else "python",
        "file": path.name,
        "source": source,
        "parameters": strategy.parameter_values(),
        "requires": {
            "timeframe": strategy.timeframe,
            "startup_candle_count": int(strategy.startup_candle_count),
            "symbols": symbols,
            "informative": informative,
            "can_short": bool(getattr(strategy, "can_short", False)),
        },
        "backtest": summary(result, {"data": "paper", "seed": ctx.settings.paper.seed, "symbols": symbols}),
        "author": args.author or _login(),
        "created": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "tool": f"tui-trader {__version__}",
    }


def _config_table(ctx: Context, cls: Any) -> Any:
    """The `[strategies.X]` table that runs this strategy, if any (its params and symbols)."""
    wanted = {str(getattr(cls, "name", "") or cls.__name__).lower(), cls.__name__.lower()}
    for table_name, table in ctx.settings.strategies.items():
        if (table.strategy or table_name).lower() in wanted:
            return table
    return None


def _symbols(text: str) -> list[str]:
    out = [s.strip().upper() for s in text.split(",") if s.strip()]
    if not out:
        raise UsageError("--symbols needs at least one symbol, e.g. BTC/USDT,ETH/USDT")
    return out


def _login() -> str:
    try:
        return getpass.getuser()[:64]
    except (KeyError, OSError):
        return ""


# -- install ----------------------------------------------------------------------------------------


def _install(args: argparse.Namespace) -> int:
    from tui_trader.strategy.authors import KnownAuthors
    from tui_trader.strategy.bundle import MAX_BUNDLE_BYTES, BundleRefused, compile_check, read_bundle

    ctx = context(args)
    path = Path(args.file).expanduser()
    if not path.is_file():
        raise UsageError(f"no such bundle file: {path}")
    with open(path, "rb") as fh:
        data = fh.read(MAX_BUNDLE_BYTES + 1)
    bundle = read_bundle(data)
    compile_check(bundle)
    known = KnownAuthors(ctx.home.root)
    trust = known.trust(bundle.fingerprint, bundle.author)
    target = ctx.home.strategies_dir / bundle.file
    if target.parent.resolve() != ctx.home.strategies_dir.resolve() or target.is_symlink():
        raise BundleRefused(f"refused: {target} is not a plain file in {ctx.home.strategies_dir}")
    same = target.is_file() and target.read_bytes() == bundle.source.encode()
    if target.exists() and not same and not args.replace:
        raise UserError(f"{target} exists with other content; pass --replace to overwrite it (nothing changed)")
    info = _describe(bundle, trust, target, same)
    from tui_trader.strategy.loader import bundled_dir

    if (bundled_dir() / bundle.file).exists():
        info["lines"].append(
            f"note: a bundled strategy is also in {bundle.file}; a name both define finds the bundled one first"
        )
    if not args.json:
        for line in info["lines"]:
            print(line)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("install asks for confirmation on a terminal; pass --yes to install from a script")
        answer = input(f"install {bundle.name} into {target}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("not installed", file=sys.stderr)
            return 1
    if not same:
        _write_private(target, bundle.source.encode(), replace=True)
    known.remember(bundle.fingerprint, bundle.public_key, bundle.author, bundle.name, datetime.now(UTC))
    result = {k: v for k, v in info.items() if k != "lines"} | {"installed": str(target), "unchanged": same}
    if args.json:
        print_json(result)
        return 0
    print(f"installed {target}" + (" (it was already there)" if same else ""))
    print("to run it, add to config.toml:\n" + _config_snippet(bundle))
    return 0


def _describe(bundle: Any, trust: Any, target: Path, same: bool) -> dict[str, Any]:
    payload = bundle.payload
    req = payload["requires"]
    params = ", ".join(f"{k}={v}" for k, v in payload["parameters"].items()) or "none"
    lines = [
        f"bundle {bundle.name} ({payload['kind']}, {bundle.file}), sha256 {bundle.sha256}: signature verified",
        trust.describe(bundle.author),
        f"made {payload['created']} with {payload['tool']}",
        f"needs {req.get('timeframe')} bars, {req.get('startup_candle_count')} to warm up; "
        f"symbols {', '.join(req.get('symbols') or []) or '-'}",
        f"parameters: {params}",
        _summary_line(payload["backtest"]),
        "a strategy is code that runs with your rights: install only what you would run yourself",
    ]
    return {
        "name": bundle.name,
        "file": bundle.file,
        "sha256": bundle.sha256,
        "author": bundle.author,
        "fingerprint": bundle.fingerprint,
        "known_author": trust.known,
        "name_clash": trust.name_clash,
        "requires": req,
        "parameters": payload["parameters"],
        "backtest": payload["backtest"],
        "target": str(target),
        "lines": lines,
    }


def _summary_line(bt: dict[str, Any]) -> str:
    m = bt.get("metrics") or {}

    def pct(key: str) -> str:
        value = m.get(key)
        return "-" if value is None else f"{float(value) * 100:+.2f}%"

    sharpe = m.get("sharpe")
    return (
        f"backtest ({bt.get('data')} seed {bt.get('seed')}, {', '.join(bt.get('symbols') or [])} "
        f"{bt.get('timeframe')}, {str(bt.get('start'))[:10]} to {str(bt.get('end'))[:10]}): "
        f"return {pct('total_return')}, Sharpe {'-' if sharpe is None else f'{float(sharpe):.2f}'}, "
        f"max drawdown {pct('max_drawdown').lstrip('+')}, {m.get('trades', 0)} trades"
    )


def _config_snippet(bundle: Any) -> str:
    import json

    payload = bundle.payload
    symbols = json.dumps(payload["requires"].get("symbols") or ["BTC/USDT"])
    params = ", ".join(f"{k} = {json.dumps(v)}" for k, v in payload["parameters"].items())
    return f"  [strategies.{bundle.name}]\n  symbols = {symbols}\n  params = {{ {params} }}"


def _write_private(path: Path, data: bytes, *, replace: bool) -> None:
    """Write atomically (a temporary file in the same folder, then a rename), 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if not replace and path.exists():
            raise UserError(f"{path} exists; nothing was written")
        os.replace(tmp, path)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
