"""The control API and RemoteClient against an in-process server on a hand-stepped paper venue."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from decimal import Decimal

import pytest

from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.errors import NotRunningError, UsageError, UserError
from tui_trader.core.events import OrderEvent
from tui_trader.core.orders import OrderRequest
from tui_trader.daemon.protocol import decode_snapshot, dumps, loads
from tui_trader.daemon.remote_client import RemoteClient
from tui_trader.engine.testing import step
from tui_trader.home import Home


async def wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """Until the (async) `predicate` holds, bounded in time (each try is a round trip)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await predicate():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def test_snapshot_round_trips_every_core_type(served) -> None:  # type: ignore[no-untyped-def]
    engine, _, _ = served
    await engine.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.1")))
    above = Decimal(round(engine.mid("ETH/USDT") * 1.05))
    resting = await engine.place(OrderRequest("ETH/USDT", Side.SELL, Decimal("1"), OrderType.LIMIT, price=above))
    assert resting.status is OrderStatus.ACCEPTED, resting.reason
    await step(engine, 2)
    snap = engine.snapshot()
    assert snap.positions and snap.open_orders and snap.fills and snap.books
    assert decode_snapshot(loads(dumps({"s": snap}))["s"]) == snap


async def test_two_clients_see_the_same_orders(served) -> None:  # type: ignore[no-untyped-def]
    engine, server, home = served
    async with RemoteClient.for_home(home, refresh_hz=20) as a, RemoteClient.for_home(home, refresh_hz=20) as b:
        events = b.subscribe("test", ["order", "fill"])
        below = Decimal(round(engine.mid("ETH/USDT") * 0.95))
        order = await a.place(OrderRequest("ETH/USDT", Side.BUY, Decimal("0.5"), OrderType.LIMIT, price=below))
        assert order.status is OrderStatus.ACCEPTED and order.quantity == Decimal("0.5"), order.reason

        async def b_sees_it() -> bool:
            return any(o.client_order_id == order.client_order_id for o in (await b.snapshot()).open_orders)

        await wait_for(b_sees_it)
        pushed = await asyncio.wait_for(events.wait(), 20)
        assert any(isinstance(e, OrderEvent) and e.order.client_order_id == order.client_order_id for e in pushed)
        filled = await b.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.2")))
        assert filled.status is OrderStatus.FILLED

        async def a_sees_position() -> bool:
            return any(p.symbol == "BTC/USDT" and p.quantity == Decimal("0.2") for p in (await a.snapshot()).positions)

        await wait_for(a_sees_position)
        cancelled = await b.cancel(order.client_order_id)
        assert cancelled.client_order_id == order.client_order_id
        await engine.oms.flush()

        async def gone_for_a() -> bool:
            return not (await a.snapshot()).open_orders

        await wait_for(gone_for_a)
        assert len(server.connections) == 2
    await wait_for(lambda: _async(not server.connections))
    assert engine.started  # detaching leaves the engine running


async def _async(value: bool) -> bool:
    return value


async def test_mirror_follows_the_event_stream(served) -> None:  # type: ignore[no-untyped-def]
    engine, _, home = served
    async with RemoteClient.for_home(home, refresh_hz=0.01) as client:  # no refresh: events only
        before = (await client.snapshot()).ticker("BTC/USDT")
        await step(engine, 5)

        async def moved() -> bool:
            return (await client.snapshot()).ticker("BTC/USDT").ts > before.ts

        await wait_for(moved)
        assert (await client.snapshot()).ticker("BTC/USDT") == engine.ticker("BTC/USDT")
        candles = await client.candles("BTC/USDT", "1m", limit=10)
        assert len(candles) == 10 and candles[-1].symbol == "BTC/USDT"


async def test_errors_come_back_as_one_line(served) -> None:  # type: ignore[no-untyped-def]
    _, _, home = served
    async with RemoteClient.for_home(home, mirror=False) as client:
        with pytest.raises(UsageError, match=re.escape("side must be one of buy | sell, got 'sideways'")):
            await client.request("place", symbol="BTC/USDT", side="sideways", quantity="1")
        with pytest.raises(UserError, match="no open order nope"):
            await client.cancel("nope")
        # the documented old name answers as the engine's strategies.enable does
        with pytest.raises(UserError, match="no running strategy 'x'"):
            await client.request("enable_strategy", name="x")
        with pytest.raises(UserError, match="no running strategy 'x'"):
            await client.request("strategies.enable", name="x")
        with pytest.raises(UserError, match="unknown command 'no_such'"):
            await client.call("no_such")
        armed = await client.call("arm_live", armed=False)
        assert armed == {"armed": False, "live_venues": []}
        status = await client.request("status")
        assert status["mode"] == "paper" and status["venues"][0]["state"] == "connected"


async def test_tcp_needs_the_token(served, caplog) -> None:  # type: ignore[no-untyped-def]
    _, server, _ = served
    port = server.tcp_port
    async with RemoteClient(None, port=port, token="s3cret-token", mirror=False) as good:
        assert (await good.request("status"))["mode"] == "paper"
    caplog.set_level(logging.WARNING, logger="tui_trader.daemon")
    with pytest.raises(UserError, match="authentication failed"):
        await RemoteClient(None, port=port, token="wrong-token", mirror=False).connect()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(dumps({"id": 1, "cmd": "status", "params": {}}))  # no auth at all
    reply = json.loads(await asyncio.wait_for(reader.readline(), 20))
    assert reply["ok"] is False and "authentication failed" in reply["error"]
    assert await reader.read() == b""  # and the daemon hung up
    writer.close()
    refusals = [r.getMessage() for r in caplog.records if "refused tcp" in r.getMessage()]
    assert len(refusals) == 2
    assert not any("wrong-token" in r.getMessage() for r in caplog.records)


async def test_unix_socket_checks_peer_uid(served) -> None:  # type: ignore[no-untyped-def]
    _, server, home = served
    assert oct(home.socket_path.stat().st_mode & 0o777) == "0o600"
    server.uid += 1  # as if the daemon ran as another user
    with pytest.raises(UserError, match="permission denied"):
        await RemoteClient.for_home(home, mirror=False).connect()


async def test_no_daemon_is_one_clear_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    home = Home(tmp_path / "nothing")
    with pytest.raises(NotRunningError, match=r"no daemon running for .*nothing; start one with `tui-trader daemon`"):
        await RemoteClient.for_home(home).start()


async def test_a_burst_from_the_daemon_does_not_starve_the_ui_loop(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """readline() returns without yielding while lines are buffered: a burst of events (or a busy
    machine decoding slowly) must still leave the attached workstation's loop time to draw."""
    from datetime import UTC, datetime

    from tui_trader.core.events import NoticeEvent
    from tui_trader.daemon.protocol import encode_event

    client = RemoteClient(tmp_path / "none.sock", mirror=False)
    reader = asyncio.StreamReader()
    event = encode_event(NoticeEvent(datetime(2026, 1, 5, tzinfo=UTC), "info", "tick", "test"))
    burst = 5_000
    reader.feed_data(dumps(event) * burst)
    reader.feed_eof()
    client._reader = reader
    seen = client.subscribe("test", ["notice"])
    progress_when_drawn: list[int] = []

    async def draw() -> None:  # what the UI's refresh timer does between messages
        progress_when_drawn.append(seen.pending())

    reading = asyncio.create_task(client._read_loop())
    await asyncio.sleep(0)  # the read loop starts on the buffered burst
    await draw()
    await reading
    assert progress_when_drawn[0] < burst  # the UI drew while the burst was being read
    ticks = [e for e in seen.drain() if isinstance(e, NoticeEvent) and e.message == "tick"]
    assert len(ticks) == burst  # and nothing was dropped


async def test_detaching_from_a_daemon_that_stopped_reading_is_bounded(served, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Bytes the daemon never reads keep the socket from closing: detaching waits CLOSE_WAIT_S,
    then drops them, instead of hanging the workstation's quit."""
    import time

    from tui_trader.daemon import remote_client

    _, _, home = served
    monkeypatch.setattr(remote_client, "CLOSE_WAIT_S", 0.2)
    client = RemoteClient.for_home(home, refresh_hz=20)
    await client.start()
    never = asyncio.Event()

    async def stuck() -> None:
        await never.wait()

    monkeypatch.setattr(client._writer, "wait_closed", stuck)
    started = time.monotonic()
    await client.close()
    assert time.monotonic() - started < 10.0 and not client.connected  # bounded: the stuck wait never ends
    assert client._writer.transport.is_closing()


async def test_detaching_ends_a_refresh_whose_cancel_was_swallowed(served, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """On Python 3.11 `asyncio.wait_for` returns the answer instead of raising when the cancel
    and the answer land together, and the refresh loop ran on: detaching then waited for it
    forever (the suite's intermittent hangs in the two-client tests). Simulated here: a snapshot
    request that swallows the cancel and answers."""
    import time

    from tui_trader.daemon import remote_client

    _, _, home = served
    monkeypatch.setattr(remote_client, "CLOSE_WAIT_S", 0.5)
    client = RemoteClient.for_home(home, refresh_hz=50)
    await client.start()
    real = client.request
    in_request = asyncio.Event()

    async def swallowing(cmd, **params):  # type: ignore[no-untyped-def]
        if cmd != "snapshot":
            return await real(cmd, **params)
        in_request.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            pass  # what 3.11's wait_for does when the answer arrives with the cancel
        return await real(cmd, **params)

    monkeypatch.setattr(client, "request", swallowing)
    await asyncio.wait_for(in_request.wait(), 20)
    started = time.monotonic()
    await client.close()
    assert time.monotonic() - started < 10.0 and not client.connected  # 0.5 s and its last 0.1, not the 30 s


async def test_a_command_told_to_wait_is_given_its_wait_to_answer(served, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`venue reconnect` from an attached workstation waits `wait_s` for the venue to be back
    before it answers: that wait is added to the client's patience (15 s), not taken for a
    daemon that stopped answering; a command given no wait still has only the client's."""
    from tui_trader.engine import commands

    async def waits(engine, params, actor):  # type: ignore[no-untyped-def]
        await asyncio.sleep(float(params["wait_s"]))
        return {"waited": params["wait_s"]}

    monkeypatch.setitem(commands._COMMANDS, "test.waits", waits)
    _, _, home = served
    async with RemoteClient.for_home(home, mirror=False, timeout_s=0.5) as client:
        assert await client.call("test.waits", wait_s=1) == {"waited": 1}
        with pytest.raises(UserError, match=re.escape("the daemon did not answer 'call' within 0.5 s")):
            await client.request("call", command="test.waits", params={"wait_s": 1})
