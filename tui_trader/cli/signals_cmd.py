"""`tui-trader signals ...`: parse chat signals (train / predict plug in here too).

To add a sub-command, write `_add_<name>(inner)` that builds its parser with
`add_command(inner, ...)` and append it to SUBCOMMANDS.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from tui_trader.cli.common import add_command, print_json
from tui_trader.core.errors import UsageError

SubParsers = argparse._SubParsersAction  # type: ignore[type-arg]


def register(sub: SubParsers) -> None:
    parser = add_command(sub, "signals", "AI signals: parse chat trade signals, train and predict")
    inner = parser.add_subparsers(dest="signals_command", metavar="SUBCOMMAND", parser_class=type(parser))
    for add in SUBCOMMANDS:
        add(inner)
    names = ", ".join(inner.choices)

    def no_subcommand(args: argparse.Namespace) -> int:
        raise UsageError(f"signals: choose a sub-command ({names}); see `tui-trader signals --help`")

    parser.set_defaults(handler=no_subcommand)


# ---- parse -------------------------------------------------------------------

def _add_parse(inner: SubParsers) -> None:
    p = add_command(inner, "parse", "read a chat trade signal and print its fields", _parse, json_flag=True)
    p.add_argument("text", nargs="+", metavar="TEXT", help="the message (quote it, or pass it as words)")
    p.add_argument("--symbols", default=None, help="comma-separated known symbols, e.g. BTC/USDT,ETH/USDT,AAPL")


def _parse(args: argparse.Namespace) -> int:
    from tui_trader.signals.chat import parse_signal

    known = [s.strip() for s in args.symbols.split(",") if s.strip()] if args.symbols else None
    sig = parse_signal(" ".join(args.text), known_symbols=known)
    if getattr(args, "json", False):
        print_json(sig.as_dict())
        return 0
    d = sig.as_dict()
    entry = d["entry"]
    rows = [
        ("symbol", d["symbol"]),
        ("side", f"{d['side']} ({d['direction']})"),
        ("entry", " - ".join(entry) if isinstance(entry, list) else entry or "market"),
        ("stop", d["stop"] or "-"),
        ("targets", ", ".join(d["targets"]) or "-"),
        ("leverage", f"{d['leverage']}x" if d["leverage"] else "-"),
        ("R (TP1)", "-" if d["risk_reward"] is None else f"{d['risk_reward']:.2f}"),
        ("confidence", f"{d['confidence']:.2f}"),
    ]
    for name, value in rows:
        print(f"{name:<11} {value}")
    for reason in d["reasons"]:
        print(f"{'note':<11} {reason}")
    return 0


# The ML engineer appends `_add_train`, `_add_predict` here.
SUBCOMMANDS: list[Callable[[SubParsers], None]] = [_add_parse]
