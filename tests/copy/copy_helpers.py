"""Helpers for copy trading in one process: a leader engine behind a real control server (TCP, a viewer
login for the follower) and a follower engine whose `[copy.lead]` follows it, both on paper
venues stepped by hand on one frozen clock (the same seed: the same market)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tui_trader.config import Settings
from tui_trader.config.copy import CopySettings
from tui_trader.core.clock import FrozenClock
from tui_trader.daemon.logins import hash_secret
from tui_trader.daemon.server import ControlServer
from tui_trader.engine import Engine
from tui_trader.engine.testing import manual_engine, paper_settings, step
from tui_trader.home import Home

TOKEN = "follower-login-token-0123456789"
_HASH: list[str] = []


def viewer_hash() -> str:
    if not _HASH:
        _HASH.append(hash_secret(TOKEN))
    return _HASH[0]


async def until(cond: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> None:
    """Wait for `cond()` (a hang guard, not a speed assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@dataclass
class Pair:
    clock: FrozenClock
    leader: Engine
    server: ControlServer
    follower: Engine
    follower_home: Home
    copy: CopySettings

    async def step(self, n: int = 1) -> None:
        """Move both markets on (one clock: the same prices at both)."""
        await step(self.leader, n)
        await step(self.follower, 1, seconds=0)

    async def restart_follower(
        self, home: Home | None = None, settings: dict[str, Any] | None = None, **copy: Any
    ) -> None:
        """Stop the follower and start it again (in `home` and with other `settings` if given)."""
        await self.follower.stop()
        if copy:
            self.copy = self.copy.model_copy(update=copy)
        self.follower_home = home or self.follower_home
        self.follower = follower_engine(self.follower_home, self.clock, self.copy, **(settings or {}))
        await self.follower.start()
        await step(self.follower, 1, seconds=0)

    @property
    def desk(self) -> Any:
        return self.follower.copy

    def status(self) -> dict[str, Any]:
        return self.desk.status("lead")


def follower_engine(home: Home, clock: FrozenClock, copy: CopySettings, **settings: Any) -> Engine:
    base = paper_settings()
    s = base.model_copy(update={"copy_trading": {"lead": copy}, **settings})
    return manual_engine(Settings.model_validate(s.model_dump(exclude_defaults=True)), home=home, clock=clock)


