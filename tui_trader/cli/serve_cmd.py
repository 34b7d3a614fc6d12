"""`tui-trader serve web / ssh / passwd`: the workstation in a browser or over SSH, attached to the daemon."""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tui_trader.cli.common import add_command, context
from tui_trader.core.errors import UsageError

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable, Callable


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "serve", help="the workstation in a browser or over SSH, attached to the daemon (docs/serve.md)"
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="{web,ssh,passwd}")
    web = add_command(verbs, "web", "serve the workstation to browsers (login, then one workstation per tab)", run_web)
    web.add_argument("--host", help="address to listen on (default 127.0.0.1; beyond loopback needs TLS)")
    web.add_argument("--port", type=int, help="port (default 8765)")
    web.add_argument("--tls-cert", type=Path, help="PEM certificate chain: serve HTTPS")
    web.add_argument("--tls-key", type=Path, help="PEM private key for --tls-cert (0600)")
    web.add_argument(
        "--behind-proxy", action="store_true", default=None, help="a TLS reverse proxy is in front (nginx, Caddy)"
    )
    web.add_argument("--public-url", help="the address browsers use, e.g. https://trade.example.com")
    ssh = add_command(verbs, "ssh", "an SSH endpoint whose session is the workstation (keys in HOME/ssh)", run_ssh)
    ssh.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    ssh.add_argument("--port", type=int, help="port (default 2222)")
    passwd = add_command(
        verbs, "passwd", "make a web login: prints the [serve.users.NAME] table to put in config.toml", run_passwd
    )
    passwd.add_argument("name", help="the user's name (letters, digits, . _ @ + -)")
    passwd.add_argument("--role", choices=("viewer", "trader"), default="viewer", help="default viewer")
    passwd.add_argument(
        "--token", action="store_true", help="make a random token instead of asking for a password (shown once)"
    )


def _port(value: int | None, default: int) -> int:
    port = default if value is None else value
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be 0..65535, got {port}")
    return port


def _run_until_signal(main: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    import asyncio

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(runner())
    return 0


def run_web(args: argparse.Namespace) -> int:
    ctx = context(args)
    from tui_trader.logs import setup_logging
    from tui_trader.serve.link import DaemonLink
    from tui_trader.serve.users import Logins
    from tui_trader.serve.web import check_exposure, serve_web

    updates = {
        "host": args.host,
        "port": None if args.port is None else _port(args.port, 8765),
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
        "behind_proxy": args.behind_proxy,
        "public_url": args.public_url,
    }
    settings = ctx.settings.serve.web.model_copy(update={k: v for k, v in updates.items() if v is not None})
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    check_exposure(settings)
    users = ctx.settings.serve.users
    if not any(u.password_hash for u in users.values()):
        raise UsageError("no web logins yet: make one with `tui-trader serve passwd NAME` (docs/serve.md)")
    setup_logging(ctx.home.logs_dir, "serve-web")
    link = DaemonLink(ctx.home, ctx.config_file if ctx.config_file.exists() else None)
    return _run_until_signal(lambda stop: serve_web(link, settings, Logins(users), stop))


def run_ssh(args: argparse.Namespace) -> int:
    ctx = context(args)
    from tui_trader.logs import setup_logging
    from tui_trader.serve.link import DaemonLink
    from tui_trader.serve.ssh import serve_ssh

    updates = {"host": args.host, "port": None if args.port is None else _port(args.port, 2222)}
    settings = ctx.settings.serve.ssh.model_copy(update={k: v for k, v in updates.items() if v is not None})
    setup_logging(ctx.home.logs_dir, "serve-ssh")
    link = DaemonLink(ctx.home, ctx.config_file if ctx.config_file.exists() else None)
    return _run_until_signal(lambda stop: serve_ssh(ctx.home, link, settings, ctx.settings.serve.users, stop))


def run_passwd(args: argparse.Namespace) -> int:
    from tui_trader.daemon.sessions import USER_NAME
    from tui_trader.serve.users import hash_secret

    if not USER_NAME.match(args.name):
        raise UsageError(f"user name {args.name!r}: use letters, digits and . _ @ + - (at most 64)")
    if args.token:
        import secrets

        secret = secrets.token_urlsafe(24)
        print(f"token for {args.name} (shown once; it is their password): {secret}", file=sys.stderr)
    elif sys.stdin.isatty():
        secret = getpass.getpass(f"password for {args.name}: ")
        if secret != getpass.getpass("again: "):
            raise UsageError("the two passwords differ; nothing was printed")
    else:
        secret = sys.stdin.readline().rstrip("\n")
    if len(secret) < 12:
        raise UsageError("a password needs at least 12 characters (or use --token)")
    print(f'[serve.users.{args.name}]\nrole = "{args.role}"\npassword_hash = "{hash_secret(secret)}"')
    return 0
