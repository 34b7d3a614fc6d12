"""Roles at the daemon: a serve session's role comes from its token; a viewer is refused by the daemon."""

from __future__ import annotations

import asyncio
import secrets
from decimal import Decimal

import pytest

from tui_trader.core.enums import OrderStatus, Side
from tui_trader.core.errors import UserError
from tui_trader.core.orders import OrderRequest
from tui_trader.daemon import roles
from tui_trader.daemon.remote_client import RemoteClient
from tui_trader.daemon.roles import Identity, Role

from fakes.venue_harness import wait_for

# Every command that changes something, as the daemon and the engine name them today.
CHANGING = [
    ("place", {"symbol": "BTC/USDT", "side": "buy", "quantity": "0.01"}),
    ("cancel", {"id": "nope"}),
    ("cancel_all", {}),
    ("flatten", {}),
    ("reload", {}),
    ("enable_strategy", {"name": "x"}),
    ("disable_strategy", {"name": "x"}),
    ("reload_strategies", {}),
    ("call", {"command": "arm_live", "params": {}}),
    ("call", {"command": "order.modify", "params": {"id": "x", "price": "1"}}),
    ("call", {"command": "order.oco", "params": {}}),
    ("call", {"command": "risk.reset", "params": {}}),
    ("call", {"command": "strategies.enable", "params": {"name": "x"}}),
    ("call", {"command": "strategies.disable", "params": {"name": "x"}}),
    ("call", {"command": "signals.parse_chat", "params": {"text": "BTC/USDT LONG"}}),
    ("call", {"command": "signals.confirm", "params": {"id": "x"}}),
    ("call", {"command": "signals.dismiss", "params": {"id": "x"}}),
    ("call", {"command": "config.reload", "params": {}}),
    ("call", {"command": "a.command.added.later", "params": {}}),
    ("session.open", {"token": "t" * 40, "user": "mallory", "role": "trader", "via": "web"}),
    ("session.list", {}),
]
READS = [("status", {}), ("positions", {}), ("orders", {}), ("fills", {}), ("snapshot", {}), ("session.whoami", {})]


def test_the_table_denies_by_default() -> None:
    viewer = Identity("v", Role.VIEWER, "web")
    trader = Identity("t", Role.TRADER, "ssh")
    for cmd, params in CHANGING:
        assert not roles.allowed(viewer, cmd, params), cmd
    for cmd, params in READS:
        assert roles.allowed(viewer, cmd, params), cmd
    assert roles.allowed(trader, "place", {}) and roles.allowed(trader, "call", {"command": "arm_live"})
    assert not roles.allowed(trader, "session.open", {}) and not roles.allowed(trader, "session.attach", {})
    assert roles.allowed(roles.OWNER, "session.open", {})


async def _session(owner: RemoteClient, user: str, role: str, via: str = "web") -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    opened = await owner.request("session.open", token=token, user=user, role=role, via=via, peer="127.0.0.1:1")
    return token, opened["session"]


async def test_a_viewer_is_refused_by_the_daemon_and_a_trader_is_not(served) -> None:  # type: ignore[no-untyped-def]
    engine, _server, home = served
    async with RemoteClient.for_home(home, mirror=False) as owner:
        assert owner.identity["owner"] is True
        v_token, v_sid = await _session(owner, "vera", "viewer")
        t_token, _ = await _session(owner, "tom", "trader", "ssh")
        viewer = RemoteClient.for_home(home, mirror=False, session_token=v_token)
        trader = RemoteClient.for_home(home, mirror=False, session_token=t_token)
        async with viewer, trader:
            assert viewer.identity == {"user": "vera", "role": "viewer", "via": "web", "owner": False}
            assert trader.identity["role"] == "trader"
            for cmd, params in CHANGING:
                with pytest.raises(UserError, match="refused"):
                    await viewer.request(cmd, **params)
            for cmd, params in READS:
                await viewer.request(cmd, **params)
            # the role sticks to the connection: attaching again (even with a trader's token) is refused
            with pytest.raises(UserError, match="owner"):
                await viewer.request("session.attach", token=t_token)
            assert viewer.identity["role"] == "viewer"
            assert (await viewer.request("session.whoami"))["role"] == "viewer"
            before = len(engine.snapshot().recent_orders)
            with pytest.raises(UserError, match="vera is a viewer"):
                await viewer.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.01")))
            assert len(engine.snapshot().recent_orders) == before  # nothing reached the engine
            order = await trader.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.01")))
            assert order.status is OrderStatus.FILLED
        log = await engine.store.audit_log(500)
        actions = [(r["actor"], r["action"], r["detail"].get("command")) for r in log]
        assert ("vera/viewer@web", "session_start", None) in actions
        assert ("vera/viewer@web", "refused", "place") in actions
        assert ("vera/viewer@web", "refused", "arm_live") in actions
        assert ("tom/trader@ssh", "command", "place") in actions
        assert not any(a == "vera/viewer@web" and act == "command" for a, act, _ in actions)
        placed = [r for r in log if r["action"] in ("place", "order_placed", "submit") or "order" in r["action"]]
        assert any(r["actor"].startswith("tom/trader@ssh") for r in placed), placed[:5]
        await owner.request("session.close", session=v_sid, reason="logout")
        log = await engine.store.audit_log(50)
        ends = [r for r in log if r["action"] == "session_end"]
        assert ends and ends[0]["detail"]["user"] == "vera" and ends[0]["detail"]["reason"] == "logout"


async def test_wrong_or_ended_tokens_are_refused_and_sessions_die_with_their_serve_process(served) -> None:  # type: ignore[no-untyped-def]
    engine, _server, home = served
    with pytest.raises(UserError, match="session refused"):
        await RemoteClient.for_home(home, mirror=False, session_token="x" * 43).connect()
    owner = RemoteClient.for_home(home, mirror=False)
    await owner.start()
    token, _ = await _session(owner, "vera", "viewer")
    viewer = RemoteClient.for_home(home, mirror=False, session_token=token)
    await viewer.start()
    assert viewer.connected
    await owner.close()  # the serve process went away: its sessions end, their connections drop
    await wait_for(lambda: not viewer.connected)
    with pytest.raises(UserError, match="session refused"):
        await RemoteClient.for_home(home, mirror=False, session_token=token).connect()
    await viewer.close()
    log = await engine.store.audit_log(50)
    assert any(r["action"] == "session_end" and "serve process" in r["detail"]["reason"] for r in log)
    assert any(r["action"] == "session_refused" for r in log)


async def test_session_open_checks_its_input(served) -> None:  # type: ignore[no-untyped-def]
    _, _, home = served
    async with RemoteClient.for_home(home, mirror=False) as owner:
        for bad, match in (
            ({"token": "short", "user": "a", "role": "viewer", "via": "web"}, "token"),
            ({"token": "t" * 40, "user": "a b", "role": "viewer", "via": "web"}, "user name"),
            ({"token": "t" * 40, "user": "a", "role": "admin", "via": "web"}, "role"),
            ({"token": "t" * 40, "user": "a", "role": "viewer", "via": "telnet"}, "via"),
        ):
            with pytest.raises(UserError, match=match):
                await owner.request("session.open", **bad)


async def test_after_a_daemon_restart_the_serve_link_registers_its_sessions_again(served) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.daemon.server import ControlServer
    from tui_trader.serve.link import DaemonLink

    engine, server, home = served
    link = DaemonLink(home)
    await link.start()
    session = await link.open("vera", "viewer", "web", "127.0.0.1:9")
    workstation = RemoteClient.for_home(home, refresh_hz=20, session_token=session.token)
    await workstation.start()
    assert workstation.identity["role"] == "viewer"
    await server.stop()  # the daemon goes away ...
    await wait_for(lambda: not workstation.connected)
    restarted = ControlServer(engine, home.socket_path)  # ... and comes back with no sessions
    await restarted.start()
    try:
        await wait_for(lambda: workstation.connected and link.client.connected)  # reattached
        assert (await workstation.request("session.whoami"))["role"] == "viewer"  # still the viewer
        with pytest.raises(UserError, match="vera is a viewer"):
            await workstation.request("flatten")
    finally:
        await workstation.close()
        await link.stop()
        await restarted.stop()


async def test_a_workstation_sends_nothing_until_its_session_is_attached(served) -> None:  # type: ignore[no-untyped-def]
    """Until the daemon has attached a workstation's session, its connection is the socket
    owner's: a request sent then (a viewer's keypress as the workstation reattached after a
    daemon restart) ran with the owner's rights. It is refused in the workstation instead."""
    _, server, home = served
    owner = RemoteClient.for_home(home, mirror=False)  # the serve process: its sessions end with it
    await owner.start()
    token, _ = await _session(owner, "vera", "viewer")
    asked, answer = asyncio.Event(), asyncio.Event()
    attach = server.handlers["session.attach"]

    async def slow_attach(conn, p):  # type: ignore[no-untyped-def]
        asked.set()
        await answer.wait()
        return await attach(conn, p)

    server.handlers["session.attach"] = slow_attach
    viewer = RemoteClient.for_home(home, mirror=False, session_token=token)
    connecting = asyncio.create_task(viewer.connect())
    try:
        await asyncio.wait_for(asked.wait(), 20)
        assert not viewer.connected
        with pytest.raises(UserError, match="not connected"):
            await viewer.request("flatten")
        answer.set()
        await asyncio.wait_for(connecting, 20)
        assert viewer.connected and (await viewer.request("session.whoami"))["role"] == "viewer"
    finally:
        answer.set()
        await viewer.close()
        await owner.close()
