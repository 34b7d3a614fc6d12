"""Who a control connection is, and which commands its role may call (checked at dispatch).

- The owner (the daemon's own user on the Unix socket, or the daemon token's holder over TCP)
  may call everything.
- A session opened by `tui-trader serve` (a browser or SSH user) has the role the serve
  process registered with the session's token. The daemon looks the role up from the token;
  nothing the client says later can change it.
- A TCP client may also log in as a `[serve.users.NAME]` user with its token (`auth` with
  `user` and `token`): it is that user with that role for the connection's life (a
  copy-trading follower reading the leader's fills with a viewer login).
- A viewer sees everything and changes nothing: it may call only the commands in `READ_ONLY`.
  Everything else is refused, including commands added later (deny by default).
- Only the owner may open or close sessions, so a session can never mint a stronger one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tui_trader.core.errors import UserError


class Role(StrEnum):
    VIEWER = "viewer"
    TRADER = "trader"


@dataclass(frozen=True)
class Identity:
    """The person behind a connection, as the daemon established it (never as the client says)."""

    user: str
    role: Role
    via: str  # "local" for the owner; "web" or "ssh" for sessions; "tcp" for a login on the TCP port
    owner: bool = False

    @property
    def label(self) -> str:
        return self.user if self.owner else f"{self.user}/{self.role}@{self.via}"

    def as_dict(self) -> dict[str, Any]:
        return {"user": self.user, "role": str(self.role), "via": self.via, "owner": self.owner}


OWNER = Identity("owner", Role.TRADER, "local", owner=True)

# Commands that only read: what a viewer may call. Anything not here is refused for a viewer.
READ_ONLY = frozenset(
    {
        "hello",
        "status",
        "positions",
        "orders",
        "fills",
        "snapshot",
        "candles",
        "subscribe",
        "unsubscribe",
        "session.whoami",
        # engine commands that only read
        "strategies.status",
        "risk.state",
        "order.check",  # the pre-trade checks as a dry run: nothing recorded or sent
        "market.quote",
        "market.trades",
        "performance.report",
        "signals.recommendations",
        "signals.pending",
        "market.consolidated",
        "scan.spreads",
        "copy.status",
    }
)
# Commands only the owner may call (a session, even a trader's, may not).
OWNER_ONLY = frozenset({"session.open", "session.close", "session.list", "session.attach"})


class RoleRefused(UserError):
    """A command the connection's role does not allow (refused by the daemon, nothing done)."""


def command_name(cmd: str, params: dict[str, Any]) -> str:
    """The command that would really run: `call` runs the engine command it names."""
    if cmd == "call":
        return str(params.get("command") or "")
    return cmd


def allowed(identity: Identity, cmd: str, params: dict[str, Any]) -> bool:
    name = command_name(cmd, params)
    if identity.owner:
        return True
    if name in OWNER_ONLY:
        return False
    if identity.role is Role.TRADER:
        return True
    return name in READ_ONLY


def check(identity: Identity, cmd: str, params: dict[str, Any]) -> None:
    """Raise RoleRefused (one line saying who, what and why) unless the identity may run it."""
    if allowed(identity, cmd, params):
        return
    name = command_name(cmd, params)[:40] or cmd[:40]
    if name in OWNER_ONLY:
        raise RoleRefused(f"refused: {name!r} is for the daemon's owner, not a {identity.via} session")
    raise RoleRefused(
        f"refused by the daemon: {identity.user} is a viewer and may not run {name!r}; "
        "ask for a trader login to place, cancel or change anything"
    )


def is_read(cmd: str, params: dict[str, Any]) -> bool:
    """A view rather than a command (not audited one by one: the session start and end are)."""
    return command_name(cmd, params) in READ_ONLY
