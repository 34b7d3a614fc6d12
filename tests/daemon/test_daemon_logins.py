"""Logins on the TCP control port: a `[serve.users]` user with its token is that user with that
role for the connection's life (a copy-trading follower's viewer login reads fills, never
trades); wrong tokens are refused and rate-limited; the owner's token still works; an
authenticated client is no longer held to the authentication deadline."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tui_trader.config.serve import ServeSettings, ServeUser
from tui_trader.core.enums import Side
from tui_trader.core.orders import OrderRequest
from tui_trader.daemon.connection import Budgets
from tui_trader.daemon.logins import hash_secret
from tui_trader.daemon.protocol import dumps
from tui_trader.daemon.server import ControlServer
from tui_trader.engine import Engine
from tui_trader.engine.testing import manual_engine, paper_settings, step
from tui_trader.home import Home

TOKEN = "a-viewer-token-for-the-follower"
OWNER = "owner-token"


@pytest.fixture
async def leader(tmp_path: Path) -> AsyncIterator[tuple[Engine, ControlServer]]:
    users = {"bob": ServeUser(role="viewer", password_hash=hash_secret(TOKEN))}
    engine = manual_engine(paper_settings().model_copy(update={"serve": ServeSettings(users=users)}))
    await engine.start()
    await step(engine, 3)
    home = Home(tmp_path / "h").ensure()
    server = ControlServer(engine, home.socket_path, token=OWNER, tcp_port=0,
                           budgets=Budgets(idle_s=5.0, read_s=2.0, auth_s=0.3))  # fmt: skip
    await server.start()
    try:
        yield engine, server
    finally:
        await server.stop()
        await engine.stop()


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.n = reader, writer, 0

    @classmethod
    async def open(cls, port: int) -> Client:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def ask(self, cmd: str, **params: Any) -> dict[str, Any]:
        self.n += 1
        self.writer.write(dumps({"id": self.n, "cmd": cmd, "params": params}))
        await self.writer.drain()
        while True:
            line = await asyncio.wait_for(self.reader.readline(), 10)
            if not line:
                return {"closed": True}
            msg = json.loads(line)
            if msg.get("id") == self.n or msg.get("id") is None:
                return msg

    async def closed(self) -> bool:
        return await asyncio.wait_for(self.reader.read(), 10) == b""


async def test_a_viewer_login_reads_fills_and_cannot_trade(leader: tuple[Engine, ControlServer]) -> None:
    engine, server = leader
    start = engine.clock.now() - timedelta(seconds=1)
    await engine.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.1")))
    c = await Client.open(server.tcp_port)
    answer = await c.ask("auth", user="bob", token=TOKEN)
    identity = {"user": "bob", "role": "viewer", "via": "tcp", "owner": False}
    assert answer["ok"] and answer["result"]["identity"] == identity
    fills = await c.ask("fills", since=start.isoformat())
    assert fills["ok"] and [f["quantity"] for f in fills["result"]] == ["0.1"]
    assert (await c.ask("fills", since="2999-01-01T00:00:00Z"))["result"] == []
    assert (await c.ask("fills", since="yesterday"))["exit_code"] == 2
    refused = await c.ask("place", symbol="BTC/USDT", side="buy", quantity="0.1")
    assert not refused["ok"] and "viewer" in refused["error"] and "place" in refused["error"]
    assert (await c.ask("call", command="copy.start", params={"name": "x"}))["ok"] is False
    assert (await c.ask("copy.status"))["ok"] is True  # reading is allowed
    assert len(engine.fills) == 1
    audit = await engine.store.audit_log(20)
    assert any(r["actor"] == "bob/viewer@tcp" and r["action"] == "login" for r in audit)
    assert any(r["actor"] == "bob/viewer@tcp" and r["action"] == "refused" for r in audit)


async def test_wrong_logins_are_refused_then_rate_limited_and_the_owner_token_still_works(
    leader: tuple[Engine, ControlServer],
) -> None:
    _, server = leader
    for user, token in [("bob", "wrong"), ("nobody", TOKEN), ("bob", None), ("bob", "x" * 2000)]:
        c = await Client.open(server.tcp_port)
        answer = await c.ask("auth", user=user, token=token)
        assert answer["ok"] is False and answer["type"] == "auth" and await c.closed()
    c = await Client.open(server.tcp_port)
    await c.ask("auth", user="bob", token="wrong again")
    c = await Client.open(server.tcp_port)
    answer = await c.ask("auth", user="bob", token=TOKEN)  # the right token, but this address must wait
    assert answer["ok"] is False and "too many failed logins" in answer["error"]
    c = await Client.open(server.tcp_port)
    owner = await c.ask("auth", token=OWNER)
    assert owner["ok"] and "identity" not in owner["result"]
    assert (await c.ask("hello"))["result"]["identity"]["owner"] is True


async def test_an_authenticated_client_outlives_the_authentication_deadline(
    leader: tuple[Engine, ControlServer],
) -> None:
    engine, server = leader
    quiet = await Client.open(server.tcp_port)
    assert (await quiet.ask("auth", user="bob", token=TOKEN))["ok"]
    listener = await Client.open(server.tcp_port)
    assert (await listener.ask("auth", token=OWNER))["ok"]
    assert (await listener.ask("subscribe", kinds=["notice"]))["ok"]
    await asyncio.sleep(1.0)  # past auth_s (0.3 s), well within idle_s (5 s)
    assert (await quiet.ask("status"))["ok"] is True
    engine.notify("info", "still listening", "test")
    line = json.loads(await asyncio.wait_for(listener.reader.readline(), 10))
    assert line["event"] == "notice" and line["data"]["message"] == "still listening"
    assert (await listener.ask("status"))["ok"] is True
