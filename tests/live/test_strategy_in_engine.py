"""Rule strategies evaluated in the engine's own process (engine/inline_worker.py): the same
decisions, orders and state as in a worker process, the same supervision, and a move to a
worker process of its own when its evaluations take too long. Real engines on the paper venue;
assertions on behaviour, never on speed (bench/bench_candle_to_order.py prints the timings)."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tui_trader.config import Settings
from tui_trader.core.events import CandleEvent, NoticeEvent
from tui_trader.core.market import Candle
from tui_trader.engine import strategy_worker
from tui_trader.engine.testing import manual_engine, paper_settings, step
from tui_trader.home import Home

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
RULES = textwrap.dedent(
    """
    [strategy]
    name = "quick_rules"
    timeframe = "1m"
    stoploss = -0.5
    minimal_roi = { "0" = 10.0 }

    [parameters]
    low = { type = "int", low = 20, high = 45, default = 40 }

    [indicators]
    rsi_3 = { fn = "RSI", timeperiod = 3 }

    [entry]
    tag = "dip"
    all = ["rsi_3 crosses_above $low"]

    [exit]
    tag = "pop"
    any = ["rsi_3 > 60"]
    """
)


async def engine_with(tmp_path: Path, rules: str = RULES, **table: Any):  # type: ignore[no-untyped-def]
    home = Home.resolve(tmp_path / "home").ensure()
    (home.strategies_dir / "quick_rules.toml").write_text(rules)
    base = paper_settings().model_dump()
    base["strategies"] = {"quick": {"strategy": "quick_rules", "symbols": ["ETH/USDT"], **table}}
    eng = manual_engine(Settings(**base), home=home, start=T0)
    notices = eng.bus.subscribe("notices", kinds={"notice"})
    await eng.start()
    await eng.strategies.started()
    await step(eng, 2)
    return eng, notices


async def feed(eng: Any, bars: int, start: int = 0) -> list[tuple[str, str, float, str | None]]:
    """`bars` 1m candles swinging around 3,000 (RSI(3) crosses 40 and 60 every few bars);
    the decisions they gave, in order."""
    runner = eng.strategies.runners["quick"]
    decided: list[tuple[str, str, float, str | None]] = []
    original = runner.on_decision

    def on_decision(decision: Any, atr: float | None) -> None:
        decided.append((decision.action, decision.symbol, decision.price, decision.tag))
        original(decision, atr)

    runner.on_decision = on_decision
    now = eng.clock.now().replace(second=0, microsecond=0)
    for i in range(start, start + bars):
        close = 3000.0 + 40.0 * math.sin(i / 2.0) + i * 0.5
        opened = close - 5.0 * math.cos(i / 2.0)
        candle = Candle("ETH/USDT", "1m", now + timedelta(minutes=i), opened, max(opened, close) + 1,
                        min(opened, close) - 1, close, 5.0)  # fmt: skip
        eng.clock.set(candle.open_time + timedelta(minutes=1))
        eng.bus.publish(CandleEvent("paper", candle))
        await eng.strategies.drain()
        await eng.oms.flush()
    await eng.strategies.drain()
    runner.on_decision = original
    return decided


def orders_of(eng: Any) -> list[tuple[str, str, str, str]]:
    """The strategy's orders (its decisions' market orders and its protective stops)."""
    return [
        (o.type.value, o.side.value, str(o.quantity), o.status.value)
        for o in sorted(eng.oms.orders.values(), key=lambda o: o.created_at)
        if o.strategy == "quick"
    ]


async def until(predicate: Any, timeout: float = 30.0) -> None:
    """Poll (a hang guard, not a speed assertion)."""
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_a_rule_strategy_decides_in_the_engine_as_in_a_worker_process(tmp_path: Path) -> None:
    seen = {}
    for isolation in ("auto", "process"):
        eng, _ = await engine_with(tmp_path / isolation, isolation=isolation)
        try:
            runner = eng.strategies.runners["quick"]
            assert runner.phase == "running"
            assert runner.in_engine is (isolation == "auto")
            assert (runner.pid is None) is (isolation == "auto")
            decided = await feed(eng, 120)
            seen[isolation] = (decided, orders_of(eng), runner.open_trades(), runner.evaluations)
        finally:
            await eng.stop()
    inline, process = seen["auto"], seen["process"]
    assert len(inline[0]) >= 6 and {d[0] for d in inline[0]} >= {"enter_long", "exit_long"}
    assert inline[0] == process[0]  # the same decisions, prices and tags
    assert inline[1] == process[1]  # the same orders, stops included
    assert len([o for o in inline[1] if o[0] == "market"]) == len(inline[0])
    assert inline[2].keys() == process[2].keys() and inline[3] == process[3]


async def test_rule_strategies_in_the_engine_start_no_worker_process(tmp_path: Path) -> None:
    eng, _ = await engine_with(tmp_path)
    try:
        status = eng.strategies.status()[0]
        assert status["state"] == "running" and status["in_engine"] is True and status["pid"] is None
        assert eng.strategies.zygote.proc is None  # no factory either: nothing to fork
        await feed(eng, 30)
        assert eng.strategies.runners["quick"].evaluations >= 30
    finally:
        await eng.stop()
    assert eng.strategies.runners["quick"].phase == "stopped"


@pytest.mark.parametrize("table", [{"isolation": "process"}, {"memory_mb": 2048}], ids=["isolation", "memory_mb"])
async def test_a_rule_strategy_asked_for_its_own_process_gets_one(tmp_path: Path, table: dict[str, Any]) -> None:
    eng, _ = await engine_with(tmp_path, **table)
    try:
        runner = eng.strategies.runners["quick"]
        assert runner.phase == "running" and not runner.in_engine and runner.pid is not None
    finally:
        await eng.stop()


async def test_a_python_strategy_still_runs_in_its_worker(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home").ensure()
    base = paper_settings().model_dump()
    base["strategies"] = {"macd": {"strategy": "macd_trend", "symbols": ["ETH/USDT"]}}
    eng = manual_engine(Settings(**base), home=home, start=T0)
    await eng.start()
    try:
        await eng.strategies.started()
        runner = eng.strategies.runners["macd"]
        assert runner.phase == "running" and not runner.in_engine and runner.pid is not None
    finally:
        await eng.stop()


async def test_a_slow_rule_strategy_moves_to_a_worker_process_and_trades_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(strategy_worker, "SLOW_EVAL_US", 1)  # every evaluation is "slow"
    eng, notices = await engine_with(tmp_path)
    try:
        runner = eng.strategies.runners["quick"]
        assert runner.in_engine
        await feed(eng, strategy_worker.SLOW_STRIKES)
        await until(lambda: runner.phase == "running" and runner.pid is not None, timeout=60.0)
        assert runner.phase == "running" and not runner.in_engine and runner.pid is not None
        lines = [e.message for e in notices.drain() if isinstance(e, NoticeEvent)]
        assert any("moved to a worker process of its own" in line for line in lines), lines
        before = runner.evaluations
        decided = await feed(eng, 60, start=strategy_worker.SLOW_STRIKES)
        assert runner.evaluations > before and decided  # it carries on deciding, in its worker
        assert runner.restarts == 0 and runner.error is None
    finally:
        await eng.stop()


async def test_a_broken_rule_file_in_the_engine_is_reported_and_the_engine_runs_on(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home").ensure()
    (home.strategies_dir / "quick_rules.toml").write_text(RULES.replace('fn = "RSI"', 'fn = "NO_SUCH"'))
    base = paper_settings().model_dump()
    base["strategies"] = {"quick": {"strategy": "quick_rules", "symbols": ["ETH/USDT"]}}
    eng = manual_engine(Settings(**base), home=home, start=T0)
    await eng.start()
    try:
        await eng.strategies.started()
        status = eng.strategies.status()[0]
        assert status["state"] == "error" and "NO_SUCH" in (status["error"] or "")
        await step(eng, 3)  # the engine runs on
        (home.strategies_dir / "quick_rules.toml").write_text(RULES)
        assert eng.strategies.reload_changed() == ["quick"]
        runner = eng.strategies.runners["quick"]
        await until(lambda: runner.phase == "running")
        assert runner.in_engine and runner.error is None
    finally:
        await eng.stop()


@pytest.mark.parametrize("isolation", ["auto", "process"])
async def test_an_edited_rule_file_is_reloaded_live(tmp_path: Path, isolation: str) -> None:
    """`strategies reload NAME` and an edit of the file (before: the worker was told to reload
    strategy/rules.py, "no longer defines strategy ...", and edits were never noticed)."""
    eng, notices = await engine_with(tmp_path, isolation=isolation)
    try:
        runner = eng.strategies.runners["quick"]
        path = eng.home.strategies_dir / "quick_rules.toml"
        assert runner.info["file"] == str(path.resolve())
        path.write_text(RULES.replace("default = 40", "default = 30"))
        assert await eng.strategies.reload("quick") == ["quick"]
        assert runner.phase == "running" and runner.in_engine is (isolation == "auto") and runner.error is None
        path.write_text(RULES.replace("rsi_3 > 60", "rsi_3 > 65"))
        assert eng.strategies.reload_changed() == ["quick"]
        await until(lambda: any("reloaded from quick_rules.toml" in e.message for e in notices.drain()))
    finally:
        await eng.stop()


async def test_state_and_trades_survive_a_restart_in_the_engine(tmp_path: Path) -> None:
    eng, _ = await engine_with(tmp_path)
    try:
        await feed(eng, 40)
        open_before = eng.strategies.runners["quick"].open_trades()
        state_before = dict(eng.strategies.runners["quick"].state)
    finally:
        await eng.stop()
    base = paper_settings().model_dump()
    base["strategies"] = {"quick": {"strategy": "quick_rules", "symbols": ["ETH/USDT"]}}
    again = manual_engine(Settings(**base), home=Home.resolve(tmp_path / "home"), start=T0)
    await again.start()
    try:
        await again.strategies.started()
        runner = again.strategies.runners["quick"]
        assert runner.in_engine and runner.open_trades().keys() == open_before.keys()
        assert runner.state.get("trades") == state_before.get("trades")
    finally:
        await again.stop()


def test_an_engine_with_a_rule_strategy_does_not_import_pandas(tmp_path: Path) -> None:
    """TA-Lib is imported without pandas in the engine (~80 MB less); a later import of pandas
    gives TA-Lib its pandas support back (Series in, Series out)."""
    code = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from tui_trader.config import Settings
        from tui_trader.engine.testing import manual_engine, paper_settings, step
        from tui_trader.home import Home

        async def main():
            home = Home.resolve(Path({str(tmp_path / "home")!r})).ensure()
            base = paper_settings().model_dump()
            base["strategies"] = {{"rules": {{"strategy": "rsi_trend", "symbols": ["ETH/USDT"]}}}}
            eng = manual_engine(Settings(**base), home=home)
            await eng.start()
            await eng.strategies.started()
            await step(eng, 5)
            runner = eng.strategies.runners["rules"]
            print(runner.phase, runner.in_engine, "talib" in sys.modules, "pandas" in sys.modules)
            await eng.stop()

        asyncio.run(main())
        import numpy as np, pandas as pd, talib
        print(type(talib.RSI(pd.Series(np.arange(40.0)))).__name__)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["running", "True", "True", "False", "Series"], out.stdout + out.stderr


async def test_a_strategy_waits_while_the_bars_it_reads_have_a_hole_the_venue_could_not_fill(tmp_path: Path) -> None:
    """An outage left 50 1m bars missing that the venue's history could not give back (a hole
    the backfill said). The strategy reads 20 bars before each one (`startup_candle_count`): it
    reads no signal until the hole is behind them, said in a notice when it begins to wait and
    when it evaluates again, and `status` says what it waits for. It used to decide on the
    first bar after the outage as if the window were whole."""
    from collections import deque

    from tui_trader.venues.backfill import Hole

    rules = RULES.replace('timeframe = "1m"', 'timeframe = "1m"\nstartup_candle_count = 20')
    eng, notices = await engine_with(tmp_path, rules)
    try:
        runner = eng.strategies.runners["quick"]
        decided: list[float] = []
        original = runner.on_decision
        runner.on_decision = lambda d, atr: (decided.append(d.price), original(d, atr))
        start = eng.clock.now().replace(second=0, microsecond=0)

        def close(i: int) -> float:
            return 3000.0 + 40.0 * math.sin(i / 2.0) + i * 0.5

        async def bars(indices: range) -> None:
            for i in indices:
                c, o = close(i), close(i) - 5.0 * math.cos(i / 2.0)
                at = start + timedelta(minutes=i)
                candle = Candle("ETH/USDT", "1m", at, o, max(o, c) + 1, min(o, c) - 1, c, 5.0)
                eng.clock.set(candle.open_time + timedelta(minutes=1))
                eng.bus.publish(CandleEvent("paper", candle))
                await eng.strategies.drain()
                await eng.oms.flush()

        await bars(range(0, 60))
        assert decided  # it trades on a whole window
        ms = int(start.timestamp() * 1000)
        hole = Hole("paper", "ETH/USDT", "1m candles", ms + 60 * 60_000, ms + 110 * 60_000, 0)
        eng.venues["paper"].holes = deque([hole])
        before = len(decided)
        await bars(range(110, 120))
        status = eng.strategies.status()[0]["waiting"]
        assert status == [{"symbol": "ETH/USDT", "timeframe": "1m", "hole_from": "2026-01-05T15:30:00Z",
                           "hole_to": "2026-01-05T16:20:00Z", "evaluates_from": "2026-01-05T16:40:00Z"}]  # fmt: skip
        await bars(range(120, 180))
        held = {close(i) for i in range(110, 130)}  # the bar after the hole and the 19 after it
        assert not held & set(decided[before:])
        assert len(decided) > before  # and it trades again once the hole is behind its 20 bars
        assert eng.strategies.status()[0]["waiting"] == []
        said = [n.message for n in notices.drain() if isinstance(n, NoticeEvent) and "ETH/USDT 1m" in n.message]
        assert said[0].startswith("strategy quick waits on ETH/USDT 1m: the 21 bars it reads have a hole "
                                  "2026-01-05 15:30-2026-01-05 16:20 UTC")  # fmt: skip
        assert said[-1] == ("strategy quick evaluates ETH/USDT 1m again: the hole 2026-01-05 15:30-2026-01-05 "
                            "16:20 UTC is behind the 21 bars it reads")  # fmt: skip
    finally:
        await eng.stop()
