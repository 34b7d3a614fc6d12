"""`tui-trader attach`: the workstation on a running daemon. Quitting detaches; the daemon keeps running."""

from __future__ import annotations

import argparse
import os

from tui_trader.cli.common import add_command, context


def register(sub: argparse._SubParsersAction) -> None:
    parser = add_command(
        sub, "attach", "the workstation on a running daemon (quit detaches, the daemon keeps running)", run_attach
    )
    parser.add_argument(
        "--port", type=int, help="attach over TCP on 127.0.0.1:PORT (an SSH tunnel) with the daemon's token"
    )


def run_attach(args: argparse.Namespace) -> int:
    import asyncio

    ctx = context(args)
    from tui_trader.daemon.remote_client import RemoteClient
    from tui_trader.daemon.sessions import SESSION_ENV
    from tui_trader.logs import setup_logging

    hz = ctx.settings.daemon.snapshot_hz
    # Set by `tui-trader serve` for a browser or SSH user: this connection becomes that user, with
    # that user's role, as the daemon registered it. Taken out of the environment at once.
    session = os.environ.pop(SESSION_ENV, None) or None
    if args.port is not None:
        client = RemoteClient.for_tcp(ctx.home, args.port, refresh_hz=hz, session_token=session)
    else:
        client = RemoteClient.for_home(ctx.home, refresh_hz=hz, session_token=session)

    async def probe() -> None:  # fail in one line before the screen is taken over
        await client.connect()
        await client.close()

    asyncio.run(probe())
    client = RemoteClient(
        client.socket_path,
        host=client.host,
        port=client.port,
        token=client.token,
        refresh_hz=hz,
        home_label=client.home_label,
        session_token=session,
    )
    setup_logging(ctx.home.logs_dir, "attach")
    from tui_trader.cli.process_end import end_process_if_held, on_a_terminal
    from tui_trader.ui.app import WorkstationApp

    app = WorkstationApp(client, ctx.settings, ctx.home)
    terminal = on_a_terminal()
    app.run()
    # a terminal gone meanwhile must not keep the process
    return end_process_if_held(app.return_code or 0, started_on_terminal=terminal)
