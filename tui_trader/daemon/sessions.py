"""Sessions that `tui-trader serve` opens for its browser and SSH users, and the role guard.

The serve process connects as the owner and, for each user session, registers a fresh random
token with the user's name and role (`session.open`). The workstation it spawns for that user
presents the token on its own connection (`session.attach`); from then on that connection is
that user with that role, for good. The daemon keeps only a hash of each token. A session ends
when the serve process closes it, or when the serve process's own connection goes (it died):
then every connection attached with it is dropped.

Every command a session runs (allowed or refused) is audited with its user and role; reads
(the views in `roles.READ_ONLY`) are not audited one by one, the session's start and end are.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tui_trader.core.errors import UsageError
from tui_trader.daemon import roles
from tui_trader.daemon.roles import OWNER, Identity, Role, RoleRefused

log = logging.getLogger(__name__)

SESSION_ENV = "TUI_TRADER_SESSION"  # how `tui-trader serve` hands a session's token to its workstation
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
VIAS = ("web", "ssh")
MIN_TOKEN = 32

Audit = Callable[[str, str, dict[str, Any]], Awaitable[None]]


class Conn(Protocol):
    """What the registry needs of a control connection."""

    identity: Identity
    peer: str

    def drop(self, reason: str) -> None: ...


Handler = Callable[[Any, dict[str, Any]], Awaitable[Any]]


@dataclass(eq=False)
class Session:
    sid: str
    identity: Identity
    peer: str  # where the user came from: the browser's address, the SSH client's
    opened_by: Conn
    started: float = field(default_factory=time.monotonic)
    attached: set[Conn] = field(default_factory=set)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionRegistry:
    def __init__(self, audit: Audit) -> None:
        self.audit = audit
        self.by_digest: dict[str, Session] = {}

    def handlers(self) -> dict[str, Handler]:
        return {
            "session.open": self.open,
            "session.close": self.close,
            "session.attach": self.attach,
            "session.whoami": self.whoami,
            "session.list": self.list,
        }

    # -- the guard every command passes -----------------------------------------------------------

    async def guard(self, conn: Conn, cmd: str, params: dict[str, Any]) -> None:
        """Refuse (RoleRefused) what the connection's role may not run; audit a session's commands."""
        identity = conn.identity
        ok = roles.allowed(identity, cmd, params)
        if not identity.owner and not roles.is_read(cmd, params):
            name = roles.command_name(cmd, params)[:40]
            detail = {**identity.as_dict(), "command": name, "allowed": ok}
            await self.audit(identity.label, "command" if ok else "refused", detail)
        if not ok:
            log.warning("refused %r for %s on %s", roles.command_name(cmd, params)[:40], identity.label, conn.peer)
            roles.check(identity, cmd, params)

    # -- commands ---------------------------------------------------------------------------------

    async def open(self, conn: Conn, p: dict[str, Any]) -> dict[str, Any]:
        token, user, via = p.get("token"), p.get("user"), p.get("via")
        if not isinstance(token, str) or not MIN_TOKEN <= len(token) <= 256:
            raise UsageError(f"session.open needs a random token of at least {MIN_TOKEN} characters")
        if not isinstance(user, str) or not USER_NAME.match(user):
            raise UsageError("session.open needs a user name: letters, digits and . _ @ + - (at most 64)")
        try:
            role = Role(str(p.get("role")))
        except ValueError:
            raise UsageError(f"role must be one of {', '.join(r.value for r in Role)}, got {p.get('role')!r}") from None
        if via not in VIAS:
            raise UsageError(f"via must be one of {', '.join(VIAS)}, got {via!r}")
        identity = Identity(user, role, str(via))
        digest = token_digest(token)
        existing = self.by_digest.get(digest)
        if existing is not None:  # the serve process re-registering after the daemon came back
            if existing.identity != identity:
                raise RoleRefused("that token already belongs to another session")
            existing.opened_by = conn
            return {"session": existing.sid, "reopened": True}
        session = Session(secrets.token_hex(6), identity, str(p.get("peer") or "")[:100], conn)
        self.by_digest[digest] = session
        detail = {**identity.as_dict(), "session": session.sid, "peer": session.peer}
        await self.audit(identity.label, "session_start", detail)
        log.info("session %s started: %s from %s", session.sid, identity.label, session.peer)
        return {"session": session.sid}

    async def close(self, conn: Conn, p: dict[str, Any]) -> dict[str, Any]:
        sid = str(p.get("session") or "")
        for digest, session in list(self.by_digest.items()):
            if session.sid == sid:
                await self._end(digest, str(p.get("reason") or "closed"))
                return {"closed": sid}
        return {"closed": None}

    async def attach(self, conn: Conn, p: dict[str, Any]) -> dict[str, Any]:
        token = p.get("token")
        session = self.by_digest.get(token_digest(token)) if isinstance(token, str) else None
        if session is None:
            await self.audit("daemon", "session_refused", {"peer": conn.peer, "why": "unknown or ended session token"})
            raise RoleRefused("session refused: the token is unknown or the session has ended; log in again")
        conn.identity = session.identity
        session.attached.add(conn)
        return session.identity.as_dict()

    async def whoami(self, conn: Conn, p: dict[str, Any]) -> dict[str, Any]:
        return conn.identity.as_dict()

    async def list(self, conn: Conn, p: dict[str, Any]) -> list[dict[str, Any]]:
        now = time.monotonic()
        return [
            {
                **s.identity.as_dict(),
                "session": s.sid,
                "peer": s.peer,
                "attached": len(s.attached),
                "seconds": round(now - s.started, 1),
            }
            for s in self.by_digest.values()
        ]

    # -- ends ---------------------------------------------------------------------------------------

    async def connection_closed(self, conn: Conn) -> None:
        """A connection went: forget it as a session's viewer; end the sessions it had opened."""
        for digest, session in list(self.by_digest.items()):
            session.attached.discard(conn)
            if session.opened_by is conn:
                await self._end(digest, "the serve process disconnected")

    async def _end(self, digest: str, reason: str) -> None:
        session = self.by_digest.pop(digest)
        for attached in list(session.attached):
            attached.drop(f"the session ended: {reason}")  # its workstation never outlives it
        seconds = round(time.monotonic() - session.started, 1)
        detail = {**session.identity.as_dict(), "session": session.sid, "seconds": seconds, "reason": reason}
        await self.audit(session.identity.label, "session_end", detail)
        log.info("session %s ended (%s): %s", session.sid, reason, session.identity.label)


__all__ = ["OWNER", "Session", "SessionRegistry", "token_digest"]
