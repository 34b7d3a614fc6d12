"""Strategies pane: list, enable/disable and reload through the client; broken ones shown."""

from __future__ import annotations

import textwrap
from pathlib import Path

from textual.widgets import DataTable

from tui_trader.config import Settings
from tui_trader.core.clock import FrozenClock
from tui_trader.engine import Engine
from tui_trader.engine.client import InProcessClient
from tui_trader.home import Home
from tui_trader.ui.app import WorkstationApp
from tui_trader.ui.panes import StrategiesPane

from ui_helpers import START, HeldSource, Rig

STRATEGY = textwrap.dedent(
    '''
    """Up-bar follower (a test strategy)."""
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
            dataframe.loc[dataframe["close"] > dataframe["open"], "enter_long"] = 1
            return dataframe

        def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            dataframe.loc[dataframe["close"] < dataframe["open"], "exit_long"] = 1
            return dataframe
    '''
)


def home_rig(tmp_path: Path, **extra: object) -> Rig:
    """build_rig with a HOME (strategies dir) and extra settings (strategies, risk ...)."""
    home = Home.resolve(tmp_path / "home")
    home.ensure()
    (home.strategies_dir / "upbar.py").write_text(STRATEGY)
    settings = Settings(
        ui={"flash_ms": 0},
        paper={"symbols": ["BTC/USDT", "ETH/USDT", "SOL/USDT", "AAPL", "MSFT", "SPY"]},
        **extra,
    )
    clock = FrozenClock(START)
    from tui_trader.venues.registry import build_venues

    venues = build_venues(settings, clock, None)
    venues["paper"].source = HeldSource(venues["paper"].source)  # type: ignore[attr-defined]
    engine = Engine(settings, home, clock=clock, venues=venues, in_memory=True)
    app = WorkstationApp(InProcessClient(engine), settings, home)
    return Rig(app, engine, clock)


STRATEGIES = {"UpBar": {"symbols": ["ETH/USDT"]}, "Ghost": {"symbols": ["BTC/USDT"]}}


async def _frame(rig: Rig, pilot) -> None:  # type: ignore[no-untyped-def]
    await rig.app.workers.wait_for_complete()
    await rig.app.refresh_snapshot()
    await pilot.pause()


async def test_lists_strategies_and_broken_ones_with_their_error(tmp_path: Path) -> None:
    rig = home_rig(tmp_path, strategies=STRATEGIES)
    async with rig.app.run_test(size=(120, 40)) as pilot:
        await rig.ready(pilot)
        await pilot.press("8")
        await _frame(rig, pilot)
        pane = rig.app.query_one(StrategiesPane)
        table = pane.query_one(DataTable)
        assert table.row_count == 2
        rows = pane._sync.rows
        assert rows["UpBar"][1][0] == "on"
        assert rows["Ghost"][1][0] == "ERROR"
        error_cell = rows["Ghost"][9]
        assert isinstance(error_cell, tuple) and error_cell[0]  # the load error, styled red
        assert "1 broken" in str(pane.border_title)
        assert pane.select("Ghost")
        await _frame(rig, pilot)
        error = pane.query_one("#strategies-error")
        assert error.display and "Ghost" in str(error.render())


async def test_disable_and_enable_with_e(tmp_path: Path) -> None:
    rig = home_rig(tmp_path, strategies=STRATEGIES)
    async with rig.app.run_test(size=(120, 40)) as pilot:
        await rig.ready(pilot)
        await pilot.press("8")
        await _frame(rig, pilot)
        pane = rig.app.query_one(StrategiesPane)
        assert pane.select("UpBar")
        await pilot.press("e")
        await _frame(rig, pilot)
        assert rig.engine.strategies.runners["UpBar"].enabled is False
        assert pane._sync.rows["UpBar"][1][0] == "off"
        await pilot.press("e")
        await _frame(rig, pilot)
        assert rig.engine.strategies.runners["UpBar"].enabled is True
        assert pane._sync.rows["UpBar"][1][0] == "on"


async def test_reload_reports_changed_files(tmp_path: Path) -> None:
    rig = home_rig(tmp_path, strategies=STRATEGIES)
    async with rig.app.run_test(size=(120, 40)) as pilot:
        await rig.ready(pilot)
        await pilot.press("8")
        await _frame(rig, pilot)
        rig.app.query_one(StrategiesPane).select("UpBar")
        await pilot.press("r")
        await _frame(rig, pilot)
        from tui_trader.ui.panes.statusbar import StatusBar

        assert "no strategy file changed" in rig.app.query_one(StatusBar).message


async def test_strategy_pnl_and_holdings_are_the_strategys_own_part() -> None:
    from datetime import UTC, datetime

    from tui_trader.ui.panes.strategies import held, last_signal, stops, strategy_pnl

    # Two strategies on ETH: each its own part and its own P&L, never the whole position.
    ledger = [
        {"owner": "UpBar", "symbol": "ETH/USDT", "quantity": "1", "pnl": 10.0},
        {"owner": "Other", "symbol": "ETH/USDT", "quantity": "2", "pnl": -4.0},
        {"owner": "UpBar", "symbol": "BTC/USDT", "quantity": "0", "pnl": 2.5},
    ]
    assert strategy_pnl("UpBar", ledger) == 12.5 and strategy_pnl("Other", ledger) == -4.0
    assert strategy_pnl("Ghost", ledger) is None
    assert held("UpBar", ledger) == "ETH/USDT 1" and held("Other", ledger) == "ETH/USDT 2"
    protective = [
        {"strategy": "UpBar", "stop": "3230", "emulated": False},
        {"strategy": "Other", "stop": "3100", "emulated": True},
        {"strategy": "Other", "stop": None, "emulated": False},
    ]
    assert stops("UpBar", protective) == "3230" and stops("Other", protective) == "~3100, none!"
    assert stops("Ghost", protective) == "-"
    ts = datetime(2026, 1, 5, 14, 31, tzinfo=UTC).isoformat()
    text = last_signal(
        {
            "last_decision": {
                "action": "enter_long",
                "symbol": "ETH/USDT",
                "price": 110.0,
                "ts": ts,
                "tag": "up",
                "reason": "close > open",
            }
        }
    )
    assert text == "enter_long ETH/USDT @ 110.00 (up) 14:31:00 · close > open"


async def test_a_hung_strategy_shows_hung_and_e_starts_it_again(tmp_path: Path) -> None:
    import asyncio

    home = Home.resolve(tmp_path / "home")
    home.ensure()
    source = STRATEGY.replace("class UpBar", "class Spin").replace(
        "        return dataframe\n\n    def populate_entry_trend",
        "        while True:\n            pass\n\n    def populate_entry_trend",
        1,
    )
    assert "while True" in source
    (home.strategies_dir / "spin.py").write_text(source)
    rig = home_rig(tmp_path, strategies={"Spin": {"symbols": ["ETH/USDT"]}}, engine={"strategy_timeout_s": 1.0})
    async with rig.app.run_test(size=(120, 40)) as pilot:
        await rig.ready(pilot)
        worker = rig.engine.strategies.runners["Spin"]
        for _ in range(600):  # a hang guard, not a speed assertion
            if worker.phase == "hung":
                break
            await asyncio.sleep(0.05)
        status = {**worker.status(), "venue": None}  # now: it is starting again within a second
        assert status["state"] == "hung"
        await pilot.press("8")
        await _frame(rig, pilot)
        pane = rig.app.query_one(StrategiesPane)
        assert pane._row(status, [], [], rig.app.palette)[1][0] == "HUNG"
        assert pane.select("Spin")
        await pilot.press("e")  # off
        await _frame(rig, pilot)
        assert worker.enabled is False
        await pilot.press("e")  # on again: a hung one gets a fresh worker at once
        await _frame(rig, pilot)
        assert worker.enabled and worker.restarts >= 1


async def test_reload_config_starts_an_added_strategy_table_and_stops_a_removed_one(tmp_path: Path) -> None:
    import asyncio

    from tui_trader.ui.panes.statusbar import StatusBar

    rig = home_rig(tmp_path, strategies={"UpBar": {"symbols": ["ETH/USDT"]}})
    config = tmp_path / "config.toml"
    rig.engine.config_file = config
    async with rig.app.run_test(size=(120, 40)) as pilot:
        await rig.ready(pilot)
        assert set(rig.engine.strategies.runners) == {"UpBar"}
        config.write_text('[strategies.up_sol]\nstrategy = "UpBar"\nsymbols = ["SOL/USDT"]\n')
        rig.app.action_reload_config()  # the palette's "Reload config"
        await _frame(rig, pilot)
        assert "config reloaded: applied strategies" in rig.app.query_one(StatusBar).message
        assert set(rig.engine.strategies.runners) == {"up_sol"}
        worker = rig.engine.strategies.runners["up_sol"]
        for _ in range(600):  # a hang guard: its worker process starts
            if worker.phase == "running":
                break
            await asyncio.sleep(0.05)
        assert worker.phase == "running" and worker.enabled
        await pilot.press("8")
        await _frame(rig, pilot)
        assert rig.app.query_one(StrategiesPane).select("up_sol")
