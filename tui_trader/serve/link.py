"""The serve process's own connection to the daemon (as its owner), and the sessions it opens.

Sessions are opened with a token made here (at random, per session) and handed to the spawned
`tui-trader attach` in its environment (never argv). If the daemon restarts, the link attaches
again and registers the live sessions anew, so their workstations reattach by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui_trader.core.errors import UserError
from tui_trader.daemon.remote_client import RemoteClient
from tui_trader.daemon.sessions import SESSION_ENV
from tui_trader.venues.resilience import stop_tasks

if TYPE_CHECKING:
    from tui_trader.home import Home

log = logging.getLogger(__name__)
# Secrets of the serve process's own environment that a user's workstation must not inherit.
STRIPPED_ENV = ("TUI_TRADER_TOKEN", "TUI_TRADER_KEYRING_PASSWORD", SESSION_ENV)


@dataclass
class OpenSession:
    token: str
    user: str
    role: str
    via: str
    peer: str
    sid: str = ""


class DaemonLink:
    def __init__(self, home: Home, config_file: Path | None = None) -> None:
        self.home = home
        self.config_file = config_file
        self.client = RemoteClient.for_home(home, client="serve", mirror=False)
        self.sessions: dict[str, OpenSession] = {}
        self._watch: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Connect as the owner (UserError, one line, when no daemon runs)."""
        await self.client.connect()
        self._watch = asyncio.create_task(self._keep_attached(), name="serve-daemon-link")

    async def stop(self) -> None:
        await stop_tasks(self._watch)
        for session in list(self.sessions.values()):
            await self.close(session, "the serve process stopped")
        await self.client.close()

    async def open(self, user: str, role: str, via: str, peer: str) -> OpenSession:
        session = OpenSession(secrets.token_urlsafe(32), user, role, via, peer)
        async with self._lock:
            await self._register(session)
            self.sessions[session.token] = session
        return session

    async def close(self, session: OpenSession, reason: str) -> None:
        self.sessions.pop(session.token, None)
        with contextlib.suppress(UserError):
            await self.client.request("session.close", session=session.sid, reason=reason)

    async def _register(self, session: OpenSession) -> None:
        opened = await self.client.request(
            "session.open",
            token=session.token,
            user=session.user,
            role=session.role,
            via=session.via,
            peer=session.peer,
        )
        session.sid = str(opened["session"])

    async def _keep_attached(self) -> None:
        """The daemon went (restart): attach again and register the live sessions again."""
        while True:
            await asyncio.sleep(0.5)
            if self.client.connected:
                continue
            try:
                await self.client.connect()
                async with self._lock:
                    for session in self.sessions.values():
                        await self._register(session)
                log.info("reattached to the daemon; %d session(s) registered again", len(self.sessions))
            except UserError as exc:
                log.debug("daemon not back yet: %s", exc)

    # -- the workstation each session runs --------------------------------------------------------

    def attach_argv(self) -> list[str]:
        argv = [sys.executable, "-m", "tui_trader", "--home", str(self.home.root)]
        if self.config_file is not None:
            argv += ["--config", str(self.config_file)]
        return [*argv, "attach"]

    def attach_command(self) -> str:
        return shlex.join(self.attach_argv())

    @staticmethod
    def session_env(session: OpenSession, base: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in (os.environ if base is None else base).items() if k not in STRIPPED_ENV}
        env[SESSION_ENV] = session.token
        return env
