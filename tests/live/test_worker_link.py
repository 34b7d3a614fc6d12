"""The engine's end of a strategy worker's socket (engine/worker_link.py), against a real
socket: frames handed on as they arrive however the bytes are split, a frame that is not one
of ours stops the reading with one report, the socket closing is reported; and a bar published
on the bus is on its way to the worker before `publish` returns (no task turn between them)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

from tui_trader.config import Settings
from tui_trader.core.events import CandleEvent
from tui_trader.core.market import Candle
from tui_trader.engine.testing import manual_engine, paper_settings, step
from tui_trader.engine.worker_link import WorkerLink
from tui_trader.home import Home
from tui_trader.strategy import wire


async def _linked() -> tuple[WorkerLink, socket.socket, list[Any]]:
    ours, theirs = socket.socketpair()
    seen: list[Any] = []
    link = WorkerLink(seen.append, lambda why: seen.append(("broken", why)), lambda: seen.append("lost"))
    await asyncio.get_running_loop().create_unix_connection(lambda: link, sock=ours)
    return link, theirs, seen


async def _settle(seen: list[Any], n: int) -> None:
    for _ in range(200):  # a hang guard, not a speed assertion
        if len(seen) >= n:
            return
        await asyncio.sleep(0.005)


async def test_frames_arrive_whole_however_the_bytes_are_split() -> None:
    link, theirs, seen = await _linked()
    stream = b"".join(wire.encode({"op": "done", "seq": i, "pad": "x" * (i * 5000)}) for i in range(6))
    for cut in (3, 7, 4100, 9000, len(stream)):  # a header in two, a body over several reads
        theirs.sendall(stream[:cut])
        stream = stream[cut:]
        await asyncio.sleep(0.01)
    await _settle(seen, 6)
    assert [m["seq"] for m in seen] == list(range(6))
    theirs.close()
    await _settle(seen, 7)
    assert seen[-1] == "lost" and link.closed.done()


async def test_a_frame_that_is_not_ours_is_reported_once_and_nothing_after_it_is_read() -> None:
    link, theirs, seen = await _linked()
    theirs.sendall(wire.encode({"op": "done", "seq": 1}) + wire.HEADER.pack(5) + b"[1,2]" + wire.encode({"op": "x"}))
    await _settle(seen, 2)
    await asyncio.sleep(0.02)
    assert seen[0] == {"op": "done", "seq": 1}
    assert seen[1][0] == "broken" and "object" in seen[1][1] and len(seen) == 2
    await link.close()
    theirs.close()


async def test_a_bar_is_written_to_the_worker_before_publish_returns(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home").ensure()
    base = paper_settings().model_dump()
    base["strategies"] = {"rsi_trend": {"symbols": ["ETH/USDT"], "isolation": "process"}}
    engine = manual_engine(Settings(**base), home=home)
    await engine.start()
    try:
        await step(engine, 2)
        await engine.strategies.started()
        worker = engine.strategies.runners["rsi_trend"]
        assert worker.phase == "running" and worker.is_idle()
        link = worker._link
        assert link is not None and link.transport is not None
        written: list[bytes] = []
        transport, write = link.transport, link.transport.write
        transport.write = lambda data: (written.append(bytes(data)), write(data))[1]  # type: ignore[method-assign]
        now = engine.clock.now().replace(second=0, microsecond=0)
        engine.bus.publish(CandleEvent("paper", Candle("ETH/USDT", "5m", now, 1, 2, 0.5, 1.5, 3.0)))
        assert len(written) == 1  # written in publish's own call
        message = wire.decode(written[0][wire.HEADER.size :])
        assert message["op"] == "bar" and message["s"] == "ETH/USDT" and message["b"][4] == 1.5
        await engine.strategies.drain()
        assert worker.is_idle() and worker.phase == "running"
    finally:
        await engine.stop()


class _Framed:
    """A worker's socket, as the engine reads it: every answer framed."""

    def __init__(self) -> None:
        self.read: list[dict[str, Any]] = []

    def sendall(self, data: bytes, /) -> None:
        self.read.append(wire.decode(data[wire.HEADER.size :]))


class _InProcess(_Framed):
    """The engine's own end in its process (engine/inline_worker.py): plain answers handed over."""

    def deliver(self, message: dict[str, Any], /) -> None:
        self.read.append(message)


def _untimed(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in m.items() if k not in ("us", "cpu_us")} for m in messages]


def test_a_worker_in_the_engines_process_hands_over_what_its_frames_would_read_back_as() -> None:
    from datetime import UTC, datetime, timedelta

    from tui_trader.strategy.worker import Worker, bar_row

    start = datetime(2026, 1, 5, tzinfo=UTC)
    closes, price = [], 100.0  # a climb past the strategy's 1,200 start-up bars, then dips and rallies
    for i in range(1400):
        price *= 1.0005 if i < 1250 or i % 12 >= 6 else 0.995 if i % 12 < 5 else 1.0
        closes.append(price)
    outs: list[_Framed] = []
    for out in (_Framed(), _InProcess()):
        worker = Worker(out, sandboxed=False)
        params = {"buy_rsi": 40, "sell_rsi": 60}
        assert worker.handle({"op": "init", "seq": 1, "strategy": "rsi_trend", "symbols": ["X/USDT"],
                              "dirs": [], "params": params})  # fmt: skip
        assert worker.handle({"op": "start", "seq": 2, "history": {}, "enabled": True})
        for i, close in enumerate(closes):
            candle = Candle("X/USDT", "5m", start + timedelta(minutes=5 * i), close, close + 0.2, close - 0.2,
                            close, 1.0)  # fmt: skip
            assert worker.handle({"op": "bar", "seq": 10 + i, "s": "X/USDT", "tf": "5m", "b": bar_row(candle)})
            if out.read[-2]["op"] == "decided" and out.read[-2]["d"][0]["action"] == "enter_long":
                price = out.read[-2]["d"][0]["price"]
                assert worker.handle({"op": "fill", "seq": 5000 + i, "s": "X/USDT", "side": "buy", "qty": 1.0,
                                      "price": price, "ts": candle.open_time.isoformat()})  # fmt: skip
        outs.append(out)
    framed, in_process = outs
    assert any(m["op"] == "decided" for m in framed.read) and any("state" in m for m in framed.read)
    assert _untimed(in_process.read) == _untimed(framed.read)
