"""`tui-trader daemon`: the engine headless, with the control API (see docs/daemon.md)."""

from __future__ import annotations

import argparse

from tui_trader.cli.common import add_command, context


def register(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "daemon", "run the engine headless until SIGTERM/SIGINT (SIGHUP reloads)", run_daemon)
    parser.add_argument("--live", action="store_true", help="arm live venues (real money)")
    parser.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="run two teaching strategies on the paper market's 1-minute bars (docs/paper.md)",
    )


def run_daemon(args: argparse.Namespace) -> int:
    ctx = context(args, ensure=False)  # the run dir's permissions are checked before anything fixes them
    from tui_trader.daemon.runtime import run_daemon as run

    return run(ctx.home, ctx.settings, ctx.config_file, live=args.live)
