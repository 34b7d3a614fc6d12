"""The control socket under abuse: half-open and idle connections, floods, slow readers,
malformed and wrong-typed requests, unauthenticated clients. Each test asserts what the
abusive client gets (one typed line, a hang-up) and that the owner is still served."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tui_trader.daemon.connection import Budgets
from tui_trader.daemon.protocol import MAX_AUTH_REQUEST, MAX_REQUEST, dumps
from tui_trader.daemon.server import ControlServer
from tui_trader.engine import Engine
from tui_trader.engine.testing import manual_engine, step
from tui_trader.home import Home

FAST = Budgets(idle_s=0.6, read_s=0.4, auth_s=0.4, max_outbound=256 * 1024)


@pytest.fixture
async def tight(tmp_path: Path) -> AsyncIterator[tuple[Engine, ControlServer, Home]]:
    """A control server with short timeouts and a small outbound budget (TCP: 4 clients)."""
    home = Home(tmp_path / "h").ensure()
    engine = manual_engine()
    await engine.start()
    await step(engine, 3)
    server = ControlServer(
        engine, home.socket_path, token="tok", tcp_port=0, max_clients=4, max_unauthenticated=4, budgets=FAST
    )
    await server.start()
    try:
        yield engine, server, home
    finally:
        await server.stop()
        await engine.stop()


class Line:
    """A raw asyncio client: send lines, read answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def unix(cls, home: Home) -> Line:
        return cls(*await asyncio.open_unix_connection(str(home.socket_path), limit=64 * 1024 * 1024))

    @classmethod
    async def tcp(cls, port: int, token: str | None = None) -> Line:
        client = cls(*await asyncio.open_connection("127.0.0.1", port, limit=64 * 1024 * 1024))
        if token is not None:
            assert (await client.ask({"id": 0, "cmd": "auth", "params": {"token": token}}))["ok"]
        return client

    async def send(self, raw: bytes) -> None:
        self.writer.write(raw)
        await self.writer.drain()

    async def answer(self, timeout: float = 5.0) -> dict:  # type: ignore[type-arg]
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        assert line.endswith(b"\n"), f"no answer line (got {line!r})"
        return json.loads(line)

    async def ask(self, msg: dict) -> dict:  # type: ignore[type-arg]
        await self.send(dumps(msg))
        return await self.answer()

    async def hung_up(self, timeout: float = 5.0) -> bool:
        """True once the daemon has closed the connection (reading what is left)."""
        try:
            while await asyncio.wait_for(self.reader.read(65536), timeout):
                pass
        except (ConnectionError, OSError):
            pass
        return True

    def close(self) -> None:
        self.writer.close()


async def status_over_unix(home: Home) -> dict:  # type: ignore[type-arg]
    client = await Line.unix(home)
    try:
        answer = await client.ask({"id": 1, "cmd": "status", "params": {}})
    finally:
        client.close()
    assert answer["ok"], answer
    return answer["result"]


async def test_100_half_open_tcp_connections_do_not_stop_the_owner(tight) -> None:  # type: ignore[no-untyped-def]
    _, server, home = tight
    port = server.tcp_port
    idle = []
    for i in range(100):
        try:
            conn = await Line.tcp(port)
        except OSError:
            continue
        if i % 2:
            await conn.send(b'{"id": 1, "cmd": "au')  # half a line, never finished
        idle.append(conn)
    assert (await status_over_unix(home))["mode"] == "paper"
    # At most 4 may wait to authenticate; the rest were refused at once, all of them in one line.
    await asyncio.sleep(0)
    assert server.count("tcp") <= 4
    await asyncio.sleep(FAST.auth_s + 0.3)
    assert server.count("tcp") == 0  # the auth deadline hung up on the stragglers
    assert (await status_over_unix(home))["clients"] == 1
    for conn in idle:
        conn.close()


async def test_tcp_clients_cannot_take_the_owners_slots(tight) -> None:  # type: ignore[no-untyped-def]
    _, server, home = tight
    attached = [await Line.tcp(server.tcp_port, "tok") for _ in range(4)]
    extra = await Line.tcp(server.tcp_port)
    refused = await extra.answer()
    assert refused["ok"] is False and refused["type"] == "busy" and "too many tcp clients (4)" in refused["error"]
    assert await extra.hung_up()
    assert (await status_over_unix(home))["clients"] == 4 + 1
    for conn in attached:
        conn.close()


async def test_unauthenticated_clients_get_a_few_kib_and_seconds(tight) -> None:  # type: ignore[no-untyped-def]
    _, server, _ = tight
    chatty = await Line.tcp(server.tcp_port)
    await chatty.send(b"x" * (MAX_AUTH_REQUEST + 10))  # no newline: a line that never ends
    answer = await chatty.answer()
    assert answer["type"] == "too_long" and answer["exit_code"] == 2
    assert await chatty.hung_up()
    silent = await Line.tcp(server.tcp_port)
    answer = await silent.answer(timeout=FAST.auth_s + 2)
    assert answer["type"] == "busy" and "no authentication within 0.4 s" in answer["error"]
    assert await silent.hung_up()
    wrong = await Line.tcp(server.tcp_port)
    answer = await wrong.ask({"id": 3, "cmd": "auth", "params": {"token": ["tok"]}})
    assert answer == {
        "id": 3, "ok": False, "error": "authentication failed: wrong or missing token", "exit_code": 1, "type": "auth"
    }
    assert await wrong.hung_up()


async def test_half_sent_and_idle_connections_are_closed(tight) -> None:  # type: ignore[no-untyped-def]
    _, server, home = tight
    partial = await Line.unix(home)
    await partial.send(b'{"id": 1, "cmd": "sta')
    answer = await partial.answer(timeout=FAST.read_s + 2)
    assert "did not arrive whole within 0.4 s" in answer["error"] and answer["type"] == "busy"
    assert await partial.hung_up()
    idle = await Line.unix(home)
    assert (await idle.ask({"id": 1, "cmd": "hello", "params": {"client": "idle"}}))["ok"]
    answer = await idle.answer(timeout=FAST.idle_s + 2)
    assert "idle for 0.6 s" in answer["error"]
    assert await idle.hung_up()
    listener = await Line.unix(home)  # a subscriber may stay quiet for as long as it likes
    assert (await listener.ask({"id": 1, "cmd": "subscribe", "params": {"kinds": "fill"}}))["ok"]
    await asyncio.sleep(FAST.idle_s + 0.3)
    assert any(c.sub is not None for c in server.connections)
    listener.close()


async def test_a_reader_that_never_reads_is_cut_off_and_the_engine_carries_on(tight) -> None:  # type: ignore[no-untyped-def]
    _, server, home = tight
    flood = await Line.unix(home)
    assert (await flood.ask({"id": 0, "cmd": "hello", "params": {"client": "flood"}}))["ok"]
    flood.writer.transport.pause_reading()  # from now on it reads nothing
    for i in range(1000):
        flood.writer.write(dumps({"id": i, "cmd": "snapshot", "params": {}}))
    answered = 0
    for _ in range(500):
        if not any(c.client == "flood" for c in server.connections):
            break
        assert (await status_over_unix(home))["mode"] == "paper"  # the owner is answered throughout
        answered += 1
        await asyncio.sleep(0.01)
    assert not any(c.client == "flood" for c in server.connections)
    assert answered >= 1
    flood.close()


async def test_a_subscriber_that_falls_behind_is_disconnected(tight) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.core.events import NoticeEvent
    from tui_trader.daemon.connection import EVENT_BACKLOG

    engine, server, home = tight
    slow = await Line.unix(home)
    assert (await slow.ask({"id": 1, "cmd": "subscribe", "params": {"kinds": ["notice"]}}))["ok"]
    slow.writer.transport.pause_reading()  # reads nothing more
    for i in range(EVENT_BACKLOG * 3):
        engine.bus.publish(NoticeEvent(engine.clock.now(), "info", "x" * 200 + str(i), "test"))
        if i % 1000 == 0:
            await asyncio.sleep(0)
    for _ in range(300):
        if not any(c.sub is not None for c in server.connections):
            break
        await asyncio.sleep(0.02)
    assert not any(c.sub is not None for c in server.connections)
    assert (await status_over_unix(home))["mode"] == "paper"
    slow.close()


BAD = [
    (b"[1, 2, 3]\n", "bad_json", "must be a JSON object, got list"),
    (b"not json\n", "bad_json", "not a JSON line"),
    (b"\xff\xfe\n", "bad_json", "not a JSON line"),
    (b'{"id": 1, "cmd": "status", "params": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "bad_json", "nest"),
    (b'{"id": {"a": 1}, "cmd": "status"}\n', "bad_request", "id must be a number or a string"),
    (b'{"id": 2, "cmd": 7}\n', "bad_request", "cmd must be a command name"),
    (b'{"id": 3, "cmd": "status", "params": [1]}\n', "bad_request", "params of 'status' must be a JSON object"),
    (b'{"id": 4, "cmd": "fills", "params": {"limit": "many"}}\n', "bad_request", "limit must be an integer"),
    (b'{"id": 5, "cmd": "fills", "params": {"limit": [1]}}\n', "bad_request", "limit must be an integer, got a list"),
    (b'{"id": 6, "cmd": "orders", "params": {"all": "yes"}}\n', "bad_request", "all must be true or false"),
    (b'{"id": 7, "cmd": "cancel", "params": {"id": 12}}\n', "bad_request", "id must be a string"),
    (b'{"id": 8, "cmd": "subscribe", "params": {"kinds": "fills"}}\n', "bad_request", "unknown kinds 'fills'"),
    (b'{"id": 9, "cmd": "subscribe", "params": {"kinds": {"a": 1}}}\n', "bad_request", "kinds must be a string"),
    (b'{"id": 10, "cmd": "candles", "params": {"symbol": "BTC/USDT", "timeframe": 5}}\n', "bad_request", "timeframe"),
    (b'{"id": 11, "cmd": "place", "params": {"symbol": "BTC/USDT", "side": "buy", "quantity": "1e23"}}\n',
     "bad_request", "quantity 1e23 is out of range"),
    (b'{"id": 12, "cmd": "place", "params": {"symbol": "BTC/USDT", "side": "buy", "quantity": "NaN"}}\n',
     "bad_request", "quantity must be a finite number"),
    (b'{"id": 13, "cmd": "place", "params": {"symbol": "BTC/USDT", "side": "buy", "quantity": "-1"}}\n',
     "bad_request", "quantity must be greater than zero"),
    (b'{"id": 14, "cmd": "place", "params": {"symbol": "BTC/USDT", "side": "buy", "quantity": 1, "price": "Infinity",'
     b' "type": "limit"}}\n', "bad_request", "price must be a finite number"),
    (b'{"id": 15, "cmd": "place", "params": {"symbol": ["BTC/USDT"], "side": "buy", "quantity": 1}}\n',
     "bad_request", "symbol must be a string"),
    (b'{"id": 16, "cmd": "place", "params": {"symbol": "BTC/USDT", "side": "buy", "quantity": 1, "oco_id": "x"}}\n',
     "bad_request", "oco_id is set by the engine"),
    (b'{"id": 17, "cmd": "call", "params": {"command": "order.oco", "params": {"first": 1}}}\n',
     "bad_request", "first must be a JSON object"),
    (b'{"id": 18, "cmd": "call", "params": {"command": "order.modify", "params": {"id": "x", "price": "NaN"}}}\n',
     "bad_request", "price must be a finite number"),
    (b'{"id": 19, "cmd": "call", "params": {"command": ["x"]}}\n', "bad_request", "command must be a string"),
    (b'{"id": 20, "cmd": "call", "params": {"command": "risk.reset", "params": []}}\n', "bad_request",
     "call params must be a JSON object"),
    (b'{"id": 21, "cmd": "nope"}\n', "bad_request", "unknown daemon command 'nope'"),
    (b'{"id": 22, "cmd": "hello", "params": {"client": {"x": 1}}}\n', "bad_request", "client must be a string"),
    (b'{"id": 23, "cmd": "arm_live", "params": {"armed": "no"}}\n', "bad_request", "armed must be true or false"),
]


async def test_every_malformed_request_gets_one_typed_line_and_the_connection_stays(tight) -> None:  # type: ignore[no-untyped-def]
    engine, _, home = tight
    client = await Line.unix(home)
    for raw, kind, text in BAD:
        await client.send(raw)
        answer = await client.answer()
        assert answer["ok"] is False and answer["type"] == kind, (raw[:80], answer)
        assert text in answer["error"], (raw[:80], answer)
        assert "\n" not in answer["error"] and answer["exit_code"] == 2
        assert (await client.ask({"id": "still", "cmd": "hello", "params": {}}))["ok"]  # still usable
    await client.send(b'{"id": 1, "cmd": "status", "params": {"x": "' + b"y" * (MAX_REQUEST + 10) + b'"}}\n')
    answer = await client.answer()
    assert answer["type"] == "too_long" and answer["id"] is None
    assert (await client.ask({"id": 2, "cmd": "hello", "params": {}}))["ok"]  # the long line was skipped
    assert not engine.oms.open_orders() and not engine.portfolio.open_positions()  # nothing was placed
    client.close()


async def test_subscribe_to_one_kind_by_name(tight) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from tui_trader.core.enums import Side
    from tui_trader.core.orders import OrderRequest

    engine, _, home = tight
    client = await Line.unix(home)
    answer = await client.ask({"id": 1, "cmd": "subscribe", "params": {"kinds": "fill"}})
    assert answer["result"] == {"subscribed": ["fill"]}
    await engine.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.1")))
    event = await client.answer()
    assert event["event"] == "fill" and event["data"]["fill"]["symbol"] == "BTC/USDT"
    client.close()


async def test_oco_and_every_order_kind_over_the_socket(tight) -> None:  # type: ignore[no-untyped-def]
    engine, _, home = tight
    client = await Line.unix(home)
    mid = engine.mid("ETH/USDT")
    below, above = str(round(mid * 0.95)), str(round(mid * 1.05))
    answer = await client.ask(
        {
            "id": 1,
            "cmd": "order.oco",
            "params": {
                "first": {"symbol": "ETH/USDT", "side": "sell", "quantity": "1", "type": "limit", "price": above},
                "second": {"symbol": "ETH/USDT", "side": "sell", "quantity": "1", "type": "stop", "stop_price": below},
            },
        }
    )
    assert answer["ok"], answer
    first, second = answer["result"]
    assert first["oco_id"] == second["oco_id"] and first["oco_id"]
    kinds = [
        {"type": "trailing-stop", "trail_percent": "0.02", "side": "sell"},
        {"type": "limit", "price": below, "post_only": True, "side": "buy"},
        {"type": "limit", "price": below, "time_in_force": "ioc", "side": "buy"},
        {"type": "market", "reduce_only": True, "side": "sell"},
    ]
    for i, extra in enumerate(kinds):
        answer = await client.ask({"id": 10 + i, "cmd": "place", "params": {"symbol": "ETH/USDT", "quantity": "1",
                                                                             **extra}})
        assert answer["ok"], (extra, answer)
        order = answer["result"]
        assert order["type"] == extra["type"]
        assert order["post_only"] == extra.get("post_only", False)
        assert order["reduce_only"] == extra.get("reduce_only", False)
        assert order["time_in_force"] == extra.get("time_in_force", "gtc")
    client.close()


def test_100_idle_half_open_tcp_connections_and_tui_trader_status_on_a_real_daemon(spawn_daemon, capsys) -> None:  # type: ignore[no-untyped-def]
    """The issue's check as a user runs it: a daemon with TCP on, 100 connections that never
    authenticate (half of them sent half a line), then `tui-trader status` over the Unix socket."""
    import re
    import socket

    from tui_trader.cli.main import main

    d = spawn_daemon(TUI_TRADER_DAEMON__TCP_PORT="0")
    found = re.search(r"tcp 127\.0\.0\.1:(\d+)", d.stderr)
    assert found, d.stderr
    port = int(found[1])
    idle: list[socket.socket] = []
    try:
        for i in range(100):
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i % 2:
                conn.sendall(b'{"id": 1, "cmd": "au')  # half a line, never finished
            idle.append(conn)
        for _ in range(3):
            assert main(["status", "--home", str(d.home)]) == 0
            out, err = capsys.readouterr()
            assert out.startswith(f"daemon pid {d.proc.pid}, PAPER") and err == "", err
        assert main(["flatten", "--yes", "--home", str(d.home)]) == 0
        assert "flatten: cancelled 0 order(s)" in capsys.readouterr().out
    finally:
        for conn in idle:
            conn.close()
    assert d.stop() == 0
