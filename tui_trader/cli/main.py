"""Entry point for `tui-trader`. Keeps imports light: heavy modules load inside handlers."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tui_trader import __version__
from tui_trader.cli.common import add_common
from tui_trader.core.errors import UsageError, UserError

# Each module defines `register(subparsers)` and gives every parser a `handler`
# default: `handler(args) -> int`. Order is the order in `--help`.
COMMAND_MODULES: tuple[str, ...] = (
    "tui_trader.cli.ui_cmd",
    "tui_trader.cli.daemon_cmd",
    "tui_trader.cli.attach_cmd",
    "tui_trader.cli.control_cmd",
    "tui_trader.cli.quote_cmd",
    "tui_trader.cli.scan_cmd",
    "tui_trader.cli.venue_cmd",
    "tui_trader.cli.config_cmd",
    "tui_trader.cli.data_cmd",
    "tui_trader.cli.signals_cmd",
    "tui_trader.cli.keys_cmd",
    "tui_trader.cli.strategies_cmd",
    "tui_trader.cli.backtest_cmd",
    "tui_trader.cli.optimize_cmd",
    "tui_trader.cli.league_cmd",
    "tui_trader.cli.copy_cmd",
    "tui_trader.cli.serve_cmd",
)

# The module that registers each command: a command line naming one registers only its module
# (importing and building all of them is ~20 ms of every command's start); a bare `tui-trader`
# (options only: the workstation) registers none; `--help`, `--version` and an unknown command
# register every module. tests/foundation checks the table.
COMMANDS: dict[str, str] = {
    "ui": "tui_trader.cli.ui_cmd",
    "daemon": "tui_trader.cli.daemon_cmd",
    "attach": "tui_trader.cli.attach_cmd",
    **dict.fromkeys(
        ("status", "positions", "orders", "fills", "order", "modify", "cancel", "flatten", "risk"),
        "tui_trader.cli.control_cmd",
    ),
    "quote": "tui_trader.cli.quote_cmd",
    "scan": "tui_trader.cli.scan_cmd",
    "venue": "tui_trader.cli.venue_cmd",
    "config": "tui_trader.cli.config_cmd",
    "data": "tui_trader.cli.data_cmd",
    "signals": "tui_trader.cli.signals_cmd",
    "keys": "tui_trader.cli.keys_cmd",
    "strategies": "tui_trader.cli.strategies_cmd",
    "backtest": "tui_trader.cli.backtest_cmd",
    "optimize": "tui_trader.cli.optimize_cmd",
    "league": "tui_trader.cli.league_cmd",
    "copy": "tui_trader.cli.copy_cmd",
    "serve": "tui_trader.cli.serve_cmd",
}
_TAKES_VALUE = ("--home", "--config")


def command_of(argv: Sequence[str]) -> str | None:
    """The command a command line names (its first word that is not an option or an
    option's value), None for top-level help or version."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in _TAKES_VALUE:
            skip = True
        elif token in ("-h", "--help", "--version", "--"):
            return None
        elif not token.startswith("-"):
            return token
    return None


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so usage errors become one clean line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`: every command's, only the module of the command it names, or
    none when it names no command and asks for no help (`tui-trader [--home H] [--demo]...`:
    the workstation, whose start this keeps short; its options are all top-level ones)."""
    modules = COMMAND_MODULES
    if argv is not None:
        command = command_of(argv)
        if command is None and not any(t in ("-h", "--help", "--version", "--") for t in argv):
            modules = ()
        elif command in COMMANDS:
            modules = (COMMANDS[command],)
    parser = _Parser(prog="tui-trader", description="Terminal trading workstation.")
    parser.add_argument("--version", action="version", version=f"tui-trader {__version__}")
    add_common(parser)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run two teaching strategies on the paper market's 1-minute bars (docs/paper.md)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import os

    os.umask(os.umask(0) | 0o077)  # everything tui-trader creates (home, logs, data) is private
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        parser = build_parser(argv)
        args = parser.parse_args(argv)
        for name, default in (("home", None), ("config", None), ("debug", False)):
            if not hasattr(args, name):
                setattr(args, name, default)
        handler = getattr(args, "handler", None)
        if handler is None:
            from tui_trader.cli.ui_cmd import run_tui

            return run_tui(args)
        return int(handler(args) or 0)
    except UserError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
