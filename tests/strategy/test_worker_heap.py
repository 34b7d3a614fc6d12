"""A strategy worker's memory over hours (docs/performance-history.md, "Memory after an hour").

A worker hands the C heap's freed pages back to the system while it waits, at half past a
minute (never on a candle close, never with a request waiting); it says what its heap holds
when asked (bench/bench_memory.py); and what it keeps per strategy, however many bars it has
evaluated, is its window: at most `window` rows per (symbol, timeframe), bars and analysed
frames alike."""

from __future__ import annotations

import platform
import socket
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tui_trader.core.market import Candle
from tui_trader.strategy import wire
from tui_trader.strategy.loader import bundled_dir, load_strategy
from tui_trader.strategy.runner import StrategyRunner
from tui_trader.strategy.worker import Worker

glibc = pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="mallinfo2 is glibc's"
)


def _answers(sock: socket.socket) -> list[dict[str, object]]:
    sock.setblocking(False)
    receiver = wire.Receiver(sock)
    out: list[dict[str, object]] = []
    while True:
        try:
            msg = receiver.receive()
        except BlockingIOError:
            return out
        if msg is None:
            return out
        out.append(msg)


def test_an_idle_worker_trims_its_heap_then_serves_what_comes() -> None:
    engine, theirs = socket.socketpair()
    worker = Worker(theirs, sandboxed=False)
    trims: list[int] = []

    def trim() -> bool:  # the trim time came with nothing asked: then the engine asks
        trims.append(1)
        engine.sendall(wire.encode({"op": "ping", "seq": 1}) + wire.encode({"op": "stop", "seq": 2}))
        return True

    worker.trim, worker.seconds_to_trim = trim, lambda: 0.0  # the next trim is due at once
    try:
        worker.serve()
        assert len(trims) == 1 and worker.trims == 1  # once, while idle; not again once asked
        assert [m["seq"] for m in _answers(engine)] == [1, 2]
    finally:
        engine.close()
        theirs.close()


def test_a_worker_with_requests_waiting_does_not_trim() -> None:
    engine, theirs = socket.socketpair()
    worker = Worker(theirs, sandboxed=False)
    trims: list[int] = []
    worker.trim = lambda: bool(trims.append(1))
    worker.seconds_to_trim = lambda: 0.0  # due, but there is always something to answer first
    requests = [wire.encode({"op": "ping", "seq": i}) for i in range(3)]
    engine.sendall(b"".join(requests) + wire.encode({"op": "stop", "seq": 3}))
    try:
        worker.serve()
        assert trims == []
        assert [m["seq"] for m in _answers(engine)] == [0, 1, 2, 3]
    finally:
        engine.close()
        theirs.close()


def test_the_receiver_says_whether_a_whole_message_is_waiting() -> None:
    ours, theirs = socket.socketpair()
    try:
        receiver = wire.Receiver(theirs)
        assert not receiver.pending()
        frame = wire.encode({"op": "ping", "seq": 1})
        ours.sendall(frame + frame[:3])
        assert receiver.receive() == {"op": "ping", "seq": 1}
        assert not receiver.pending()  # three bytes of the next header: not a message yet
        ours.sendall(frame[3:] + frame)
        assert receiver.receive() == {"op": "ping", "seq": 1}
        assert receiver.pending()  # the second arrived in the same read
    finally:
        ours.close()
        theirs.close()


class _Outbox:
    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def sendall(self, data: bytes, /) -> None:
        self.frames.append(data)


@glibc
def test_a_worker_says_what_its_heap_holds() -> None:
    out = _Outbox()
    worker = Worker(out, sandboxed=False)
    worker.trims = 3
    assert worker.handle({"op": "heap", "seq": 7})
    answer = wire.decode(out.frames[0][wire.HEADER.size :])
    used, free = answer["heap"]
    assert answer["seq"] == 7 and answer["trims"] == 3
    assert used > 1_000_000 and free >= 0  # an interpreter with NumPy loaded: megabytes in use


def _bars(n: int, start: datetime) -> list[Candle]:
    rng = np.random.default_rng(7)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    return [
        Candle("BTC/USDT", "5m", start + timedelta(minutes=5 * i), c, c * 1.001, c * 0.999, c, 10.0, True)
        for i, c in enumerate(closes)
    ]


@pytest.mark.parametrize("name", ["rsi_mean_reversion", "stochrsi_ema"])
def test_what_a_worker_keeps_per_strategy_stays_within_its_window(name: str) -> None:
    strategy = load_strategy(name, [bundled_dir()], None)
    strategy.timeframe = "5m"
    runner = StrategyRunner(strategy, ["BTC/USDT"], on_decision=lambda d: None, window=1)
    size = runner.window  # the least a strategy can evaluate on: its startup candles and one
    assert size == strategy.startup_candle_count + 1
    for candle in _bars(size * 3, datetime(2026, 1, 5, tzinfo=UTC)):
        runner.on_candle("BTC/USDT", "5m", candle)
    assert runner.evaluations >= size * 2
    assert [len(w) for w in runner._windows.values()] == [size]
    frame, _ = runner.dp.get_analyzed_dataframe("BTC/USDT", "5m")
    assert len(frame) == size
    assert all(len(f) <= size for f in runner.dp._analyzed.values())
    assert all(len(f) <= size for f in runner.dp._frames.values())
