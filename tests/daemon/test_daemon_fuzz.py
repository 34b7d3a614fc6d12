"""Hypothesis over the control protocol: whatever a client sends, one answer line comes back,
never an internal error, and the connection keeps working.

The daemon (a hand-stepped paper engine behind a real ControlServer) runs in a thread with its
own event loop; hypothesis drives a plain blocking socket, one request at a time.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_trader.daemon.connection import Budgets
from tui_trader.daemon.server import STRATEGY_ALIASES, ControlServer
from tui_trader.engine.commands import available
from tui_trader.engine.testing import manual_engine, step
from tui_trader.home import Home


class Client:
    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.file = self.sock.makefile("rb")
        self.seq = 0

    def send_line(self, raw: bytes) -> dict[str, Any]:
        """Send one line; the first answer (event lines pushed after a subscribe are skipped)."""
        self.sock.sendall(raw + b"\n")
        while True:
            line = self.file.readline()
            assert line.endswith(b"\n"), f"the daemon hung up after {raw[:200]!r}"
            doc = json.loads(line)
            if "event" not in doc:
                return doc


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    home = Home(tmp_path_factory.mktemp("fuzz") / "h").ensure()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: list[asyncio.Event] = []

    async def main() -> None:
        engine = manual_engine()
        await engine.start()
        await step(engine, 3)
        server = ControlServer(engine, home.socket_path, budgets=Budgets(idle_s=120, read_s=10))
        await server.start()
        stop.append(asyncio.Event())
        ready.set()
        await stop[0].wait()
        await server.stop()
        await engine.stop()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(60)
    c = Client(str(home.socket_path))
    yield c
    c.sock.close()
    loop.call_soon_threadsafe(stop[0].set)
    thread.join(30)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["NaN", "Infinity", "-1", "1e23", "0", "0.5", "BTC/USDT", "buy", "limit", "fill", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
FIELDS = [
    "symbol", "side", "quantity", "type", "price", "stop_price", "time_in_force", "trail_amount", "trail_percent",
    "post_only", "reduce_only", "kinds", "limit", "all", "id", "command", "params", "name", "enabled", "which",
    "first", "second", "timeframe", "client", "text", "provider", "venue",
]
COMMANDS = sorted(
    {"hello", "status", "positions", "orders", "fills", "place", "cancel", "cancel_all", "snapshot", "candles",
     "subscribe", "unsubscribe", "call", "reload", "auth", *STRATEGY_ALIASES, *available()}
    - {"flatten"}  # asked for below with sane params only, so positions stay few
)
params_strategy = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6),
    st.fixed_dictionaries(
        {"command": st.sampled_from(COMMANDS) | st.text(max_size=8)},
        optional={"params": st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5) | json_values},
    ),
)
requests = st.fixed_dictionaries(
    {"id": st.integers(0, 10**6) | st.text(max_size=6), "cmd": st.sampled_from(COMMANDS) | json_values},
    optional={"params": params_strategy},
)


def check(answer: dict[str, Any], sent: Any) -> None:
    assert set(answer) >= {"id", "ok"}, (sent, answer)
    if not answer["ok"]:
        assert answer["type"] != "internal", (sent, answer)
        assert "\n" not in answer["error"] and answer["exit_code"] in (1, 2), (sent, answer)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(msg=requests)
def test_any_request_gets_one_typed_answer(client: Client, msg: dict[str, Any]) -> None:
    answer = client.send_line(json.dumps(msg).encode())
    check(answer, msg)
    assert answer["id"] == msg["id"]
    assert client.send_line(b'{"id": "ping", "cmd": "hello"}')["ok"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.binary(max_size=200).map(lambda b: b.replace(b"\n", b" "))
    | json_values.map(lambda v: json.dumps(v).encode())
)
def test_any_line_gets_one_typed_answer(client: Client, raw: bytes) -> None:
    if not raw.strip():
        return  # blank lines are ignored, as keep-alives
    answer = client.send_line(raw)
    check(answer, raw)
    assert client.send_line(b'{"id": "ping", "cmd": "hello"}')["ok"]
