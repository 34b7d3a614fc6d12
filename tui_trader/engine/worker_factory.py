"""The strategy worker factory's engine end: start the zygote, spawn and kill workers.

The zygote (strategy/zygote.py) is one clean, preloaded interpreter the engine starts with a
sanitized environment; every strategy worker is forked from it, never from the engine. It
reports each worker's exit, so a worker that dies while idle is noticed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

ZYGOTE_TIMEOUT_S = 60.0
LOG_LINES_PER_S = 50


class ZygoteError(Exception):
    """The worker factory could not be started or reached."""


class Zygote:
    """The engine's end of strategy/zygote.py: spawn and kill workers."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.ctl: socket.socket | None = None
        self.pid: int | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._exits: dict[int, int] = {}  # worker pid -> wait status, as reported
        self._watchers: dict[int, Callable[[int], None]] = {}  # told when that worker exits
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._ready: asyncio.Future[dict[str, Any]] | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None and self.ctl is not None

    async def start(self) -> None:
        from tui_trader.strategy.sandbox import worker_env

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-P",  # not the working directory on sys.path (nor readable through it)
                "-m",
                "tui_trader.strategy.zygote",
                str(theirs.fileno()),
                pass_fds=(theirs.fileno(),),
                env=worker_env(os.environ),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                cwd="/",
                start_new_session=True,  # a Ctrl-C in the TUI's terminal is the engine's to handle
            )
        finally:
            theirs.close()
        ours.setblocking(False)
        self.ctl = ours
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._ready.add_done_callback(lambda f: f.cancelled() or f.exception())  # read even if unawaited
        self._tasks = [
            asyncio.create_task(self._read(), name="zygote-control"),
            asyncio.create_task(self._output(), name="zygote-output"),
        ]
        try:
            ready = await asyncio.wait_for(asyncio.shield(self._ready), ZYGOTE_TIMEOUT_S)
        except (TimeoutError, ZygoteError) as exc:
            await self.stop()
            raise ZygoteError(f"the strategy worker factory did not start: {exc or 'timed out'}") from None
        self.pid = int(ready["pid"])

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        assert self.ctl is not None
        try:
            while True:
                data = await loop.sock_recv(self.ctl, 65536)
                if not data:
                    break
                msg = json.loads(data)
                op = msg.get("op")
                if op == "ready" and self._ready is not None and not self._ready.done():
                    self._ready.set_result(msg)
                elif op == "exited":
                    pid, status = int(msg["pid"]), int(msg["status"])
                    self._exits[pid] = status
                    for old in list(self._exits)[:-256]:
                        self._exits.pop(old, None)
                    watcher = self._watchers.pop(pid, None)
                    if watcher is not None:
                        watcher(status)
                else:
                    fut = self._waiting.pop(int(msg.get("id") or 0), None)
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
        except (OSError, ValueError) as exc:
            log.warning("strategy worker factory connection broke: %s", exc)
        finally:
            self.ctl = None
            for fut in self._waiting.values():
                if not fut.done():
                    fut.set_exception(ZygoteError("the strategy worker factory exited"))
            if self._ready is not None and not self._ready.done():
                self._ready.set_exception(ZygoteError("it exited while starting"))

    async def _output(self) -> None:
        """Workers' stdout and stderr (a strategy's print, a traceback) into the engine's log,
        at most LOG_LINES_PER_S lines a second."""
        assert self.proc is not None and self.proc.stdout is not None
        window, count, dropped = time.monotonic(), 0, 0
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                return
            now = time.monotonic()
            if now - window >= 1.0:
                if dropped:
                    log.info("strategy output: %d more lines dropped", dropped)
                window, count, dropped = now, 0, 0
            count += 1
            if count > LOG_LINES_PER_S:
                dropped += 1
                continue
            log.info("strategy output: %s", line.decode(errors="replace").rstrip()[:500])

    async def _ask(self, message: dict[str, Any], fds: list[int]) -> dict[str, Any]:
        if not self.alive:
            raise ZygoteError("the strategy worker factory is not running")
        assert self.ctl is not None
        req = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[req] = fut
        try:
            socket.send_fds(self.ctl, [json.dumps({**message, "id": req}).encode()], fds)
        except OSError as exc:
            self._waiting.pop(req, None)
            raise ZygoteError(f"cannot reach the strategy worker factory: {exc}") from None
        return await asyncio.wait_for(fut, ZYGOTE_TIMEOUT_S)

    async def spawn(self) -> tuple[int, socket.socket]:
        """A new worker process and the engine's end of its socket."""
        async with self._lock:
            if not self.alive:
                await self.start()
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                reply = await self._ask({"op": "spawn"}, [theirs.fileno()])
            except BaseException:
                ours.close()
                raise
            finally:
                theirs.close()
        return int(reply["pid"]), ours

    async def kill(self, pid: int) -> None:
        """SIGKILL a worker (through the factory, which knows it is still its live child)."""
        if self.alive:
            with contextlib.suppress(ZygoteError, TimeoutError):
                await self._ask({"op": "kill", "pid": pid}, [])

    def exit_status(self, pid: int) -> int | None:
        return self._exits.get(pid)

    def watch(self, pid: int, on_exit: Callable[[int], None]) -> None:
        """Call `on_exit(wait status)` when the factory reaps this worker (even while idle)."""
        self._watchers[pid] = on_exit

    async def stop(self) -> None:
        if self.ctl is not None:
            with contextlib.suppress(OSError):
                self.ctl.shutdown(socket.SHUT_RDWR)
            self.ctl.close()
            self.ctl = None
        if self.proc is not None and self.proc.returncode is None:
            try:
                await asyncio.wait_for(self.proc.wait(), 3.0)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        for task in self._tasks:
            task.cancel()
        if self._tasks:  # bounded: a loop that swallowed its cancel cannot hold the stop
            await asyncio.wait(self._tasks, timeout=2.0)
        for task in self._tasks:  # an error while stopping is the stop's, not "never retrieved"
            if task.done() and not task.cancelled():
                task.exception()
        self._tasks.clear()
