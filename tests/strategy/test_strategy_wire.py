"""The frames between the engine and a strategy worker (strategy/wire.py).

A bar travels as a binary record, a bar's decisions and answer as orjson: each must decode to
exactly what the JSON form always gave (NaN kept, any tag or reason a strategy returns read
back as its str), and the worker's buffered reader must find every frame however the bytes
arrive (several in one read, one split over many, the stream ending).
"""

from __future__ import annotations

import enum
import json
import math
import socket
from datetime import UTC, datetime

import numpy as np
import pytest

from tui_trader.strategy import wire
from tui_trader.strategy.runner import Decision
from tui_trader.strategy.worker import decision_dict, decision_from


def _body(frame: bytes) -> bytes:
    assert wire.size_of(frame[: wire.HEADER.size]) == len(frame) - wire.HEADER.size
    return frame[wire.HEADER.size :]


def test_a_bar_record_decodes_to_the_json_message() -> None:
    row = [1.7e15, 3400.5, 3401.25, 3399.0, 3400.75, 12.5]
    message = wire.decode(_body(wire.encode_bar(2**40 + 3, "ETH/USDT", "5m", row)))
    assert message == {"op": "bar", "seq": 2**40 + 3, "s": "ETH/USDT", "tf": "5m", "b": row}
    assert message == wire.decode(_body(wire.encode(message)))


def test_a_bar_record_keeps_nan_and_every_bit_of_the_numbers() -> None:
    row = [1_767_225_600_000_000.0, 0.1 + 0.2, 1e-300, -0.0, math.inf, math.nan]
    got = wire.decode(_body(wire.encode_bar(1, "BTC/USD", "1h", row)))["b"]
    assert got[:5] == row[:5] and math.copysign(1, got[3]) == -1 and math.isnan(got[5])


_SHORT = bytes(wire.BAR.size - 1)


@pytest.mark.parametrize("body", [b"B\x00\x01", b"B" + _SHORT + b"no tab", b"B" + _SHORT + b"\xff\tx"])
def test_a_broken_bar_record_is_a_wire_error(body: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.decode(body)


def test_plain_frames_are_the_json_frames() -> None:
    message = {"op": "done", "seq": 7, "us": 123, "enabled": True, "error": None, "evals": 9,
               "errors": ["a \u00e9 \"quoted\" line"], "d": [{"price": 0.1 + 0.2, "tag": None}]}  # fmt: skip
    assert wire.decode(_body(wire.encode_plain(message))) == json.loads(_body(wire.encode(message)))


def test_a_plain_frame_with_nan_goes_through_json_and_keeps_it() -> None:
    frame = wire.encode_plain({"op": "decided", "d": [{"price": math.nan, "atr": math.inf}]}, {"state": b'{"a":1}'})
    assert b"NaN" in frame
    message = wire.decode(_body(frame))
    assert math.isnan(message["d"][0]["price"]) and message["d"][0]["atr"] == math.inf
    assert message["state"] == {"a": 1}


@pytest.mark.parametrize("bad", [math.nan, -math.inf, np.float64("nan"), [1.0, [2.0, {"x": math.inf}]]])
def test_a_nan_or_infinity_at_any_depth_goes_through_json(bad: object) -> None:
    frame = wire.encode_plain({"op": "decided", "d": [{"price": 1.5, "tag": None, "deep": {"v": bad}}], "us": 3})
    assert frame == wire.encode({"op": "decided", "d": [{"price": 1.5, "tag": None, "deep": {"v": bad}}], "us": 3})


def test_finite_values_at_any_depth_are_read_back_as_sent() -> None:
    message = {"op": "decided", "d": [{"price": 2.5, "n": True, "xs": (1, [2.0, {"y": -0.0}], "a")}], "us": 3}
    assert wire.decode(_body(wire.encode_plain(message))) == json.loads(_body(wire.encode(message)))


def test_spliced_members_arrive_as_json_values() -> None:
    state = json.dumps({"trades": {"ETH/USDT": {"amount": 0.5}}, "custom": [1, "x"]}, sort_keys=True)
    frame = wire.encode_plain({"op": "done", "seq": 1}, {"state": state.encode(), "trades": b"{}"})
    assert wire.decode(_body(frame)) == {"op": "done", "seq": 1, "state": json.loads(state), "trades": {}}


def test_decode_takes_what_only_json_writes_and_refuses_the_rest() -> None:
    assert wire.decode(b'{"v": NaN, "n": 123456789012345678901234567890}')["n"] == 123456789012345678901234567890
    for bad in (b"not json", b"[1, 2]", b"\xff\xfe"):
        with pytest.raises(wire.WireError):
            wire.decode(bad)


class _Tag(enum.Enum):
    DIP = 1


def test_a_decision_reads_back_the_same_through_the_plain_frame() -> None:
    ts = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    odd = Decision("s", "ETH/USDT", "enter_long", _Tag.DIP, np.float64(3400.5), ts, np.str_("entry_signal"), "5m")  # type: ignore[arg-type]
    for decision in (odd, Decision("s", "ETH/USDT", "exit_long", None, 3390.0, ts, "roi", "5m")):
        doc = decision_dict(decision, np.float64(12.25))  # type: ignore[arg-type]
        sent = wire.decode(_body(wire.encode_plain({"op": "decided", "d": [doc]})))["d"][0]
        before = json.loads(json.dumps(decision_dict(decision), default=str))  # what json carried
        assert decision_from(sent) == decision_from(before)
        assert sent["atr"] == 12.25 and type(sent["price"]) is float


def test_the_receiver_finds_frames_however_the_bytes_arrive() -> None:
    ours, theirs = socket.socketpair()
    try:
        frames = [wire.encode_bar(i, "ETH/USDT", "5m", [float(i)] * 6) for i in range(3)]
        frames.append(wire.encode({"op": "ping", "seq": 3, "blob": "x" * 200_000}))  # several reads
        stream = b"".join(frames)
        ours.sendall(stream[:5])  # a header and one byte of a body
        receiver = wire.Receiver(theirs)
        ours.sendall(stream[5:])  # the rest at once: three frames in one read
        got = [receiver.receive() for _ in frames]
        assert [m["seq"] for m in got if m] == [0, 1, 2, 3]
        assert got[3] is not None and len(got[3]["blob"]) == 200_000
        ours.close()
        assert receiver.receive() is None  # the engine has gone
    finally:
        theirs.close()


def test_the_receiver_refuses_an_oversized_frame() -> None:
    ours, theirs = socket.socketpair()
    try:
        ours.sendall(wire.HEADER.pack(wire.MAX_FRAME + 1))
        with pytest.raises(wire.WireError):
            wire.Receiver(theirs).receive()
    finally:
        ours.close()
        theirs.close()
