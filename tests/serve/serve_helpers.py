"""A real daemon and real serve processes on loopback, in a temporary home (the tests kill them)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tui_trader.serve.users import hash_secret

PASSWORDS = {"alice": "alice-trades-all-day", "vera": "vera-only-looks-here"}
ROLES = {"alice": "trader", "vera": "viewer"}
DAEMON_UP = "daemon running"  # what each process says on stderr once it serves
WEB_URL = r"serve web on (http://127\.0\.0\.1:\d+)/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUI_TRADER_", "TEXTUAL"))}
    env.update(extra)
    return env


@dataclass
class Proc:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.stderr)
            if found:
                return found
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited {self.proc.returncode}: {self.stderr}")
            time.sleep(0.05)
        raise AssertionError(f"{self.name}: no {pattern!r} within {timeout} s: {self.stderr}")


class Stack:
    """HOME with web users; `daemon()`, `web()`, `ssh()` start the real processes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.home.mkdir(mode=0o700)
        lines = []
        for name, password in PASSWORDS.items():
            lines += [f"[serve.users.{name}]", f'role = "{ROLES[name]}"', f'password_hash = "{hash_secret(password)}"']
        lines += ["[serve.users.tom]", 'role = "trader"']  # named by an SSH key, no web login
        (self.home / "config.toml").write_text("\n".join(lines) + "\n")
        self.procs: list[Proc] = []

    def start(self, name: str, *args: str) -> Proc:
        log = self.root / f"{name}{len(self.procs)}.err"
        with open(log, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tui_trader.cli.main", "--home", str(self.home), *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=clean_env(),
                start_new_session=True,
            )
        p = Proc(name, proc, log)
        self.procs.append(p)
        return p

    def daemon(self, *, wait: bool = True) -> Proc:
        d = self.start("daemon", "daemon")
        if wait:
            d.wait_for(DAEMON_UP)
        return d

    def web(self, *args: str) -> str:
        w = self.start("web", "serve", "web", "--port", "0", *args)
        return w.wait_for(WEB_URL).group(1)

    def ssh(self) -> int:
        port = free_port()
        s = self.start("ssh", "serve", "ssh", "--port", str(port))
        s.wait_for("serve ssh on")
        return port

    def audit(self) -> list[tuple[str, str, str]]:
        with sqlite3.connect(self.home / "tui_trader.db") as db:
            return list(db.execute("SELECT actor, action, detail FROM audit ORDER BY id"))

    def audited(self, actor: str, action: str, command: str | None = None) -> bool:
        """Whether the audit log has a row by `actor` for `action` (and that session command)."""
        for who, what, detail in self.audit():
            if who == actor and what == action and (command is None or json.loads(detail).get("command") == command):
                return True
        return False

    def orders(self) -> list[Any]:
        from tui_trader.daemon.remote_client import RemoteClient
        from tui_trader.home import Home

        async def read() -> list[Any]:
            async with RemoteClient.for_home(Home(self.home), mirror=False) as client:
                return list(await client.request("orders", all=True))

        with ThreadPoolExecutor(1) as pool:  # Playwright's sync API already runs a loop in this thread
            return pool.submit(asyncio.run, read()).result(30)

    def stop(self, name: str | None = None) -> None:
        """Stop the processes started (those called `name` only, when given)."""
        for p in reversed(self.procs):
            if name in (None, p.name) and p.proc.poll() is None:
                with_suppress_kill(p.proc, signal.SIGTERM)
                try:
                    p.proc.wait(10)
                except subprocess.TimeoutExpired:
                    with_suppress_kill(p.proc, signal.SIGKILL)
                    p.proc.wait(5)


def with_suppress_kill(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the serve process and the workstations it spawned
    except ProcessLookupError:
        pass


def need(program: str, why: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} is not installed ({why}); CI installs it with apt-get (see .ci/run)")
    return path


def wait_until(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} not met within {timeout} s")
