"""The backtest screen on the rig's paper venue and on a stored Parquet dataset."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from textual.widgets import DataTable, Input, ProgressBar, Select, Static

from tui_trader.data.store import CandleStore
from tui_trader.home import Home
from tui_trader.ui.research.charts import CellPlot
from tui_trader.ui.screens.backtest import BacktestScreen

SIZE = (120, 40)


def seeded_candles(n: int = 600, seed: int = 7) -> pd.DataFrame:
    """A random walk with swings big enough for an EMA cross to trade."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)) + 0.2 * np.sin(np.arange(n) / 25))
    open_ = np.r_[close[0], close[:-1]]
    spread = np.abs(rng.normal(0, 0.003, n)) * close
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="5min", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.uniform(1, 10, n),
        }
    )


async def open_screen(rig, pilot) -> BacktestScreen:  # type: ignore[no-untyped-def]
    await rig.ready(pilot)
    screen = BacktestScreen()
    await rig.app.push_screen(screen)
    await rig.app.workers.wait_for_complete()
    await pilot.pause()
    assert screen.choices_loaded
    return screen


async def run(rig, pilot, screen: BacktestScreen) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+r")
    await pilot.pause()
    await rig.app.workers.wait_for_complete()
    await pilot.pause()


def status(screen: BacktestScreen) -> str:
    return str(screen.query_one("#status", Static).render())


async def test_backtest_on_venue_history(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        screen = await open_screen(rig, pilot)
        screen.query_one("#strategy", Select).value = "ema_cross"
        screen.query_one("#source", Select).value = "@venue|BTC/USDT|"
        await run(rig, pilot, screen)
        assert screen.result is not None, status(screen)
        assert screen.result.symbols == ["BTC/USDT"]
        metrics = screen.query_one("#metrics", DataTable)
        assert "sharpe" in [k.value for k in metrics.rows]
        trades = screen.query_one("#trades", DataTable)
        assert trades.row_count == len(screen.result.trades) > 0
        assert len(screen.marks) == 2 * trades.row_count
        assert not screen.query_one(ProgressBar).display
        assert "trades" in status(screen)
        # Issue 21: the plots were clipped on the right and had no date axis.
        for plot_id in ("equity", "drawdown", "candles"):
            plot = screen.query_one(f"#{plot_id}", CellPlot)
            if not plot.region.width:
                continue  # a tab not shown
            assert plot.lines and all(line.cell_len <= plot.size.width for line in plot.lines), plot_id
        equity = screen.query_one("#equity", CellPlot)
        axis = equity.lines[-1].plain
        assert re.search(r"\d\d-\d\d", axis), axis  # dates under the curve


async def test_backtest_on_stored_dataset_with_range(rig_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    home = Home(tmp_path).ensure()
    CandleStore(home.data_dir).save("binance", "BTC/USDT", "5m", seeded_candles())
    rig = rig_factory()
    rig.app.home = home
    async with rig.app.run_test(size=SIZE) as pilot:
        screen = await open_screen(rig, pilot)
        assert screen.choice("#source") == "binance|BTC/USDT|5m"  # stored data is preferred
        screen.query_one("#strategy", Select).value = "ema_cross"
        screen.query_one("#start", Input).value = "2024-01-01T10:00"
        await run(rig, pilot, screen)
        result = screen.result
        assert result is not None, status(screen)
        # the data starts at midnight, too late for ema_cross's 200 warm-up candles before
        # 10:00: as Freqtrade's --timerange, trading starts 200 candles into the data
        assert result.start == pd.Timestamp("2024-01-01T16:40", tz="UTC")
        assert result.metrics["trades"] == len(result.trades)
        # a trade row moves the candle chart to that trade
        screen.query_one("#views").active = "tab-trades"
        await pilot.pause()
        table = screen.query_one("#trades", DataTable)
        table.focus()
        assert table.row_count >= 2
        table.move_cursor(row=1)
        await pilot.pause()
        second_exit = sorted(i for i, _, entry in screen.marks if not entry)[1]
        begin, end = screen.chart_range
        assert begin <= second_exit < end


async def test_bad_form_input_is_reported_inline(rig_factory) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        screen = await open_screen(rig, pilot)
        screen.query_one("#start", Input).value = "yesterday-ish"
        await run(rig, pilot, screen)
        assert screen.result is None
        assert "not a date" in status(screen)
        assert screen.query_one("#status").has_class("error")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(rig.app.screen, BacktestScreen)


async def test_keys_and_palette_open_the_research_screens(rig_factory) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.ui.screens.optimize import OptimizeScreen
    from tui_trader.ui.screens.rule_builder import RuleBuilderScreen

    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        await rig.ready(pilot)
        for key, cls in (("f5", BacktestScreen), ("f6", OptimizeScreen), ("f7", RuleBuilderScreen)):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(rig.app.screen, cls)
            await rig.app.workers.wait_for_complete()
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(rig.app.screen, cls)
        titles = [title for title, _, _ in rig.app.palette_commands()]
        assert {"Backtest…", "Optimize…", "Strategy builder…"} <= set(titles)


async def test_backtest_screen_reads_at_100x30(rig_factory) -> None:  # type: ignore[no-untyped-def]
    """At 100x30 the data choice wrapped over seven lines and pushed the results down; the
    metrics could come out cut to their headers' widths; shares read as gains (+45.83%)."""
    rig = rig_factory()
    async with rig.app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(rig, pilot)
        screen.query_one("#strategy", Select).value = "ema_cross"
        screen.query_one("#source", Select).value = "@venue|BTC/USDT|"
        await run(rig, pilot, screen)
        await pilot.pause()
        assert screen.result is not None, status(screen)
        assert screen.query_one("#form").size.height == 1
        metrics = screen.query_one("#metrics", DataTable)
        text = {metrics.get_row(key)[0]: metrics.get_row(key)[1] for key in metrics.rows}
        widths = [c.get_render_width(metrics) - 2 * metrics.cell_padding for c in metrics.columns.values()]
        assert widths[0] >= max(len(k) for k in text) and widths[1] >= max(len(v) for v in text.values())
        assert not text["win rate"].startswith("+") and not text["max drawdown"].startswith("+")
        assert text["total return"][0] in "+-"  # a gain keeps its sign
