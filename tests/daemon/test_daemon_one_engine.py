"""One engine per home folder, across processes: the workstation attaches to a running daemon,
and every writer of the database and the paper journal holds the same lock."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui_trader.cli.main import main
from tui_trader.home import Home, HomeBusy, HomeLock

from daemon_helpers import daemon_env

HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from tui_trader.home import Home, HomeLock
    from tui_trader.store.db import Store
    from tui_trader.venues.paper.journal import PaperJournal

    home = Home.resolve(sys.argv[1]).ensure()
    role = sys.argv[2]

    async def main():
        if role == "workstation":  # what `tui-trader` does before its in-process engine starts
            HomeLock(home.lock_path, "workstation").acquire()
        store = await Store.open(home.db_file)
        journal = PaperJournal(home.root / "paper_venue.jsonl")
        journal.append({"t": "note"})
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until told to stop
        journal.close()
        await store.close()

    asyncio.run(main())
    """
)


@pytest.fixture
def holder(tmp_path: Path):  # type: ignore[no-untyped-def]
    procs: list[subprocess.Popen[str]] = []

    def start(home: Path, role: str = "engine") -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(home), role],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=daemon_env(),
        )
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


async def test_a_second_process_cannot_write_the_database_or_the_journal(tmp_path: Path, holder) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.engine import Engine
    from tui_trader.engine.testing import paper_settings
    from tui_trader.store.db import Store
    from tui_trader.venues.paper.journal import PaperJournal

    home = Home(tmp_path / "h").ensure()
    other = holder(home.root)
    with pytest.raises(HomeBusy, match=rf"\(pid {other.pid}\) is already running the engine for {home.root}") as err:
        await Store.open(home.db_file)
    assert err.value.pid == other.pid and err.value.role == "engine"
    with pytest.raises(HomeBusy):
        PaperJournal(home.root / "paper_venue.jsonl").append({"t": "note"})
    engine = Engine(paper_settings(), home)
    with pytest.raises(HomeBusy):
        await engine.start()
    await engine.stop()
    assert HomeLock.holder(home.lock_path) == (other.pid, "engine")
    assert other.stdin is not None
    other.stdin.close()  # the holder closes its store and journal and exits
    assert other.wait(20) == 0
    assert HomeLock.holder(home.lock_path) is None
    store = await Store.open(home.db_file)  # now this process is the writer
    assert HomeLock.holder(home.lock_path) == (os.getpid(), "engine")
    await store.close()


def test_a_daemon_will_not_start_beside_a_workstation(tmp_path: Path, holder, spawn_daemon) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "h"
    tui = holder(home, "workstation")
    second = spawn_daemon(home, ready=False)
    assert second.proc.wait(30) == 1
    assert second.stderr.strip() == (
        f"error: the tui-trader workstation (pid {tui.pid}) is already running the engine for {home}; "
        "quit it first or use another --home"
    )


def test_the_workstation_attaches_to_a_running_daemon(spawn_daemon, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.daemon.remote_client import RemoteClient
    from tui_trader.engine import Engine
    from tui_trader.ui.app import WorkstationApp

    d = spawn_daemon()
    seen: list[object] = []

    def no_second_engine(self, *a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("a second engine was started on a home with a running daemon")

    monkeypatch.setattr(Engine, "start", no_second_engine)
    monkeypatch.setattr(WorkstationApp, "run", lambda self, *a, **k: seen.append(self.client))
    assert main(["ui", "--home", str(d.home)]) == 0
    (client,) = seen
    assert isinstance(client, RemoteClient) and client.socket_path == d.home / "run" / "daemon.sock"
    assert f"a daemon (pid {d.proc.pid}) runs the engine for {d.home}: attaching to it" in capsys.readouterr().err
    assert HomeLock.holder(d.home / "run" / "daemon.lock") == (d.proc.pid, "daemon")


def test_every_file_under_the_home_is_private(spawn_daemon, capsys) -> None:  # type: ignore[no-untyped-def]
    d = spawn_daemon(TUI_TRADER_DAEMON__METRICS_PORT="0")
    assert main(["order", "buy", "0.1", "BTC/USDT", "--home", str(d.home)]) == 0
    files = [p for p in d.home.rglob("*") if p.is_file() or p.is_socket()]
    names = {p.name for p in files}
    assert {"tui_trader.db", "tui_trader.db-wal", "tui_trader.db-shm", "paper_venue.jsonl", "daemon.log"} <= names
    loose = {str(p.relative_to(d.home)): oct(p.stat().st_mode & 0o777) for p in files if p.stat().st_mode & 0o077}
    assert loose == {}


async def test_the_database_and_its_wal_are_private_whatever_the_umask(tmp_path: Path) -> None:
    from tui_trader.store.db import Store

    old = os.umask(0o022)
    try:
        store = await Store.open(tmp_path / "t.db")
        await store.audit(datetime.now(UTC), "t", "x", {})
        await store.flush()
        modes = {p.name: oct(p.stat().st_mode & 0o777) for p in tmp_path.glob("t.db*")}
        await store.close()
    finally:
        os.umask(old)
    assert modes == {"t.db": "0o600", "t.db-wal": "0o600", "t.db-shm": "0o600", "t.db-orders": "0o600"}


HUNG_PLUGIN = '''
from pandas import DataFrame
from tui_trader.strategy import IStrategy


class Spin(IStrategy):
    timeframe = "1m"
    stoploss = -0.5

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        while True:
            pass

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe
'''


def write_hung_home(home: Path, timeout_s: float = 1.0) -> None:
    (home / "strategies").mkdir(parents=True, exist_ok=True)
    (home / "strategies" / "spin.py").write_text(HUNG_PLUGIN)
    (home / "config.toml").write_text(
        f'[engine]\nstrategy_timeout_s = {timeout_s}\n\n[strategies.Spin]\nsymbols = ["ETH/USDT"]\n'
    )


def test_a_hung_strategy_never_stops_the_daemon(tmp_path: Path, spawn_daemon, capsys) -> None:  # type: ignore[no-untyped-def]
    """The issue's check: a plugin whose populate_indicators never returns, enabled. The daemon
    starts; status answers and shows it hung; the kill switch completes; both within the issue's
    bounds times a margin. (Whole commands, Python's start-up included: bench/bench_hung_strategy.py.)"""
    import json
    import time

    home = tmp_path / "h"
    write_hung_home(home)
    d = spawn_daemon(home)
    deadline = time.monotonic() + 60  # a hang guard, not a speed assertion
    while True:
        assert main(["status", "--json", "--home", str(home)]) == 0
        (spin,) = json.loads(capsys.readouterr().out)["strategies"]
        if spin["state"] == "hung" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert spin["state"] == "hung" and "Spin.populate_indicators" in spin["error"], spin
    # The issue states these bounds as behaviour (status < 1 s, flatten < 2 s); timed around the
    # command in this process with a margin of 3 for a shared, loaded machine (a frozen daemon
    # never answers at all). Whole commands, Python's start-up included: the bench's figures.
    for _ in range(5):
        t0 = time.perf_counter()
        assert main(["status", "--home", str(home)]) == 0
        took = time.perf_counter() - t0
        assert took < 3 * 1.0, f"status took {took:.2f} s with a hung strategy"
    assert "Spin" in capsys.readouterr().out
    assert main(["order", "buy", "0.5", "ETH/USDT", "--home", str(home)]) == 0
    capsys.readouterr()
    t0 = time.perf_counter()
    assert main(["flatten", "--yes", "--json", "--home", str(home)]) == 0
    took = time.perf_counter() - t0
    assert took < 3 * 2.0, f"flatten took {took:.2f} s with a hung strategy"
    assert json.loads(capsys.readouterr().out)["still_open"] == []
    assert main(["positions", "--json", "--home", str(home)]) == 0
    assert json.loads(capsys.readouterr().out) == []
    log = (home / "logs" / "daemon.log").read_text()
    assert "strategy Spin hung: Spin.populate_indicators" in log
    assert d.stop() == 0 and "stopped cleanly" in d.stderr


@pytest.mark.slow
def test_tui_trader_in_its_own_process_attaches_and_opens_none_of_the_engines_files(spawn_daemon, capsys) -> None:  # type: ignore[no-untyped-def]
    """The issue's check with two real processes: a daemon, then `tui-trader` on its home in a
    terminal. The workstation draws, is one of the daemon's clients, and holds neither the home
    lock nor the database nor the paper journal: there is one engine."""
    import json
    import pty
    import time

    d = spawn_daemon()
    assert main(["order", "buy", "0.1", "BTC/USDT", "--home", str(d.home)]) == 0
    master, slave = pty.openpty()
    env = daemon_env(TERM="xterm-256color")
    tui = subprocess.Popen(
        [sys.executable, "-m", "tui_trader.cli.main", "--home", str(d.home)],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60  # a hang guard: the machine is shared
    try:
        while b"PAPER" not in seen and time.monotonic() < deadline and tui.poll() is None:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
        assert b"PAPER" in seen, f"no workstation drawn (exit {tui.poll()}): {seen[-400:]!r}"
        assert f"a daemon (pid {d.proc.pid}) runs the engine for {d.home}: attaching to it".encode() in seen
        capsys.readouterr()
        assert main(["status", "--json", "--home", str(d.home)]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["pid"] == d.proc.pid and status["clients"] >= 2  # the workstation and this status
        opened = {os.path.basename(os.readlink(f"/proc/{tui.pid}/fd/{fd}")) for fd in os.listdir(f"/proc/{tui.pid}/fd")}
        assert not opened & {"tui_trader.db", "tui_trader.db-wal", "paper_venue.jsonl", "daemon.lock"}, opened
        assert HomeLock.holder(d.home / "run" / "daemon.lock") == (d.proc.pid, "daemon")
        assert main(["positions", "--json", "--home", str(d.home)]) == 0
        [position] = json.loads(capsys.readouterr().out)
        assert position["quantity"] == "0.1"  # the daemon's one paper exchange, not a second one
    finally:
        os.close(master)  # hang up: the workstation exits (129), the daemon stays
        try:
            tui.wait(timeout=20)
        except subprocess.TimeoutExpired:
            tui.kill()
            tui.wait(10)
    assert tui.returncode == 129, tui.returncode
    assert main(["status", "--home", str(d.home)]) == 0
    assert d.stop() == 0
