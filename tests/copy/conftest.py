"""Fixtures: a leader engine behind a real control server and a follower that copies it."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared fakes

from tui_trader.config.copy import CopySettings
from tui_trader.config.serve import ServeSettings, ServeUser
from tui_trader.core.clock import FrozenClock
from tui_trader.daemon.server import ControlServer
from tui_trader.engine.testing import manual_engine, paper_settings
from tui_trader.home import Home
from tui_trader.secrets import Credentials

from copy_helpers import TOKEN, Pair, follower_engine, until, viewer_hash


@pytest.fixture
def keyring_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The follower's login token as the keyring would give it. The file keyring itself (argon2 on
    every open: seconds each on a busy machine) is exercised by the two-daemon test, which stores
    the token with `tui-trader keys set copy.lead`."""
    import tui_trader.secrets

    def load(name: str, home: object) -> Credentials | None:
        return Credentials(secret=TOKEN) if name == "copy.lead" else None

    monkeypatch.setattr(tui_trader.secrets, "load_credentials", load)


@pytest.fixture
async def pair(tmp_path: Path, keyring_env: None) -> AsyncIterator[Pair]:
    clock = FrozenClock()
    leader_settings = paper_settings().model_copy(
        update={"serve": ServeSettings(users={"bob": ServeUser(role="viewer", password_hash=viewer_hash())})}
    )
    leader = manual_engine(leader_settings, clock=clock)
    await leader.start()
    leader_home = Home(tmp_path / "leader").ensure()
    server = ControlServer(leader, leader_home.socket_path, token="leader-owner-token", tcp_port=0)
    await server.start()
    home = Home(tmp_path / "follower").ensure()
    copy = CopySettings(leader="daemon", port=server.tcp_port, user="bob", scale=0.5)
    follower = follower_engine(home, clock, copy)
    await follower.start()
    p = Pair(clock, leader, server, follower, home, copy)
    await p.step()
    await until(lambda: p.status()["state"] == "connected", what="the follower to log in to the leader")
    try:
        yield p
    finally:
        await p.follower.stop()
        await server.stop()
        await leader.stop()
