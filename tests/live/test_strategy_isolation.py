"""Strategies in worker processes: a strategy that hangs or dies never stops the engine, and a
strategy gets the least the engine can give it (the sandbox). Real workers, real processes;
assertions on behaviour and state, never on wall-clock speed (bench/bench_hung_strategy.py
prints the timings)."""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import textwrap
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from tui_trader.config import Settings
from tui_trader.core.enums import Side
from tui_trader.core.events import CandleEvent, NoticeEvent
from tui_trader.core.market import Candle
from tui_trader.core.orders import OrderRequest
from tui_trader.engine.testing import manual_engine, paper_settings, step
from tui_trader.home import Home
from tui_trader.strategy import sandbox

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
HEADER = textwrap.dedent(
    """
    import os, socket
    from pandas import DataFrame
    from tui_trader.strategy import IStrategy


    class {name}(IStrategy):
        timeframe = "1m"
        stoploss = -0.5

        def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            return dataframe

        def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            return dataframe
    """
)


def plugin(home: Home, name: str, body: str) -> None:
    home.ensure()
    (home.strategies_dir / f"{name.lower()}.py").write_text(HEADER.format(name=name) + textwrap.indent(body, "    "))


async def engine_with(tmp_path: Path, name: str, body: str, timeout_s: float = 1.0, **extra):  # type: ignore[no-untyped-def]
    home = Home.resolve(tmp_path / "home")
    plugin(home, name, textwrap.dedent(body))
    base = paper_settings().model_dump()
    base["engine"]["strategy_timeout_s"] = timeout_s
    base["strategies"] = {name: {"symbols": ["ETH/USDT"], **extra}}
    eng = manual_engine(Settings(**base), home=home, start=T0)
    notices = eng.bus.subscribe("notices", kinds={"notice"})
    await eng.start()
    await eng.strategies.started()  # the engine itself waits only for the import, at most its deadline
    await step(eng, 2)
    return eng, notices


async def until(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Poll (a hang guard, not a speed assertion)."""
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_a_strategy_that_never_returns_is_marked_hung_and_the_engine_runs_on(tmp_path: Path) -> None:
    eng, notices = await engine_with(
        tmp_path,
        "Spin",
        """
        def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            while True:
                pass
        """,
    )
    try:
        worker = eng.strategies.runners["Spin"]
        await until(lambda: worker.phase == "hung")
        status = eng.snapshot().extra["strategies"][0]
        assert status["state"] == "hung"
        assert "hung: Spin.populate_indicators (line" in status["error"]
        assert "did not return within 1 s" in status["error"]
        lines = [n.message for n in notices.drain() if isinstance(n, NoticeEvent) and n.level == "error"]
        assert any(m.startswith("strategy Spin hung: Spin.populate_indicators") and "restarting in 1 s" in m
                   for m in lines), lines
        # The engine is not waiting for it: orders, the kill switch and snapshots all work.
        order = await eng.place(OrderRequest("BTC/USDT", Side.BUY, D("0.1")))
        assert order.status.value == "filled"
        result = await eng.flatten("test")
        assert result["still_open"] == []
        # It is started again (and hangs again) with a growing pause; its state says so.
        await until(lambda: worker.restarts >= 1 and worker.phase == "hung")
    finally:
        await eng.stop()
    assert worker.phase == "stopped"


async def test_a_worker_that_dies_is_restarted(tmp_path: Path) -> None:
    eng, notices = await engine_with(
        tmp_path,
        "Dies",
        """
        def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            if len(dataframe) > 0 and not self.custom_state.get("once"):
                os._exit(3)
            return dataframe
        """,
    )
    try:
        worker = eng.strategies.runners["Dies"]
        await until(lambda: worker.phase == "crashed")
        assert "crashed: its worker exited with status 3 (its warm-up evaluation)" in worker.error
        lines = [n.message for n in notices.drain() if isinstance(n, NoticeEvent)]
        assert any("strategy Dies crashed" in m for m in lines), lines
        await until(lambda: worker.restarts >= 1 and worker.phase in ("crashed", "starting"))
        assert eng.started and (await eng.place(OrderRequest("BTC/USDT", Side.BUY, D("0.1")))).status.value == "filled"
    finally:
        await eng.stop()


async def test_a_decision_made_before_the_worker_dies_is_carried_out(tmp_path: Path) -> None:
    """A bar's decisions leave the worker ahead of the rest of its answer (trades, state): a
    worker that dies in between has decided, and the order goes out; the worker is restarted."""
    eng, _notices = await engine_with(
        tmp_path,
        "Decides",
        """
        class Boom:
            def __str__(self) -> str:  # serialising the state, after the decision went out
                os._exit(4)

        def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            if dataframe["volume"].iat[-1] == 777.0:
                dataframe.loc[dataframe.index[-1], "enter_long"] = 1
                self.custom_state["boom"] = self.Boom()
            return dataframe
        """,
    )
    try:
        worker = eng.strategies.runners["Decides"]
        assert worker.phase == "running", worker.status()
        eng.bus.publish(CandleEvent("paper", Candle("ETH/USDT", "1m", T0, 3400, 3410, 3400, 3410, 777.0)))
        await until(lambda: worker.phase == "crashed")
        assert "exited with status 4" in str(worker.error)
        await until(lambda: any(o.strategy == "Decides" for o in eng.recent_orders.values()))
        order = next(o for o in eng.recent_orders.values() if o.strategy == "Decides")
        assert order.side is Side.BUY and order.source == "strategy:Decides"
        await until(lambda: worker.restarts >= 1 and worker.phase == "running")
    finally:
        await eng.stop()


async def test_a_strategy_that_cannot_load_is_reported_and_waits_for_a_fix(tmp_path: Path) -> None:
    eng, notices = await engine_with(
        tmp_path,
        "Broken",
        """
        def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            return dataframe
    raise RuntimeError("boom at import")
        """,
    )
    try:
        worker = eng.strategies.runners["Broken"]
        assert worker.phase == "error" and "boom at import" in (worker.error or "")
        lines = [n.message for n in notices.drain() if isinstance(n, NoticeEvent) and n.level == "error"]
        assert any(m.startswith("strategy Broken not started:") for m in lines), lines
        assert worker.restarts == 0  # not restarted in a loop: an edit (reload) or enable starts it
    finally:
        await eng.stop()


PROBE = """
def bot_start(self, **kwargs) -> None:
    tried = {}
    home = os.environ.get("PROBE_HOME", "")

    def attempt(name, fn):
        try:
            fn()
            tried[name] = "allowed"
        except BaseException as exc:
            tried[name] = type(exc).__name__

    attempt("read the config", lambda: open(HOME + "/config.toml").read())
    attempt("read the token", lambda: open(HOME + "/run/daemon.token").read())
    attempt("read the database", lambda: open(HOME + "/tui_trader.db", "rb").read(16))
    attempt("write a file", lambda: open(HOME + "/strategies/dropped.txt", "w").write("x"))
    attempt("delete a file", lambda: os.unlink(HOME + "/strategies/victim.txt"))
    attempt("connect to the control socket", lambda: socket.socket(socket.AF_UNIX).connect(HOME + "/run/daemon.sock"))
    attempt("open a TCP connection", lambda: socket.create_connection(("127.0.0.1", 9), timeout=1))
    attempt("signal the engine", lambda: os.kill(os.getppid(), 0))
    attempt("run a program", lambda: os.execv("/bin/true", ["true"]))
    self.custom_state["tried"] = tried
    self.custom_state["env"] = sorted(k for k in os.environ if k.startswith("TUI_TRADER") or "TOKEN" in k)

def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
    return dataframe
"""


@pytest.mark.skipif(sandbox.landlock_abi() < 6, reason="needs Linux with Landlock ABI 6 (kernel 6.12+)")
async def test_the_sandbox_keeps_a_plugin_from_the_users_files_the_socket_and_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Home.resolve(tmp_path / "home").ensure()
    (home.root / "config.toml").write_text("# secret-ish\n")
    (home.run_dir / "daemon.token").write_text("t0ken\n")
    (home.strategies_dir / "victim.txt").write_text("keep me\n")
    monkeypatch.setenv("TUI_TRADER_TOKEN", "should-not-leak")
    eng, _ = await engine_with(tmp_path, "Probe", PROBE.replace("HOME", repr(str(home.root))))
    try:
        worker = eng.strategies.runners["Probe"]
        await until(lambda: "tried" in (worker.state.get("custom") or {}))
        tried = worker.state["custom"]["tried"]
        assert tried == {
            "read the config": "PermissionError",
            "read the token": "PermissionError",
            "read the database": "PermissionError",
            "write a file": "PermissionError",
            "delete a file": "PermissionError",
            "connect to the control socket": "PermissionError",
            "open a TCP connection": "PermissionError",
            "signal the engine": "PermissionError",
            "run a program": "PermissionError",
        }
        # no token, no keyring password, no home: only the (zero) deadline the engine keeps
        assert worker.state["custom"]["env"] == ["TUI_TRADER_STRATEGY_TIMEOUT_S"]
        assert (home.strategies_dir / "victim.txt").read_text() == "keep me\n"
        assert not (home.strategies_dir / "dropped.txt").exists()
        assert "landlock" in worker.status()["sandbox"] and "seccomp" in worker.status()["sandbox"]
        assert os.environ["TUI_TRADER_TOKEN"] == "should-not-leak"  # the engine's own is untouched
    finally:
        await eng.stop()


def test_worker_environment_keeps_only_what_python_needs() -> None:
    env = sandbox.worker_env(
        {"PATH": "/bin", "LANG": "C.UTF-8", "TUI_TRADER_TOKEN": "x", "BINANCE_API_KEY": "k", "HOME": "/root",
         "TUI_TRADER_KEYRING_PASSWORD_FILE": "/p", "AWS_SECRET_ACCESS_KEY": "s"}
    )
    assert "TUI_TRADER_TOKEN" not in env and "BINANCE_API_KEY" not in env and "HOME" not in env
    assert "AWS_SECRET_ACCESS_KEY" not in env and "TUI_TRADER_KEYRING_PASSWORD_FILE" not in env
    assert env["PATH"] == "/bin" and env["OPENBLAS_NUM_THREADS"] == "1"
    assert env["TUI_TRADER_STRATEGY_TIMEOUT_S"] == "0"  # in the worker the engine keeps the time


async def test_a_worker_in_its_own_process_says_what_its_heap_holds(tmp_path: Path) -> None:
    """What bench/bench_memory.py asks each worker: glibc's count of its C heap, from inside
    the sandbox (the functions are looked up before it closes in), and its idle trims."""
    eng, _notices = await engine_with(tmp_path, "Quiet", "")
    try:
        worker = eng.strategies.runners["Quiet"]
        await until(lambda: worker.phase == "running")
        assert worker.pid is not None and worker.pid != os.getpid()
        answer = await worker.heap()
        assert isinstance(answer["trims"], int)
        if sys.platform == "linux" and platform.libc_ver()[0] == "glibc":
            used, free = answer["heap"]
            assert used > 1_000_000 and free >= 0
    finally:
        await eng.stop()
