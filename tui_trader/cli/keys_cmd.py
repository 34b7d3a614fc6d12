"""`tui-trader keys set|list|delete VENUE`: API credentials in the keyring, never on argv."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING, Any

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
    p.add_argument("venue", help="the [venues.NAME] this key is for (copy.NAME: a [copy.NAME] leader's token or key)")
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


def _ask(prompt: str, *, secret: bool = True) -> str:
    """One answer: without echo on a terminal (secrets), else the next stdin line."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt) if secret else input(prompt)
    return sys.stdin.readline().rstrip("\r\n")


def _set(args: argparse.Namespace) -> int:
    from tui_trader.secrets import Credentials, fields_for, labels_for
    from tui_trader.secrets.credentials import OPTIONAL_FIELDS

    ctx = context(args)
    vs = ctx.settings.venues.get(args.venue)
    kind: str = vs.kind if vs else "ccxt"
    if kind == "ib":
        raise UserError(f"{args.venue}: Interactive Brokers needs nothing stored here: log in to TWS or IB Gateway "
                        "and enable its API (docs/brokers.md#interactive-brokers)")  # fmt: skip
    from tui_trader.secrets import CredentialStore

    store = CredentialStore.open(ctx.home)  # a wrong keyring password stops here, before any question
    names = fields_for(kind, vs.exchange if vs else None)
    labels = labels_for(kind)
    if vs is None and args.venue in _bot_token_names(ctx.settings.signals):
        names, labels = ("secret",), {"secret": "bot token"}  # one token, kept as the secret
    copy = ctx.settings.copy_trading.get(args.venue.removeprefix("copy.")) if args.venue.startswith("copy.") else None
    if copy is not None and copy.leader == "daemon":
        names, labels = ("secret",), {"secret": "login token"}  # the viewer login the leader made for you
    elif copy is not None and copy.exchange is not None:
        names = fields_for("ccxt", copy.exchange.exchange)  # the leader account's read-only key
    values: dict[str, str] = {}
    for name in names:
        label = labels.get(name, name.replace("_", " "))
        value = _ask(f"{args.venue} {label}: ")
        if not value and name not in OPTIONAL_FIELDS:
            raise UserError(f"no {label} given for {args.venue}; nothing was stored")
        values[name] = value
    if kind == "schwab" and vs is not None:
        values["token"] = _schwab_login(args.venue, vs, values["api_key"], values["secret"])
    if kind == "robinhood":
        from tui_trader.venues.robinhood.venue import signing_key

        try:
            signing_key(values["secret"])
        except ValueError as exc:
            raise UserError(f"{args.venue}: {exc}; nothing was stored") from None
    store.set(args.venue, Credentials(**values))
    note = "" if vs or labels or copy else f" (no [venues.{args.venue}] in the config yet)"
    labels.setdefault("token", "login (OAuth token)")
    print(
        f"stored {', '.join(labels.get(k, k) for k, v in values.items() if v)} for {args.venue} "
        f"in {store.description}{note}",
        file=sys.stderr,
    )
    if kind == "moomoo" and vs is not None and vs.paper:
        print(f"{args.venue} trades moomoo's paper (SIMULATE) account, which takes no trade password: "
              f"it is used once [venues.{args.venue}] paper = false", file=sys.stderr)  # fmt: skip
        return 0
    running = _running_note(ctx, args.venue, kind if vs else None)
    if running:
        print(running, file=sys.stderr)
    return 0


def _running_note(ctx: Context, venue: str, kind: str | None) -> str:
    """What makes an engine running on this home use the keys just stored ("" if none runs,
    or the keys are not a venue's)."""
    from tui_trader.home import HomeLock

    holder = HomeLock.holder(ctx.home.lock_path)
    if holder is None or kind is None:
        return ""
    from tui_trader.venues.kinds import takes_keys  # the adapter's word: its package, not its library (~50 ms)

    pid, role = holder
    who = f" (pid {pid})" if pid else ""
    keyed = takes_keys(kind)
    if keyed and role == "daemon":
        return f"a daemon is running on this home{who}: `tui-trader venue reconnect {venue}` makes it use them"
    if keyed and role == "workstation":
        return f"the workstation is running on this home{who}: `:venue reconnect {venue}` there makes it use them"
    what = "a daemon" if role == "daemon" else "the tui-trader workstation" if role == "workstation" else "an engine"
    return f"{what} is running on this home{who}: it uses them once restarted"


def _schwab_login(venue: str, vs: Any, app_key: str, app_secret: str) -> str:
    """Schwab's OAuth without a browser here (works over SSH): print the address to open, read
    back the address the browser lands on, trade its code for a token."""
    try:
        from tui_trader.venues.schwab import auth
    except ImportError:  # pragma: no cover - the adapter ships; schwab-py is the extra
        raise UserError("the Schwab login needs schwab-py: pip install 'tui-trader[brokers]'") from None
    try:
        url, state = auth.authorize_url(app_key, vs.callback_url)
    except ImportError:
        raise UserError("the Schwab login needs schwab-py: pip install 'tui-trader[brokers]'") from None
    print(
        "Log in to Schwab: open this address in any browser (this machine needs none),\n"
        "log in, press Allow, then paste here the whole address the browser ends on\n"
        f"(it starts with {vs.callback_url}; the page itself may fail to load, that is fine):\n\n"
        f"  {url}\n",
        file=sys.stderr,
    )
    received = _ask("redirect address: ", secret=False)
    if not received.strip():
        raise UserError(f"no redirect address given for {venue}; nothing was stored")
    try:
        return str(auth.exchange_code(app_key, app_secret, vs.callback_url, state, received,
                                      url_override=vs.url_override))  # fmt: skip
    except ValueError as exc:
        raise UserError(f"{venue}: {exc}; nothing was stored") from None


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
