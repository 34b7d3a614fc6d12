"""`tui-trader keys set|list|delete VENUE`: API credentials in the keyring, never on argv."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from tui_trader.cli.common import Context, add_command, context, print_json
from tui_trader.core.errors import UsageError, UserError

if TYPE_CHECKING:
    from tui_trader.secrets import CredentialStore


def register(sub: argparse._SubParsersAction) -> None:
    keys = add_command(sub, "keys", "API credentials in the keyring (set / list / delete)")
    ksub = keys.add_subparsers(dest="keys_command", metavar="ACTION")
    p = add_command(
        ksub,
        "set",
        "store a venue's API key and secret (asked without echo; stdin lines without a terminal)",
        _set,
    )
    p.add_argument("venue", help="the [venues.NAME] this key is for")
    add_command(
        ksub,
        "list",
        "venue names and which fields are set (never the values)",
        _list,
        json_flag=True,
    )
    p = add_command(ksub, "delete", "remove a venue's credentials", _delete)
    p.add_argument("venue")
    keys.set_defaults(handler=lambda args: _usage())


def _usage() -> int:
    raise UsageError("tui-trader keys: choose set VENUE, list or delete VENUE")


def _store(args: argparse.Namespace) -> tuple[Context, CredentialStore]:
    from tui_trader.secrets import CredentialStore

    ctx = context(args)
    return ctx, CredentialStore.open(ctx.home)


def _set(args: argparse.Namespace) -> int:
    from tui_trader.secrets import Credentials, fields_for

    ctx, store = _store(args)
    vs = ctx.settings.venues.get(args.venue)
    names = fields_for(vs.kind if vs else "ccxt", vs.exchange if vs else None)
    labels: dict[str, str] = {}
    if vs is None and args.venue in _bot_token_names(ctx.settings.signals):
        names, labels = ("secret",), {"secret": "bot token"}  # one token, kept as the secret
    tty = sys.stdin.isatty()
    values: dict[str, str] = {}
    for name in names:
        label = labels.get(name, name.replace("_", " "))
        if tty:
            value = getpass.getpass(f"{args.venue} {label}: ")
        else:
            line = sys.stdin.readline()
            value = line.rstrip("\r\n")
        if not value and name != "passphrase":
            raise UserError(f"no {label} given for {args.venue}; nothing was stored")
        values[name] = value
    store.set(args.venue, Credentials(**values))
    note = "" if vs or labels else f" (no [venues.{args.venue}] in the config yet)"
    print(
        f"stored {', '.join(labels.get(k, k) for k, v in values.items() if v)} for {args.venue} "
        f"in {store.description}{note}",
        file=sys.stderr,
    )
    return 0


def _bot_token_names(signals: dict[str, object] | None) -> set[str]:
    """Keyring names that hold a single bot token (Discord) rather than a key and secret."""
    from tui_trader.core.errors import ConfigError
    from tui_trader.signals.settings import load_signals_settings

    try:
        return {"discord", load_signals_settings(signals).chat.discord.token_key}
    except ConfigError:
        return {"discord"}


def _list(args: argparse.Namespace) -> int:
    _, store = _store(args)
    index = store.index()
    if getattr(args, "json", False):
        print_json({"backend": store.description, "venues": index})
        return 0
    if not index:
        print("no credentials stored; `tui-trader keys set VENUE` adds some")
        return 0
    for venue, fields in sorted(index.items()):
        print(f"{venue:<16} {', '.join(fields)}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    _, store = _store(args)
    if not store.delete(args.venue):
        raise UserError(
            f"no credentials stored for {args.venue}; `tui-trader keys list` shows what is stored"
        )
    print(f"deleted credentials for {args.venue}", file=sys.stderr)
    return 0
