"""Strategies in worker processes, supervised by the engine.

The engine talks to each strategy through a `StrategyWorker`: bars, fills and hook calls go
over a socket, one request at a time, each with a deadline. A worker that overruns it is
`hung`: the engine asks where it is stuck (SIGUSR1), kills it, says so in one line (log,
notification, status) and starts it again after a pause (1 s, 5 s, 30 s), or, after that,
leaves it disabled until `strategies enable NAME`. A worker that dies is `crashed`, handled
the same way. The engine's event loop never waits on a strategy: its positions keep their
protective stops, the kill switch and the control socket keep answering.

Workers are forked by the zygote (strategy/zygote.py): one clean preloaded interpreter the
engine starts with a sanitized environment, never a fork of the engine itself. A TOML rule
strategy (data, not code) is by default served by the same worker code in the engine's own
process instead (inline_worker.py): the same requests, answers and supervision, without the
process hop; too slow there, it is moved to a worker process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_trader.core.market import Candle
from tui_trader.engine.inline_worker import SLOW_EVAL_US, SLOW_STRIKES, InlineLink, inline_rule_file
from tui_trader.engine.worker_factory import Zygote, ZygoteError
from tui_trader.engine.worker_link import WorkerLink
from tui_trader.strategy import wire
from tui_trader.strategy.runner import Decision
from tui_trader.strategy.trade import StrategyTrade
from tui_trader.strategy.worker import bar_row, decision_dict, decision_from

log = logging.getLogger(__name__)

LOAD_TIMEOUT_S = 60.0  # importing a strategy (and its libraries) before its first evaluation
RESTART_DELAYS_S = (1.0, 5.0, 30.0)  # then disabled until enabled again
HEALTHY_AFTER_S = 600.0  # a worker that ran this long without trouble starts a new count
WHERE_WAIT_S = 0.3


class _Hung(Exception):
    pass


class _Died(Exception):
    pass


class _Broken(Exception):
    """The strategy cannot load (syntax error, unknown name): no point restarting it."""


class _Trouble(Exception):
    """What the link saw: the request overdue (hung), the worker gone (died), or a frame
    that is not one of ours (broken); turned into _Hung or _Died by the task waiting."""

    def __init__(self, kind: str, what: str, detail: str, timeout_s: float) -> None:
        super().__init__(f"{kind} while {what}")
        self.kind, self.what, self.detail, self.timeout_s = kind, what, detail, timeout_s


@dataclass(slots=True)
class _InFlight:
    seq: int
    req: _Request | None  # None: a request from outside the queue (import, warm-up)
    fut: asyncio.Future[dict[str, Any]] | None  # its answer, for those
    what: str
    timeout_s: float
    deadline: float  # on the event loop's clock


@dataclass
class _Request:
    message: dict[str, Any]
    answer: asyncio.Future[dict[str, Any]] | None = None


_STOP = _Request({"op": "stop"})
_DEAD = _Request({"op": "dead"})  # the factory reaped the worker while it had nothing to do
_KEPT_WHILE_DOWN = ("fill", "closed", "failed")  # they change its trades: the next worker needs them
# (subscriptions, bars wanted) -> warm-up bars per (symbol, timeframe)
History = Callable[[list[tuple[str, str]], int], Awaitable[dict[tuple[str, str], list[Candle]]]]


@dataclass
class WorkerConfig:
    name: str  # the [strategies.NAME] table
    strategy: str  # what to load (a name or a path)
    symbols: list[str]
    dirs: list[Path]
    params: dict[str, Any] = field(default_factory=dict)
    timeout_s: float = 5.0
    atr_period: int = 14
    memory_mb: int | None = None
    isolation: str = "auto"  # auto: a rule strategy in the engine's process (inline_worker.py); process


class StrategyWorker:
    """The engine's handle on one strategy in its worker process (see the module docstring)."""

    def __init__(
        self,
        config: WorkerConfig,
        zygote: Zygote,
        *,
        history: History,
        state: dict[str, Any] | None,
        enabled: bool,
        on_decision: Callable[[Decision, float | None], None],
        on_state: Callable[[], None],
        notify: Callable[[str, str], None],
        on_loaded: Callable[[StrategyWorker], None] = lambda worker: None,
        on_trades: Callable[[StrategyWorker], None] = lambda worker: None,
    ) -> None:
        self.config = config
        self.zygote = zygote
        self.history = history
        self.state: dict[str, Any] = dict(state or {})
        self.enabled = enabled
        self.on_decision = on_decision
        self.on_state = on_state
        self.notify = notify
        self.on_loaded = on_loaded
        self.on_trades = on_trades
        self.phase = "starting"  # starting | running | hung | crashed | stopped
        self.error: str | None = None
        self.info: dict[str, Any] = {}
        self.evaluations = 0
        self.failures = 0
        self.restarts = 0
        self.pid: int | None = None
        self.in_engine = False  # a rule strategy evaluated in the engine's process (no pid)
        self.trades: dict[str, StrategyTrade] = {
            s: StrategyTrade.from_dict(t) for s, t in (self.state.get("trades") or {}).items()
        }
        self._subs: set[tuple[str, str]] = set()
        self.atrs: dict[str, float] = {}  # the ATR that came with the last entry, per symbol
        self.eval_us = 0  # the last bar's evaluation, timed inside the worker
        self._queue: deque[_Request] = deque()
        self._link: WorkerLink | InlineLink | None = None
        self._slow = 0  # bars in a row that took SLOW_EVAL_US or more in the engine
        self._moving = False  # to a worker process: the engine's evaluations were too slow
        self._moved = False
        self._inflight: _InFlight | None = None  # the request waiting for its answer
        self._trouble: _Trouble | None = None  # what went wrong with the current worker
        self._pumping = False  # requests go out (running), or wait in the queue
        self._ended: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._where_fut: asyncio.Future[dict[str, Any]] | None = None
        self._closing = False
        self._seq = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()  # enable() after the worker was given up on
        self._idle = asyncio.Event()
        self._idle.set()
        self._ready = asyncio.Event()  # out of "starting": running, or failed
        self._loaded = asyncio.Event()  # imported (its subscriptions known), or failed
        self._started_at = 0.0

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def stoploss(self) -> float | None:
        value = self.info.get("stoploss")
        return None if value is None else float(value)

    def hooks(self) -> list[str]:
        return list(self.info.get("hooks") or [])

    # -- life ------------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._life(), name=f"strategy-{self.name}")

    async def stop(self) -> None:
        if self._task is None:
            return
        if self.phase != "running":  # waiting to restart, or given up on: nothing to tell
            self._task.cancel()
        self._enqueue(_STOP)
        done, _ = await asyncio.wait({self._task}, timeout=3.0)
        if not done:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=3.0)
        if self.pid is not None:
            await self.zygote.kill(self.pid)
        self.phase = "stopped"

    async def _life(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._serve()
                if not self._moving:
                    return  # stopped
                self._moving, self._moved = False, True
                self._fail_waiting("it is moving to a worker process")
                self.phase = "starting"
                continue
            except _Hung as exc:
                kind, why = "hung", str(exc)
            except _Died as exc:
                kind, why = "crashed", str(exc)
            except _Broken as exc:
                self._fail_waiting(str(exc))
                self._ready.set()
                self._loaded.set()
                self.phase, self.error, self.enabled = "error", str(exc), False
                line = f"strategy {self.name} not started: {exc}"
                self._say("error", line)
                await self._wake.wait()  # an edit of its file (reload) or `strategies enable`
                self.phase = "starting"
                continue
            except (ZygoteError, OSError) as exc:
                kind, why = "crashed", f"its worker could not be started: {exc}"
            self._fail_waiting(why)
            self._ready.set()
            self._loaded.set()
            if time.monotonic() - self._started_at > HEALTHY_AFTER_S:
                self.failures = 0
            self.failures += 1
            self.phase, self.error = kind, why
            if self.failures > len(RESTART_DELAYS_S):
                self.enabled = False
                line = (
                    f"strategy {self.name} {why}; {kind} {self.failures} times: disabled "
                    f"(`tui-trader strategies enable {self.name}` when fixed)"
                )
                self._say("error", line)
                await self._wake.wait()
                self.restarts += 1
                self.phase = "starting"
                continue
            delay = RESTART_DELAYS_S[self.failures - 1]
            line = f"strategy {self.name} {why}; restarting in {delay:g} s (its positions keep their stops)"
            self._say("error", line)
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass
            self.restarts += 1
            self.phase = "starting"

    def _say(self, level: str, line: str) -> None:
        """One line in the log and as a notification (the TUI, webhooks, mail, status)."""
        log.log(logging.getLevelName(level.upper()), line)
        self.notify(level, line)

    def _exited(self, pid: int) -> None:
        if pid == self.pid and self.phase in ("starting", "running"):
            self._enqueue(_DEAD)

    def _fail_waiting(self, why: str) -> None:
        """Requests queued for a worker that is gone: hooks get an answer (no), bars are
        dropped (the next worker warms up from fresh history); fills and closed positions
        stay queued for the next worker, so its trades stay true."""
        kept: deque[_Request] = deque()
        while self._queue:
            req = self._queue.popleft()
            if req is _DEAD:
                continue
            if req is _STOP or req.message.get("op") in _KEPT_WHILE_DOWN:
                kept.append(req)
            elif req.answer is not None and not req.answer.done():
                req.answer.set_exception(RuntimeError(why))
        self._queue = kept
        self._idle.set()

    def _rule_file(self) -> Path | None:
        """The rule file to evaluate in the engine's process, or None: a worker process."""
        cfg = self.config
        if cfg.isolation != "auto" or cfg.memory_mb is not None or self._moved:
            return None
        return inline_rule_file(cfg.strategy, cfg.dirs)

    async def _serve(self) -> None:
        cfg = self.config
        rule_file = self._rule_file()
        self._trouble, self._inflight, self._closing, self._slow = None, None, False, 0
        link: WorkerLink | InlineLink
        if rule_file is None:
            pid, sock = await self.zygote.spawn()
            self.pid = pid
            self.zygote.watch(pid, lambda status: self._exited(pid))
            link = socket_link = WorkerLink(self._on_frame, self._on_broken, self._on_lost)
            try:
                await asyncio.get_running_loop().create_unix_connection(lambda: socket_link, sock=sock)
            except BaseException:
                sock.close()
                raise
        else:
            pid, self.pid = -1, None
            link = InlineLink(self._on_frame, self._on_broken, self._on_lost)
        self.in_engine = rule_file is not None
        self._started_at = time.monotonic()
        self._link = link
        try:
            init = {
                "op": "init",
                "strategy": str(rule_file) if rule_file is not None else cfg.strategy,  # that file only
                "dirs": [str(d) for d in cfg.dirs],
                "params": cfg.params,
                "symbols": cfg.symbols,
                "atr_period": cfg.atr_period,
                "memory_mb": cfg.memory_mb,
            }
            loaded = await self._request(init, "its import", LOAD_TIMEOUT_S)
            if loaded.get("err") or not loaded.get("info"):
                raise _Broken(str(loaded.get("err") or "it failed to load"))
            self.info = loaded["info"]
            self._subs = {(str(s), str(tf)) for s, tf in self.info.get("subscriptions") or []}
            self.on_loaded(self)
            self._loaded.set()
            history = await self.history(self.subscriptions(), int(self.info.get("history_bars") or 0))
            start = {
                "op": "start",
                "state": self.state,
                "enabled": self.enabled,
                "history": {f"{s}\t{tf}": [bar_row(c) for c in bars] for (s, tf), bars in history.items()},
            }
            self._apply(await self._request(start, "its warm-up evaluation"))
            self.phase = "running"
            self._ready.set()
            if self.failures:
                where = "in the engine" if self.in_engine else f"pid {pid}"
                self.notify("info", f"strategy {self.name} running again ({where})")
            await self._loop(pid)
        finally:
            self._closing = True
            self._disarm()
            with contextlib.suppress(Exception):
                await link.close()
            self._link = None

    # -- the link: requests out, frames in, one request at a time ---------------------------------

    async def _request(self, message: dict[str, Any], what: str, timeout: float | None = None) -> dict[str, Any]:
        """One request outside the queue (the import, the warm-up): its answer."""
        fut = self._send(message, None, what, timeout)
        assert fut is not None
        try:
            return await fut
        except _Trouble as trouble:
            await self._raise_for(trouble, self.pid or -1)
            raise  # not reached: _raise_for raises

    async def _loop(self, pid: int) -> None:
        """Requests go out as they are queued (see _pump) and answers are applied as they
        arrive (see _on_frame), from the event loop's callbacks: no task wakes between a bar
        and its worker, or between a decision and the host. This waits for the end."""
        ended = self._ended = asyncio.get_running_loop().create_future()
        self._pumping = True
        try:
            self._pump()
            await ended  # None: stopped
        except _Trouble as trouble:
            flight = self._inflight
            if flight is not None and flight.req is not None:
                answer = flight.req.answer
                if answer is not None and not answer.done():
                    answer.set_exception(RuntimeError(f"strategy {self.name} did not answer"))
            await self._raise_for(trouble, pid)
        finally:
            self._pumping = False
            self._ended = None

    def _pump(self) -> None:
        """Send the next queued request, when none is waiting for its answer."""
        if not self._pumping or self._inflight is not None or self._trouble is not None or self._moving:
            return
        while self._queue:
            req = self._queue.popleft()
            if req is _DEAD:
                self._fail("died", "while idle")
                return
            if req is _STOP:
                if self._link is not None:
                    self._link.send(wire.encode({"op": "stop", "seq": 0}))
                if self._ended is not None and not self._ended.done():
                    self._ended.set_result(None)
                return
            self._idle.clear()
            self._send(req.message, req, _what(req.message))
            if self._inflight is not None:  # sent (or it failed: then _fail has said so)
                return
        self._idle.set()

    def _send(
        self, message: dict[str, Any], req: _Request | None, what: str, timeout: float | None = None
    ) -> asyncio.Future[dict[str, Any]] | None:
        """Write a request and wait for its answer (a future for a request from outside the
        queue). A request that cannot be encoded is answered with an error at once."""
        seq = next(self._seq)
        link = self._link
        frame: bytes | dict[str, Any]
        try:
            if message.get("op") == "bar" and "hold" not in message:  # the request sent most
                if isinstance(link, InlineLink):  # in this process: the message itself
                    frame = {**message, "seq": seq}
                else:  # a binary record
                    frame = wire.encode_bar(seq, message["s"], message["tf"], message["b"])
            else:
                frame = wire.encode({**message, "seq": seq})
        except (wire.WireError, ValueError, TypeError, KeyError) as exc:
            if req is None:
                raise
            if req.answer is not None and not req.answer.done():
                req.answer.set_exception(RuntimeError(f"strategy {self.name}: {exc}"))
            return None
        loop = asyncio.get_running_loop()
        fut = loop.create_future() if req is None else None
        timeout_s = timeout or self.config.timeout_s
        self._inflight = _InFlight(seq, req, fut, what, timeout_s, loop.time() + timeout_s)
        if isinstance(link, InlineLink):
            sent = link.send(frame)
        else:
            sent = link is not None and isinstance(frame, bytes) and link.send(frame)
        if not sent:
            self._fail("died", what)
        else:
            self._arm()
        return fut

    def _on_frame(self, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        if op == "where":  # its answer to SIGUSR1, once it is overdue
            if self._where_fut is not None and not self._where_fut.done():
                self._where_fut.set_result(frame)
            return
        flight = self._inflight
        if self._trouble is not None or flight is None or frame.get("seq") != flight.seq:
            return
        if op == "decided":  # a bar's decisions, ahead of its answer
            self._decided(frame)
            return
        if op != "done":
            return
        self._inflight = None
        if flight.req is None:
            if flight.fut is not None and not flight.fut.done():
                flight.fut.set_result(frame)
            return
        try:
            self._apply(frame)
        finally:
            answer = flight.req.answer
            if answer is not None and not answer.done():
                answer.set_result(frame)
            self._pump()

    def _on_broken(self, why: str) -> None:
        self._fail("broken", self._doing(), why)

    def _on_lost(self) -> None:
        if not self._closing:
            self._fail("died", self._doing())

    def _doing(self) -> str:
        return self._inflight.what if self._inflight is not None else "while idle"

    def _fail(self, kind: str, what: str, detail: str = "") -> None:
        """The worker is overdue, gone or talking nonsense: whoever waits on it hears so."""
        if self._trouble is not None:
            return
        flight = self._inflight
        trouble = self._trouble = _Trouble(kind, what, detail, flight.timeout_s if flight else 0.0)
        self._disarm()
        for fut in (flight.fut if flight is not None else None, self._ended):
            if fut is not None and not fut.done():
                fut.set_exception(trouble)

    def _arm(self) -> None:
        """One timer for the deadline of the request waiting for its answer: it is moved on
        when it fires early (the request it was set for has been answered), not per request."""
        flight = self._inflight
        if flight is None:
            return
        timer = self._timer
        if timer is not None:
            if timer.when() <= flight.deadline:
                return
            timer.cancel()
        self._timer = asyncio.get_running_loop().call_at(flight.deadline, self._watch)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _watch(self) -> None:
        self._timer = None
        flight = self._inflight
        if flight is None or self._trouble is not None:
            return
        if asyncio.get_running_loop().time() >= flight.deadline:
            self._fail("hung", flight.what)
        else:
            self._arm()

    async def _raise_for(self, trouble: _Trouble, pid: int) -> None:
        if trouble.kind == "hung":
            where = trouble.what
            if pid > 0:  # never -1 (every process) or 0 (this group): a worker process's own
                where = await self._where(pid, trouble.what)
                await self.zygote.kill(pid)
            raise _Hung(f"hung: {where} did not return within {trouble.timeout_s:g} s")
        if trouble.kind == "broken":
            raise _Died(f"sent a broken message while {trouble.what}: {trouble.detail}")
        raise _Died(await self._exit_text(trouble.what))

    async def _where(self, pid: int, what: str) -> str:
        """Ask the stuck worker where it is (SIGUSR1); its answer, or what it was doing."""
        fut = self._where_fut = asyncio.get_running_loop().create_future()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGUSR1)
        try:
            frame = await asyncio.wait_for(fut, WHERE_WAIT_S)
        except TimeoutError:
            return what
        finally:
            self._where_fut = None
        if not frame.get("fn"):
            return what
        line = f" (line {frame['line']})" if frame.get("line") else ""
        return f"{self.info.get('name') or self.name}.{frame['fn']}{line}"

    async def _exit_text(self, what: str) -> str:
        status = None
        for _ in range(40):  # the factory reports the exit status once it has reaped it (2 s at most)
            status = self.zygote.exit_status(self.pid or -1)
            if status is not None:
                break
            await asyncio.sleep(0.05)
        if status is None:
            how = "its worker exited"
        elif os.WIFSIGNALED(status):
            how = f"its worker was killed by signal {os.WTERMSIG(status)}"
        else:
            how = f"its worker exited with status {os.WEXITSTATUS(status)}"
        return f"crashed: {how} ({what})"

    def _apply(self, reply: dict[str, Any]) -> None:
        self.evaluations = int(reply.get("evals") or self.evaluations)
        if self.in_engine and "cpu_us" in reply:
            self._watch_time(int(reply["cpu_us"]))
        if "enabled" in reply:
            self.enabled = bool(reply["enabled"])
        self.error = reply.get("error") or reply.get("err") or None
        for message in reply.get("errors") or []:
            self.notify("error", f"strategy {self.name}: {message}")
        if "trades" in reply:
            self.trades = {s: StrategyTrade.from_dict(t) for s, t in reply["trades"].items()}
        if "state" in reply:
            self.state = reply["state"]
        self._decided(reply)
        # after the decisions: the order's own database write goes first, the state's after it
        if "trades" in reply:
            self.on_trades(self)
        if "state" in reply:
            self.on_state()

    def _watch_time(self, us: int) -> None:
        """A rule strategy whose bars take long in the engine's event loop (CPU time: a busy
        machine does not move it) moves to a worker process of its own (see inline_worker.py):
        the engine's loop is everyone's."""
        self._slow = self._slow + 1 if us >= SLOW_EVAL_US else 0
        if self._slow < SLOW_STRIKES or self._moving:
            return
        self._moving = True
        line = (
            f"strategy {self.name}: its rules took {us / 1000:.1f} ms of CPU a bar in the engine ({SLOW_STRIKES} bars "
            f"in a row over {SLOW_EVAL_US / 1000:g} ms): moved to a worker process of its own"
        )
        self._say("warning", line)
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(None)

    def _decided(self, frame: dict[str, Any]) -> None:
        """Hand a bar's decisions to the host. They come in a frame of their own ahead of the
        bar's answer: the trades they act on are the ones the worker last sent (a bar moves a
        trade's stop levels, never its amount; fills come in their own requests, in order)."""
        if "us" in frame:
            self.eval_us = int(frame["us"])
        for doc in frame.get("d") or []:
            atr = None if doc.get("atr") is None else float(doc["atr"])
            decision = decision_from(doc)
            if atr is not None:
                self.atrs[decision.symbol] = atr
            self.on_decision(decision, atr)

    # -- what the host feeds in --------------------------------------------------------------------

    def _put(self, message: dict[str, Any], answer: bool = False) -> asyncio.Future[dict[str, Any]] | None:
        fut = asyncio.get_running_loop().create_future() if answer else None
        if self.phase not in ("starting", "running"):
            if fut is not None:  # nobody to ask: the caller's default (no trade), at once
                fut.set_exception(RuntimeError(f"strategy {self.name} is {self.phase}"))
                fut.exception()
                return fut
            if message.get("op") not in _KEPT_WHILE_DOWN:
                return None
        else:
            self._idle.clear()
        self._enqueue(_Request(message, fut))
        return fut

    def _enqueue(self, req: _Request) -> None:
        """Queue a request; it goes out at once when the worker is free (bars are written
        from the bus's own call: the worker starts on them before this returns)."""
        self._queue.append(req)
        self._pump()

    def wants(self, symbol: str, timeframe: str) -> bool:
        return (symbol, timeframe) in self._subs

    def subscriptions(self) -> list[tuple[str, str]]:
        return sorted(self._subs)

    async def started(self) -> None:
        """Until it is running (or has failed to start)."""
        await self._ready.wait()

    async def loaded(self) -> None:
        """Until its strategy is imported (bars fed from then on are kept), or it failed."""
        await self._loaded.wait()

    def is_idle(self) -> bool:
        return self._idle.is_set()

    def on_candle(self, symbol: str, timeframe: str, candle: Candle, hold: bool = False) -> None:
        """Feed a bar; `hold`: its window has a hole (engine/candle_holes.py): added, no signal read."""
        if self.phase in ("starting", "running") and (symbol, timeframe) in self._subs:
            message: dict[str, Any] = {"op": "bar", "s": symbol, "tf": timeframe, "b": bar_row(candle)}
            if hold:
                message["hold"] = 1
            self._put(message)

    def on_fill(self, symbol: str, side: str, qty: float, price: float, ts: Any) -> None:
        self._put({"op": "fill", "s": symbol, "side": side, "qty": qty, "price": price, "ts": ts.isoformat()})

    def on_position_closed(self, symbol: str, price: float | None, ts: Any) -> None:
        self.trades.pop(symbol, None)
        self._put({"op": "closed", "s": symbol, "price": price, "ts": ts.isoformat() if ts else None})

    def on_order_failed(self, symbol: str) -> None:
        self._put({"op": "failed", "s": symbol})

    async def stake_amount(self, decision: Decision, proposed: float, max_stake: float) -> float:
        """custom_stake_amount in the worker (0, skipping the trade, if it does not answer)."""
        message = {"op": "stake", "decision": decision_dict(decision), "proposed": proposed, "max": max_stake}
        fut = self._put(message, True)
        assert fut is not None
        try:
            return float((await fut).get("v") or 0.0)
        except (RuntimeError, TypeError, ValueError):
            return 0.0

    async def confirm(self, decision: Decision, amount: float) -> bool:
        """confirm_trade_entry / _exit in the worker (no, if it does not answer)."""
        fut = self._put({"op": "confirm", "decision": decision_dict(decision), "amount": amount}, True)
        assert fut is not None
        try:
            return bool((await fut).get("v"))
        except RuntimeError:
            return False

    async def set_enabled(self, on: bool) -> None:
        if on and self.phase in ("hung", "crashed", "error"):  # given up on, or waiting: start it now
            self.failures = 0 if self.failures > len(RESTART_DELAYS_S) else self.failures
            self.enabled = True
            self._wake.set()
            await asyncio.sleep(0)  # let it leave its wait: status then says starting
            return
        self.enabled = on
        if self.phase in ("starting", "running"):  # queued: it applies before any later bar
            fut = self._put({"op": "enable", "on": on}, True)
            assert fut is not None
            with contextlib.suppress(RuntimeError):
                await fut

    async def reload(self, path: str) -> str | None:
        """Re-import the strategy's file in its worker; the error, or None."""
        if self.phase != "running":
            self._wake.set()  # a worker that is not running loads the new file when it starts
            return None
        fut = self._put({"op": "reload", "path": path}, True)
        assert fut is not None
        try:
            reply = await fut
        except RuntimeError as exc:
            return str(exc)
        return reply.get("reload_error") or reply.get("err")

    async def ping(self) -> None:
        """One round trip through the worker's queue and socket doing nothing (bench/)."""
        fut = self._put({"op": "ping"}, True)
        assert fut is not None
        await fut

    async def heap(self) -> dict[str, Any]:
        """The worker's C heap (glibc's count: bytes in use and held free; None elsewhere) and
        its idle trims so far, through its queue like a bar (bench/bench_memory.py)."""
        fut = self._put({"op": "heap"}, True)
        assert fut is not None
        reply = await fut
        return {"heap": reply.get("heap"), "trims": reply.get("trims")}

    async def idle(self) -> None:
        """Until everything fed so far has been answered (tests, benchmarks, shutdown)."""
        await self._idle.wait()

    def open_trades(self) -> dict[str, StrategyTrade]:
        return dict(self.trades)

    def status(self) -> dict[str, Any]:
        last = self.state.get("last_decision")
        return {
            "name": self.name,
            "strategy": self.info.get("name") or self.config.strategy,
            "timeframe": self.info.get("timeframe"),
            "symbols": self.config.symbols,
            "enabled": self.enabled,
            "state": self.phase,
            "error": self.error,
            "open_trades": sorted(self.trades),
            "evaluations": self.evaluations,
            "last_decision": last,
            "pid": self.pid if self.phase == "running" else None,
            "in_engine": self.in_engine,
            "restarts": self.restarts,
            "last_eval_ms": round(self.eval_us / 1000, 3),
            "sandbox": self.info.get("sandbox"),
        }


def _what(message: dict[str, Any]) -> str:
    op = message.get("op")
    return {
        "bar": f"evaluating {message.get('s')} {message.get('tf')}",
        "fill": "order_filled",
        "stake": "custom_stake_amount",
        "confirm": "confirm_trade_entry/exit",
        "reload": "reloading",
    }.get(str(op), str(op))
