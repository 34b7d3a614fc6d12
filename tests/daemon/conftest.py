"""Daemons in subprocesses (always killed in finalizers) and in-process control servers."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tui_trader.daemon.server import ControlServer
from tui_trader.engine import Engine
from tui_trader.engine.testing import manual_engine, step
from tui_trader.home import Home

from daemon_helpers import daemon_env


class DaemonProc:
    def __init__(self, home: Path, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.home, self.proc, self.log = home, proc, log

    @property
    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> DaemonProc:  # returns once ready; a loaded CI machine took 20 s
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "daemon running" in self.stderr:
                return self
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}: {self.stderr}")
            time.sleep(0.05)
        raise AssertionError(f"daemon not ready: {self.stderr}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


@pytest.fixture
def spawn_daemon(tmp_path: Path) -> Iterator[Callable[..., DaemonProc]]:
    """Daemons on `tmp_path`; afterwards, none of them wrote the user's cache folder (their
    XDG_CACHE_HOME is `tmp_path/user-cache`, where ~/.cache/tui-trader would be)."""
    procs: list[DaemonProc] = []
    user_cache = tmp_path / "user-cache"

    def spawn(home: Path | None = None, *args: str, ready: bool = True, **env: str) -> DaemonProc:
        home = home or tmp_path / "home"
        log = tmp_path / f"daemon{len(procs)}.err"
        with open(log, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tui_trader.cli.main", "daemon", "--home", str(home), *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=daemon_env(XDG_CACHE_HOME=str(user_cache), **env),
            )
        d = DaemonProc(home, proc, log)
        procs.append(d)
        return d.wait_ready() if ready else d

    yield spawn
    for d in procs:
        if d.proc.poll() is None:
            d.proc.kill()
        d.proc.wait(10)
    written = sorted(p.name for p in (user_cache / "tui-trader").rglob("*") if p.is_file())
    assert not written, f"a daemon wrote the user's cache folder (~/.cache/tui-trader): {written}"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Engine, ControlServer, Home]]:
    """A hand-stepped engine behind a real control server (Unix socket + token TCP) in this process."""
    home = Home(tmp_path / "h").ensure()
    engine = manual_engine()
    await engine.start()
    await step(engine, 3)
    server = ControlServer(engine, home.socket_path, token="s3cret-token", tcp_port=0)
    await server.start()
    try:
        yield engine, server, home
    finally:
        await server.stop()
        await engine.stop()
