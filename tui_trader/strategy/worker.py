"""One strategy in a worker process: the StrategyRunner the engine used to run in-process,
fed over a socket (see wire.py), inside the sandbox (see sandbox.py).

engine -> worker   {"op": "init" | "start" | "bar" | "fill" | "closed" | "failed" | "enable" |
                    "stake" | "confirm" | "reload" | "stop", "seq": n, ...}
worker -> engine   {"op": "done", "seq": n, ...}: one answer per request, in order, carrying
                   the trades and the state when they changed, errors;
                   {"op": "decided", "seq": n, "d": [...]}: a bar's decisions, sent as soon as
                   they are made, before its "done" (which then follows with the trades and
                   state: the order is on its way while they are serialised);
                   {"op": "where", ...}: where it is stuck (on SIGUSR1, before the engine kills it).

`init` sandboxes the worker and imports the strategy (what it is, which bars it needs);
`start` brings the warm-up bars and the saved state and runs one evaluation that decides
nothing, so a broken or endless strategy is found when it starts.

Only new bars travel (six numbers each): the worker keeps the strategy's windows itself.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from tui_trader.core import heap
from tui_trader.core.isotime import iso
from tui_trader.core.market import Candle
from tui_trader.strategy import wire
from tui_trader.strategy.errors import StrategyError
from tui_trader.strategy.runner import Decision, StrategyRunner

HOOKS = ("custom_stake_amount", "confirm_trade_entry", "confirm_trade_exit")
# requests whose answer holds only the worker's own plain values (a hook's answer may not)
_PLAIN_ANSWERS = frozenset({"bar", "ping", "fill", "closed", "failed", "enable", "heap"})


class Outbox(Protocol):
    """Where an in-process worker's frames go (a socket's `sendall`, in the engine). One
    with a `deliver(message)` too takes its messages of plain values as they are, as the
    engine would read their frames back (engine/inline_worker.py)."""

    def sendall(self, data: bytes, /) -> None: ...


def bar_row(candle: Candle) -> list[float]:
    return [
        candle.open_time.timestamp() * 1_000_000,
        candle.open,
        candle.high,
        candle.low,
        candle.close,
        candle.volume,
    ]


def row_candle(symbol: str, timeframe: str, row: list[float]) -> Candle:
    ts = datetime.fromtimestamp(row[0] / 1_000_000, UTC)
    return Candle(symbol, timeframe, ts, row[1], row[2], row[3], row[4], row[5], True)


def decision_dict(d: Decision, atr: float | None = None) -> dict[str, Any]:
    """Plain values only (str, float, None: wire.encode_plain's promise), as decision_from
    reads them back (a strategy's tag or reason may be any object: its str)."""
    return {
        "strategy": str(d.strategy),
        "symbol": str(d.symbol),
        "action": str(d.action),
        "tag": None if d.tag is None else str(d.tag),
        "price": float(d.price),
        "ts": iso(d.ts),
        "reason": str(d.reason),
        "timeframe": str(d.timeframe or ""),
        "atr": None if atr is None else float(atr),
    }


def decision_from(doc: dict[str, Any]) -> Decision:
    return Decision(
        str(doc["strategy"]),
        str(doc["symbol"]),
        str(doc["action"]),
        None if doc.get("tag") is None else str(doc["tag"]),
        float(doc["price"]),
        datetime.fromisoformat(str(doc["ts"])),
        str(doc["reason"]),
        str(doc.get("timeframe") or ""),
    )


class Worker:
    """`sandboxed=False`: a rule strategy evaluated in the engine's own process (see
    engine/inline_worker.py): its init loads the rule file and leaves the process as it is."""

    def __init__(self, sock: socket.socket | Outbox, *, sandboxed: bool = True) -> None:
        self.sock = sock
        # in the engine's process: plain messages handed over as they are (no bytes)
        self._deliver: Callable[[dict[str, Any]], None] | None = getattr(sock, "deliver", None)
        self.sandboxed = sandboxed
        self.runner: StrategyRunner | None = None
        self.atr_period = 14
        self.file: str | None = None
        self.decisions: list[Decision] = []
        self.errors: list[str] = []
        self._sent_state = ""
        self._sent_trades = ""
        # freed C-heap memory given back while idle (see serve); replaced in tests
        self.trim: Callable[[], bool] = heap.trim
        self.seconds_to_trim: Callable[[], float] = heap.seconds_to_next_trim
        self.trims = 0

    # -- the loop ---------------------------------------------------------------------------------

    def serve(self) -> None:
        signal.signal(signal.SIGUSR1, self._where)
        assert isinstance(self.sock, socket.socket)
        receiver = wire.Receiver(self.sock)
        while True:
            if not receiver.pending():
                self._trim_while_idle()
            msg = receiver.receive()
            if msg is None or not self.handle(msg):
                return

    def _trim_while_idle(self) -> None:
        """Wait for the next request; each time the wall clock passes half past a minute
        (hh:mm:30, away from any candle close) with nothing asked, hand the heap's freed pages
        back to the system. A worker's evaluations free what they build, and glibc keeps it
        in the worker's RSS otherwise, as it did in the engine (core/heap.py)."""
        assert isinstance(self.sock, socket.socket)
        while True:
            ready, _, _ = select.select([self.sock], [], [], self.seconds_to_trim())
            if ready:
                return
            self.trim()
            self.trims += 1

    def handle(self, msg: dict[str, Any]) -> bool:
        """Carry out one request and send its answer; False after `stop` (answered)."""
        if msg.get("op") == "stop":
            self._answer(msg, {})
            return False
        handler = getattr(self, f"op_{msg.get('op')}", None)
        try:
            result = handler(msg) if handler is not None else {"err": f"unknown op {msg.get('op')!r}"}
        except StrategyError as exc:
            result = {"err": str(exc)}
        except Exception as exc:  # the worker's own bug: said, and the worker carries on
            result = {"err": f"strategy worker: {type(exc).__name__}: {exc}"}
        self._answer(msg, result)
        return True

    def _answer(self, msg: dict[str, Any], result: dict[str, Any]) -> None:
        out = {"op": "done", "seq": msg.get("seq"), **result}
        changed: dict[str, bytes] = {}  # JSON text, spliced into the frame as it is
        runner = self.runner
        if runner is not None:
            out["enabled"] = runner.enabled
            out["error"] = str(runner.error) if runner.error else None
            out["evals"] = runner.evaluations
            whole = runner.state  # its "trades" are the open trades' dicts: made once
            state = json.dumps(whole, default=str, sort_keys=True)
            if state != self._sent_state:
                self._sent_state = state
                changed["state"] = state.encode()
            trades = json.dumps(whole["trades"], default=str)
            if trades != self._sent_trades:
                self._sent_trades = trades
                changed["trades"] = trades.encode()
        if self.errors:
            out["errors"], self.errors = [str(e) for e in self.errors], []
        if msg.get("op") in _PLAIN_ANSWERS:  # nothing but our own str, int, bool, None in `out`
            self._send_plain(out, changed)
        else:  # a hook's answer may be any object
            self.sock.sendall(wire.encode({**out, **{k: json.loads(v) for k, v in changed.items()}}))

    def _where(self, signum: int, frame: FrameType | None) -> None:
        """SIGUSR1 from the engine at the deadline: say which function is running, and where."""
        where: dict[str, Any] = {"op": "where", "fn": None, "line": None, "file": None}
        wanted = str(Path(self.file).resolve()) if self.file else None
        innermost = None
        while frame is not None:
            if innermost is None:
                innermost = frame
            if wanted and frame.f_code.co_filename == wanted:
                where.update(fn=frame.f_code.co_name, line=frame.f_lineno, file=frame.f_code.co_filename)
                break
            frame = frame.f_back
        if where["fn"] is None and innermost is not None:
            code = innermost.f_code
            where.update(fn=code.co_name, line=innermost.f_lineno, file=code.co_filename)
        try:
            self.sock.sendall(wire.encode(where))
        except OSError:
            pass

    # -- requests -----------------------------------------------------------------------------------

    def op_init(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Sandbox, then import the strategy: what it is and which bars it needs."""
        from tui_trader.strategy import sandbox
        from tui_trader.strategy.analysis import strategy_file
        from tui_trader.strategy.hooks import overridden_hook
        from tui_trader.strategy.loader import load_strategy
        from tui_trader.strategy.runner import WINDOW_MARGIN

        dirs = [Path(d) for d in msg.get("dirs") or []]
        heap.trim(), heap.usage()  # glibc's functions looked up before the sandbox closes in
        applied = sandbox.apply(dirs, msg.get("memory_mb")) if self.sandboxed else None
        strategy = load_strategy(str(msg["strategy"]), dirs, msg.get("params") or None)
        self.file = strategy_file(strategy)
        self.atr_period = int(msg.get("atr_period") or 14)
        runner = StrategyRunner(
            strategy,
            list(msg["symbols"]),
            on_decision=self.decisions.append,
            on_error=lambda err: self.errors.append(str(err)),
        )
        runner.check_on_arrays = not self.sandboxed  # in the engine: no pandas for the warm-up
        self.runner = runner
        return {
            "info": {
                "name": strategy.name,
                "timeframe": strategy.timeframe,
                "stoploss": strategy.stoploss,
                "startup_candle_count": strategy.startup_candle_count,
                "history_bars": strategy.startup_candle_count + WINDOW_MARGIN,
                "subscriptions": runner.subscriptions(),
                "hooks": [h for h in HOOKS if overridden_hook(strategy, h) is not None],
                "file": self.file,
                "sandbox": applied,
                "pid": os.getpid(),
            }
        }

    def op_start(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Warm-up bars and saved state in, bot_start, then one evaluation deciding nothing."""
        runner = self._runner()
        history: dict[tuple[str, str], list[Candle]] = {}
        for key, rows in (msg.get("history") or {}).items():
            symbol, tf = key.split("\t", 1)
            history[(symbol, tf)] = [row_candle(symbol, tf, r) for r in rows]
        runner.history = lambda symbol, tf, limit: history.get((symbol, tf), [])[-limit:]
        if msg.get("state"):
            runner.restore(msg["state"])
        runner.enabled = bool(msg.get("enabled", True))
        runner.warm_up()  # the first evaluation, under the engine's deadline
        runner.history = None
        return {}

    def op_bar(self, msg: dict[str, Any]) -> dict[str, Any]:
        started, cpu = time.perf_counter(), 0.0 if self.sandboxed else time.thread_time()
        runner = self._runner()
        self.decisions.clear()
        runner.on_candle(msg["s"], msg["tf"], row_candle(msg["s"], msg["tf"], msg["b"]), signals=not msg.get("hold"))
        out = []
        for d in self.decisions:
            atr = runner.atr(d.symbol, self.atr_period) if d.is_entry else None
            out.append(decision_dict(d, atr))
        self.decisions.clear()
        took = round((time.perf_counter() - started) * 1e6)  # µs in the worker, for status and bench/
        # in the engine, its CPU time too: what the engine's watch on slow rules reads (a busy
        # machine stretches the wall time of everything alike)
        answer = {"us": took} if self.sandboxed else {"us": took, "cpu_us": round((time.thread_time() - cpu) * 1e6)}
        if out:
            self._send_plain({"op": "decided", "seq": msg.get("seq"), "d": out, "us": took})
        return answer

    def _send_plain(self, message: dict[str, Any], changed: dict[str, bytes] | None = None) -> None:
        """A message of plain values (`wire.encode_plain`'s promise) with `changed`'s JSON
        texts as members: framed, or in the engine's process handed over as the engine would
        read the frame back."""
        if self._deliver is None:
            self.sock.sendall(wire.encode_plain(message, changed))
        elif changed:
            self._deliver({**message, **{k: json.loads(v) for k, v in changed.items()}})
        else:
            self._deliver(message)

    def op_ping(self, msg: dict[str, Any]) -> dict[str, Any]:
        return {}

    def op_heap(self, msg: dict[str, Any]) -> dict[str, Any]:
        """The C heap's bytes in use and held free (glibc's count), and the trims so far."""
        used = heap.usage()
        return {"heap": None if used is None else list(used), "trims": self.trims}

    def op_fill(self, msg: dict[str, Any]) -> dict[str, Any]:
        ts = datetime.fromisoformat(msg["ts"])
        self._runner().on_fill(msg["s"], msg["side"], float(msg["qty"]), float(msg["price"]), ts)
        return {}

    def op_closed(self, msg: dict[str, Any]) -> dict[str, Any]:
        ts = datetime.fromisoformat(msg["ts"]) if msg.get("ts") else None
        self._runner().on_position_closed(msg["s"], msg.get("price"), ts)
        return {}

    def op_failed(self, msg: dict[str, Any]) -> dict[str, Any]:
        self._runner().on_order_failed(msg["s"])
        return {}

    def op_enable(self, msg: dict[str, Any]) -> dict[str, Any]:
        runner = self._runner()
        runner.enabled = bool(msg["on"])
        runner.error = None
        return {}

    def op_stake(self, msg: dict[str, Any]) -> dict[str, Any]:
        d = decision_from(msg["decision"])
        return {"v": self._runner().stake_amount(d, float(msg["proposed"]), msg.get("min"), float(msg["max"]))}

    def op_confirm(self, msg: dict[str, Any]) -> dict[str, Any]:
        d = decision_from(msg["decision"])
        return {"v": self._runner().confirm(d, float(msg["amount"]))}

    def op_reload(self, msg: dict[str, Any]) -> dict[str, Any]:
        from tui_trader.strategy.reload import reload_runner

        err = reload_runner(self._runner(), msg["path"])
        return {"reload_error": str(err) if err else None}

    def _runner(self) -> StrategyRunner:
        if self.runner is None:
            raise RuntimeError("not initialised")
        return self.runner


def run(fd: int) -> None:
    """A forked worker's life: serve the engine on `fd` until it says stop or goes away."""
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    try:
        Worker(sock).serve()
    except (OSError, wire.WireError) as exc:
        print(f"strategy worker {os.getpid()}: {exc}", file=sys.stderr)
    finally:
        sock.close()
