"""One followed leader at the follower: its settings, its connection, its track record."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.engine.copy.leaders import Leader
from tui_trader.engine.copy.record import TrackRecord

if TYPE_CHECKING:
    from tui_trader.config.copy import CopySettings


@dataclass
class Follow:
    name: str
    cfg: CopySettings
    leader: Leader
    enabled: bool
    since: datetime  # when following (re)started: fills before it are not ours to mirror
    record: TrackRecord = field(default_factory=TrackRecord)
    task: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def describe(self) -> str:
        c = self.cfg
        if c.provider is not None:
            return f"chat provider {c.provider}"
        if c.leader == "daemon":
            return f"daemon {c.host}:{c.port} as {c.user}"
        return f"{c.exchange.exchange if c.exchange else '?'} account"
