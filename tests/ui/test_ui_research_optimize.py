"""The optimization screen: a tiny grid search and a walk-forward on seeded stored candles."""

from __future__ import annotations

from test_ui_research_backtest import seeded_candles
from textual.widgets import Checkbox, DataTable, Input, Select, Static

from tui_trader.data.store import CandleStore
from tui_trader.home import Home
from tui_trader.ui.research.progress import Throttle
from tui_trader.ui.screens.optimize import OptimizeScreen

from ui_helpers import settle_workers

SIZE = (120, 40)


async def open_screen(rig, pilot, tmp_path) -> OptimizeScreen:  # type: ignore[no-untyped-def]
    home = Home(tmp_path).ensure()
    CandleStore(home.data_dir).save("binance", "BTC/USDT", "5m", seeded_candles(1200))
    rig.app.home = home
    await rig.ready(pilot)
    screen = OptimizeScreen()
    await rig.app.push_screen(screen)
    await settle_workers(rig.app)
    await pilot.pause()
    # the first strategy's space may still be loading: the new choice's load replaces it (an
    # exclusive worker group), and that cancel is no failure (it failed the test on a busy machine)
    screen.query_one("#strategy", Select).value = "ema_cross"
    await settle_workers(rig.app)
    await pilot.pause()
    return screen


def text(screen: OptimizeScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_tiny_grid_fills_the_results_table(rig_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        screen = await open_screen(rig, pilot, tmp_path)
        assert "fast" in text(screen, "#space-hint")
        screen.query_one("#method", Select).value = "grid"
        screen.query_one("#trials", Input).value = ""
        screen.query_one("#space", Input).value = "fast=8:10 slow=30:40:10"
        await pilot.press("ctrl+r")
        await pilot.pause()
        await rig.app.workers.wait_for_complete()
        await pilot.pause()
        result = screen.result
        assert result is not None, text(screen, "#status")
        assert len(result.trials) == 6  # 3 fast x 2 slow
        table = screen.query_one("#results", DataTable)
        assert table.row_count == len(result.completed) > 0
        best = result.best
        assert best is not None
        # best first in the table, and named on the best line
        assert table.get_row_at(0)[0] == str(best.number)
        assert f"#{best.number}" in text(screen, "#best")
        assert "6 trials" in text(screen, "#status")


async def test_the_default_search_is_bounded_and_the_hint_sizes_the_grid(rig_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 21: the screen used to default to a full grid of 2,652 trials."""
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        screen = await open_screen(rig, pilot, tmp_path)
        request = screen.request()
        assert (request.method, request.trials) == ("tpe", 100)
        hint = text(screen, "#space-hint")
        assert "a full grid is" in hint and "trials" in hint
        # the ranges field's example is in the chosen strategy's own names, and it parses
        placeholder = screen.query_one("#space", Input).placeholder
        assert placeholder == "ranges, e.g. buy_fast=5:20 buy_slow=20:80 (blank: declared)", placeholder
        screen.query_one("#space", Input).value = placeholder.split("e.g. ")[1].split(" (")[0]
        from tui_trader.optimize import build_space
        from tui_trader.strategy.loader import load_strategy

        space = build_space(load_strategy("ema_cross", screen.strategies_dirs), screen.request().space)
        assert [d["name"] for d in space.describe()["dimensions"]] == ["buy_fast", "buy_slow"]


async def test_walk_forward_shows_windows_and_oos_chart(rig_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        screen = await open_screen(rig, pilot, tmp_path)
        screen.query_one("#space", Input).value = "fast=8:9 slow=30"
        screen.query_one("#walk", Checkbox).value = True
        screen.query_one("#train", Input).value = "1d"
        screen.query_one("#test", Input).value = "12h"
        await pilot.pause()
        assert screen.query_one("#oos").display
        await pilot.press("ctrl+r")
        await pilot.pause()
        await rig.app.workers.wait_for_complete()
        await pilot.pause()
        walk = screen.walk
        assert walk is not None, text(screen, "#status")
        assert len(walk.windows) >= 2
        assert screen.query_one("#results", DataTable).row_count == len(walk.windows)
        assert len(walk.oos_equity) > 0
        assert "efficiency" in text(screen, "#status")


async def test_bad_trials_is_reported_inline(rig_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        screen = await open_screen(rig, pilot, tmp_path)
        screen.query_one("#trials", Input).value = "lots"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "trials must be a whole number" in text(screen, "#status")
        assert screen.result is None


def test_throttle_posts_first_and_last() -> None:
    posted: list[int] = []
    throttle = Throttle(posted.append, hz=0.001)  # one post per 1000 s: only the first goes now
    for i in range(10):
        throttle(i)
    assert posted == [0]
    throttle.flush()
    assert posted == [0, 9]
    throttle.flush()
    assert posted == [0, 9]


async def test_escape_stops_a_running_search(rig_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rig = rig_factory()
    async with rig.app.run_test(size=SIZE) as pilot:
        screen = await open_screen(rig, pilot, tmp_path)
        screen.query_one("#trials", Input).value = "100000"  # far more than this test waits for
        await pilot.press("ctrl+r")
        assert screen.running, text(screen, "#status")
        await pilot.press("escape")
        assert screen.stop.is_set()
        await rig.app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.result is None
        assert "cancelled" in text(screen, "#status")
        assert isinstance(rig.app.screen, OptimizeScreen)  # Esc while running does not close
