"""`tui-trader` (no command): the workstation with an in-process engine."""

from __future__ import annotations

import argparse

from tui_trader.cli.common import add_command, context


def register(sub: argparse._SubParsersAction) -> None:
    add_command(sub, "ui", "the workstation with an in-process engine (the default command)", run_tui)


def run_tui(args: argparse.Namespace) -> int:
    ctx = context(args)
    from tui_trader.logs import setup_logging

    setup_logging(ctx.home.logs_dir, "tui")
    from tui_trader.engine import Engine
    from tui_trader.engine.client import InProcessClient
    from tui_trader.ui.app import WorkstationApp

    engine = Engine(ctx.settings, ctx.home)
    engine.config_file = ctx.config_file  # "Reload config" re-reads it
    client = InProcessClient(engine)
    app = WorkstationApp(client, ctx.settings, ctx.home)
    app.run()
    return app.return_code or 0
