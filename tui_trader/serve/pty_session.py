"""A program on its own pseudo-terminal, carried over an SSH channel: keys in, screen out, resizes.

The program (`tui-trader attach`) gets a real terminal: its own session and controlling tty, the
client's size, and SIGWINCH when the client resizes, so Textual behaves exactly as in a local
terminal. When the SSH side goes, the program gets SIGHUP like any hung-up terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import pty
import signal
import struct
import termios
from typing import Any

import asyncssh

HANGUP_S = 3.0


def _set_size(fd: int, width: int, height: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", max(height, 1), max(width, 1), 0, 0))


def _take_terminal() -> None:  # runs in the child, after setsid: the pty becomes its controlling tty
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


async def run_on_pty(
    argv: list[str], env: dict[str, str], process: asyncssh.SSHServerProcess[Any], width: int, height: int
) -> int:
    """Run `argv` on a new pty wired to `process` until either side ends; the program's exit status."""
    loop = asyncio.get_running_loop()
    master, slave = pty.openpty()
    _set_size(slave, width, height)
    try:
        child = await asyncio.create_subprocess_exec(
            *argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            preexec_fn=_take_terminal,
        )
    finally:
        os.close(slave)
    os.set_blocking(master, False)
    screen_done = loop.create_future()

    def on_output() -> None:
        try:
            data = os.read(master, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the program closed its terminal (it exited)
            data = b""
        if not data:
            loop.remove_reader(master)
            if not screen_done.done():
                screen_done.set_result(None)
            return
        process.stdout.write(data)

    loop.add_reader(master, on_output)
    keys = asyncio.create_task(_pump_keys(process, master))
    try:
        waiting = {keys, asyncio.ensure_future(child.wait()), screen_done}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if child.returncode is None and keys.done():  # the SSH side went first: hang up on the program
            await _hang_up(child)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(screen_done), 1.0)  # the last frame, if any
        return await child.wait()
    finally:
        keys.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await keys
        loop.remove_reader(master)
        os.close(master)
        if child.returncode is None:
            await _hang_up(child)


async def _pump_keys(process: asyncssh.SSHServerProcess[Any], master: int) -> None:
    while True:
        try:
            data = await process.stdin.read(4096)
        except asyncssh.TerminalSizeChanged as change:
            _set_size(master, change.width, change.height)
            continue
        except (asyncssh.BreakReceived, asyncssh.SignalReceived):
            continue
        except (asyncssh.DisconnectError, ConnectionError, BrokenPipeError):
            return
        if not data:
            return
        await _write_all(master, data if isinstance(data, bytes) else data.encode())


async def _write_all(fd: int, data: bytes) -> None:
    loop = asyncio.get_running_loop()
    while data:
        try:
            written = os.write(fd, data)
            data = data[written:]
        except BlockingIOError:
            ready = loop.create_future()
            loop.add_writer(fd, _resolve, ready)
            try:
                await ready
            finally:
                loop.remove_writer(fd)
        except OSError as exc:
            if exc.errno == errno.EIO:
                return  # the program is gone
            raise


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _hang_up(child: asyncio.subprocess.Process) -> None:
    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, sig)
        try:
            await asyncio.wait_for(child.wait(), HANGUP_S)
            return
        except TimeoutError:
            continue
