"""A database that cannot be written at start-up: one line and exit 1, no traceback, no hang.
(While running, a failed write halts new orders: tests/risk/test_risk_state.py.)"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tui_trader.home import Home
from tui_trader.store.db import Store, StoreError


async def test_a_read_only_database_is_found_at_open_in_one_line(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """SQLite's read-only answer (SQLITE_READONLY) comes from `query_only` exactly as from a
    read-only file; the write probe at open meets it before any order could."""
    import aiosqlite

    path = tmp_path / "t.db"
    store = await Store.open(path)  # created and migrated: the probe is what finds it now
    await store.close()
    real = aiosqlite.connect

    async def read_only(*args, **kwargs):  # type: ignore[no-untyped-def]
        conn = await real(*args, **kwargs)
        await conn.execute("PRAGMA query_only = 1")
        return conn

    monkeypatch.setattr(aiosqlite, "connect", read_only)
    with pytest.raises(StoreError) as err:
        await Store.open(path)
    assert str(err.value) == f"database {path} cannot be written (it is read-only); fix it or pass --home"
    from tui_trader.home import HomeLock

    assert HomeLock.holder(tmp_path / "run" / "daemon.lock") is None  # and the lock was let go


async def test_an_unusable_file_is_one_line_and_leaves_no_thread_behind(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import aiosqlite

    opened: list[aiosqlite.Connection] = []
    real = aiosqlite.connect

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        conn = real(*args, **kwargs)
        opened.append(conn)
        return conn

    monkeypatch.setattr(aiosqlite, "connect", spy)
    bad = tmp_path / "x.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)  # a header and nothing sensible after it
    with pytest.raises(StoreError, match="cannot be used"):
        await Store.open(bad)
    (conn,) = opened
    conn._thread.join(5)
    assert not conn._thread.is_alive()  # the database thread was stopped: the process can exit


def _immutable(path: Path) -> bool:
    chattr = shutil.which("chattr")
    return bool(chattr) and subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode == 0


def test_a_read_only_database_stops_the_daemon_at_start_in_one_line(tmp_path: Path) -> None:
    home = tmp_path / "h"
    env = {"PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "tui_trader.cli.main"]
    assert subprocess.run([*run, "status", "--home", str(home)], capture_output=True, env=env).returncode == 1
    Home(home).ensure()

    async def create() -> None:
        store = await Store.open(home / "tui_trader.db")
        await store.close()

    asyncio.run(create())
    if not _immutable(home / "tui_trader.db"):
        pytest.skip("cannot make a file read-only for its owner here (chattr +i needs root)")
    try:
        argv = [*run, "daemon", "--home", str(home)]
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    finally:
        subprocess.run(["chattr", "-i", str(home / "tui_trader.db")], check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: database {home / 'tui_trader.db'} cannot be written (it is read-only); fix it or pass --home"
    ]
