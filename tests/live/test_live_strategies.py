"""Strategies running live inside the engine: candles -> decision -> risk -> OMS -> fills."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from tui_trader.core.events import CandleEvent, NoticeEvent
from tui_trader.core.market import Candle
from tui_trader.engine.testing import manual_engine, paper_settings, step
from tui_trader.home import Home

STRATEGY = textwrap.dedent(
    '''
    """Up-bar follower: long after a rising bar, out after a falling one (a test strategy)."""
    from pandas import DataFrame
    from tui_trader.strategy import IStrategy


    class UpBar(IStrategy):
        timeframe = "1m"
        startup_candle_count = 0
        minimal_roi = {"0": 10}
        stoploss = -0.5

        def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            return dataframe

        def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            dataframe.loc[dataframe["close"] > dataframe["open"] * THRESHOLD, "enter_long"] = 1
            return dataframe

        def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            dataframe.loc[dataframe["close"] < dataframe["open"], "exit_long"] = 1
            return dataframe
    '''
)
T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def write_strategy(home: Home, threshold: str = "1.0") -> Path:
    home.ensure()
    path = home.strategies_dir / "upbar.py"
    path.write_text(STRATEGY.replace("THRESHOLD", threshold))
    return path


def bar(i: int, o: float, c: float) -> CandleEvent:
    return CandleEvent("paper", Candle("ETH/USDT", "1m", T0 + timedelta(minutes=i), o, max(o, c), min(o, c), c, 10.0))


@pytest.fixture
async def engine(tmp_path: Path):
    home = Home.resolve(tmp_path / "home")
    write_strategy(home)
    from tui_trader.config import Settings

    settings = Settings(**{**paper_settings().model_dump(), "strategies": {"UpBar": {"symbols": ["ETH/USDT"]}}})
    eng = manual_engine(settings, home=home, start=T0)
    await eng.start()
    await eng.strategies.started()  # loaded: the bars below are its own
    await step(eng, 2)
    yield eng
    await eng.stop()


async def settle(eng) -> None:
    import asyncio

    await asyncio.sleep(0)
    await eng.strategies.drain()
    await eng.emulator.settle()
    await asyncio.sleep(0)


async def test_rising_bar_enters_and_falling_bar_exits(engine) -> None:
    host = engine.strategies
    assert "UpBar" in host.runners, host.broken
    engine.bus.publish(bar(0, 3400, 3410))
    await settle(engine)
    pos = engine.portfolio.positions.get(("paper", "ETH/USDT"))
    assert pos is not None and pos.quantity > 0
    orders = [o for o in engine.recent_orders.values() if o.strategy == "UpBar"]
    assert orders and orders[-1].source == "strategy:UpBar"
    assert "ETH/USDT" in host.runners["UpBar"].open_trades()
    saved = await engine.store.load_strategy_state("UpBar")
    assert "ETH/USDT" in saved["trades"]

    engine.bus.publish(bar(1, 3410, 3395))
    await settle(engine)
    assert engine.portfolio.positions[("paper", "ETH/USDT")].quantity == D(0)
    assert host.runners["UpBar"].open_trades() == {}
    status = engine.snapshot().extra["strategies"]
    assert status[0]["name"] == "UpBar" and status[0]["last_decision"]["action"] == "exit_long"


async def test_disabled_strategy_places_nothing(engine) -> None:
    from tui_trader.engine.commands import dispatch

    await dispatch(engine, "strategies.disable", {"name": "UpBar"}, "test")
    engine.bus.publish(bar(0, 3400, 3410))
    await settle(engine)
    assert engine.portfolio.open_positions() == []
    audit = await engine.store.audit_log(3)
    assert audit[0]["action"] == "strategy_disable"


async def test_hot_reload_keeps_trades_and_applies_the_edit(engine) -> None:
    host = engine.strategies
    engine.bus.publish(bar(0, 3400, 3410))
    await settle(engine)
    assert "ETH/USDT" in host.runners["UpBar"].open_trades()
    path = engine.home.strategies_dir / "upbar.py"
    import os

    path.write_text(STRATEGY.replace("THRESHOLD", "2.0") + "\n# edited\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))
    assert host.reload_changed() == ["UpBar"]
    assert "ETH/USDT" in host.runners["UpBar"].open_trades()  # trade kept
    open_before = engine.portfolio.positions[("paper", "ETH/USDT")].quantity
    engine.bus.publish(bar(1, 3410, 3412))  # would enter with the old threshold; not with 2.0
    await settle(engine)
    assert engine.portfolio.positions[("paper", "ETH/USDT")].quantity == open_before


async def test_broken_strategy_is_reported_and_engine_runs(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "h2")
    home.ensure()
    (home.strategies_dir / "bad.py").write_text(

            "from tui_trader.strategy import IStrategy\n\nclass Bad(IStrategy):\n    timeframe = '1m'\n    def "
            "populate_indicators(self, df, md):\n        return df\n    raise RuntimeError('boom')\n"

    )
    from tui_trader.config import Settings

    settings = Settings(**{**paper_settings().model_dump(), "strategies": {"Bad": {"symbols": ["BTC/USDT"]}}})
    eng = manual_engine(settings, home=home, start=T0)
    sub = eng.bus.subscribe("notices", kinds={"notice"})
    await eng.start()
    try:
        notices = [e.message for e in sub.drain() if isinstance(e, NoticeEvent) and e.level == "error"]
        assert any("Bad" in m for m in notices)
        assert eng.snapshot().extra["strategies"][0]["error"]
    finally:
        await eng.stop()


async def test_candle_feed_closes_one_minute_bars_from_trades(engine) -> None:
    sub = engine.bus.subscribe("bars", kinds={"candle"}, coalesce=False)
    await step(engine, 4 * 130, seconds=0.25)  # 130 s of simulated trading
    bars = [e.candle for e in sub.drain() if isinstance(e, CandleEvent)]
    btc = [b for b in bars if b.symbol == "BTC/USDT" and b.timeframe == "1m"]
    assert len(btc) == 2 and all(b.closed for b in btc)
    assert btc[1].open_time - btc[0].open_time == timedelta(minutes=1)
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in btc)


async def test_volatility_sizing_uses_the_live_atr(tmp_path: Path) -> None:
    from tui_trader.config import Settings

    home = Home.resolve(tmp_path / "vol")
    write_strategy(home)
    base = paper_settings().model_dump()
    base["strategies"] = {"UpBar": {"symbols": ["ETH/USDT"]}}
    base["risk"]["sizing"] = {"mode": "volatility", "target_volatility": 0.001}
    eng = manual_engine(Settings(**base), home=home, start=T0)
    await eng.start()
    await eng.strategies.started()  # loaded: the bars below are its own
    try:
        await step(eng, 2)
        runner = eng.strategies.runners["UpBar"]
        engine_equity = eng.account().equity
        engine_bar = bar(0, 3400, 3410)
        eng.bus.publish(engine_bar)  # the runner's window now holds warm-up history plus this bar
        await settle(eng)
        atr = runner.atrs["ETH/USDT"]  # the worker's ATR of its window, sent with the entry
        assert atr and atr > 0
        expected = D(str(engine_equity * 0.001 / atr)).quantize(D("0.0001"), rounding="ROUND_DOWN")
        got = eng.portfolio.positions[("paper", "ETH/USDT")].quantity
        assert abs(got - expected) <= D("0.0002"), (got, expected)
    finally:
        await eng.stop()


async def test_float_drift_in_the_trade_amount_leaves_no_dust(engine) -> None:
    engine.bus.publish(bar(0, 3400, 3410))
    await settle(engine)
    trade = engine.strategies.runners["UpBar"].open_trades()["ETH/USDT"]
    held = engine.portfolio.positions[("paper", "ETH/USDT")].quantity
    trade.amount = float(held) - 1e-12  # what repeated float additions do
    engine.bus.publish(bar(1, 3410, 3395))
    await settle(engine)
    assert engine.portfolio.positions[("paper", "ETH/USDT")].quantity == D(0)


async def test_one_strategy_runs_twice_under_two_names(tmp_path: Path) -> None:
    from tui_trader.config import Settings

    home = Home.resolve(tmp_path / "twice")
    write_strategy(home)
    base = paper_settings().model_dump()
    base["strategies"] = {
        "up_eth": {"strategy": "UpBar", "symbols": ["ETH/USDT"]},
        "up_sol": {"strategy": "UpBar", "symbols": ["SOL/USDT"]},
    }
    eng = manual_engine(Settings(**base), home=home, start=T0)
    await eng.start()
    await eng.strategies.started()  # loaded: the bars below are its own
    try:
        await step(eng, 2)
        assert set(eng.strategies.runners) == {"up_eth", "up_sol"}
        eng.bus.publish(bar(0, 3400, 3410))  # ETH only
        await settle(eng)
        assert "ETH/USDT" in eng.strategies.runners["up_eth"].open_trades()
        assert eng.strategies.runners["up_sol"].open_trades() == {}
        orders = [o for o in eng.recent_orders.values() if o.source.startswith("strategy:")]
        assert {o.strategy for o in orders} == {"up_eth"}
        assert "ETH/USDT" in (await eng.store.load_strategy_state("up_eth"))["trades"]
    finally:
        await eng.stop()
