"""`tui-trader daemon`: the engine headless until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from tui_trader.cli.common import add_command, context


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = add_command(sub, "daemon", "run the engine headless until SIGTERM/SIGINT", run_daemon)
    parser.add_argument("--live", action="store_true", help="arm live venues (real money)")


def run_daemon(args: argparse.Namespace) -> int:
    ctx = context(args)
    from tui_trader.logs import setup_logging

    setup_logging(ctx.home.logs_dir, "daemon")
    return asyncio.run(_serve(ctx, live=args.live))


async def _serve(ctx, *, live: bool) -> int:  # type: ignore[no-untyped-def]
    from tui_trader.engine import Engine

    engine = Engine(ctx.settings, ctx.home)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await engine.start()
    print(f"tui-trader daemon running ({engine.mode}), home {ctx.home.root}", file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        await engine.stop()
    print("tui-trader daemon stopped cleanly", file=sys.stderr, flush=True)
    return 0
