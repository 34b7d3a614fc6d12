"""`tui-trader` (no command): the workstation with an in-process engine.

One engine per home folder: when a daemon already runs the engine here, the workstation
attaches to it instead of starting a second one (a second paper exchange on the same journal
would fill orders twice and lose fills).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from tui_trader.cli.common import add_command, context

if TYPE_CHECKING:
    from tui_trader.engine import Engine


def register(sub: argparse._SubParsersAction) -> None:
    add_command(sub, "ui", "the workstation with an in-process engine (the default command)", run_tui)


def run_tui(args: argparse.Namespace) -> int:
    from tui_trader.cli.process_end import end_process_if_held, on_a_terminal
    from tui_trader.core.dataclass_code import keep_dataclass_code
    from tui_trader.core.regex_code import keep_regex_code
    from tui_trader.ui.heap import end_start_hold, hold_for_start

    keep_dataclass_code()  # Textual's and our dataclasses: their methods compiled once, not each start
    keep_regex_code()  # and the regular expressions of Textual, Rich, tomllib and the rest
    hold_for_start()  # no garbage collection passes until the first paint (ui/heap.py)
    terminal = on_a_terminal()
    try:
        code = _run_tui(args)
    finally:
        end_start_hold()
    # closed, the lock let go: a terminal gone meanwhile must not keep the process
    return end_process_if_held(code, started_on_terminal=terminal)


def _run_tui(args: argparse.Namespace) -> int:
    from tui_trader.cli.settings_check import SettingsCheck
    from tui_trader.home import HomeBusy, HomeLock

    ctx = context(args, defer=True)
    # the first screen's settings without pydantic: the defaults when nothing is set, else
    # checked by a child while the screen's modules load (cli/settings_check.py); known (or
    # refused) before the lock, the log or any paint, as when they were loaded here first
    check = SettingsCheck.start(ctx, fork=not args.debug)
    from tui_trader.engine.client import InProcessClient
    from tui_trader.ui.app import WorkstationApp

    settings = check.settings(ctx)
    try:
        lock = HomeLock(ctx.home.lock_path, "workstation").acquire()
    except HomeBusy as busy:
        if busy.role != "daemon" or not ctx.home.socket_path.exists():
            raise
        from tui_trader.cli.attach_cmd import run_attach

        print(f"a daemon (pid {busy.pid}) runs the engine for {ctx.home.root}: attaching to it", file=sys.stderr)
        args.port = None
        return run_attach(args)
    try:
        from tui_trader.logs import setup_logging

        setup_logging(ctx.home.logs_dir, "tui")

        def build() -> Engine:  # when the workstation starts the engine, after its first paint
            from tui_trader.engine import Engine

            engine = Engine(ctx.settings, ctx.home)
            engine.config_file = ctx.config_file  # "Reload config" re-reads it
            return engine

        client = InProcessClient(build)
        app = WorkstationApp(client, settings, ctx.home)
        app.run()
        return app.return_code or 0
    finally:
        lock.release()
