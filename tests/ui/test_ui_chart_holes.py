"""The chart marks a hole: bars an outage left missing that the venue's history could not give
back (a venue's `holes`, as `status --json` lists them). It was in a notice only, which
scrolls away: the chart ran its bars together as if none were missing."""

from __future__ import annotations

from collections import deque

from textual.widgets import Static

from tui_trader.ui.panes import ChartPane
from tui_trader.ui.panes.chart import ChartCanvas
from tui_trader.venues.backfill import Hole

from ui_helpers import build_rig, frame


async def test_the_chart_marks_a_hole_where_its_bars_are_missing_and_names_its_span() -> None:
    rig = build_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot, steps=5)
        await frame(rig, pilot)
        chart = rig.app.query_one(ChartPane)
        canvas = rig.app.query_one(ChartCanvas)
        await frame(rig, pilot)
        assert chart.draws and "hole" not in "".join(line.plain for line in canvas.lines)
        # twelve bars from the last 40 missing, as the venue said
        bars = chart.candles
        start, end = bars[-30].open_time, bars[-18].open_time
        chart.candles = [c for c in bars if not start <= c.open_time < end]
        tf = chart.loaded[1] if chart.loaded else "1m"
        ms = lambda t: int(t.timestamp() * 1000)  # noqa: E731
        rig.engine.venues["paper"].holes = deque(  # type: ignore[attr-defined]
            [Hole("paper", "BTC/USDT", f"{tf} candles", ms(start), ms(end), 0),
             Hole("paper", "ETH/USDT", f"{tf} candles", ms(start), ms(end), 0),  # another symbol's
             Hole("paper", "BTC/USDT", "trades", ms(start), ms(end), 0)]  # the tape's
        )  # fmt: skip
        await frame(rig, pilot)
        chart.redraw()
        assert chart.model is not None and list(chart.model.holes) == [len(chart.model.candles) - 18]
        text = [line.plain for line in canvas.lines]
        assert "hole" in text[0]
        column = text[0].index("hole") - 1
        assert all(line[column] in "┊│█▀▄" for line in text[1:-1])
        title = str(rig.app.query_one("#chart-title", Static).render())
        span = f"{start:%H:%M}-{end:%H:%M}"
        assert f"hole {span} (not in the venue's history)" in title


def test_a_strategy_waiting_on_a_hole_says_so_in_its_row() -> None:
    """The strategies pane: `waits` and what it waits for (status's `waiting`), not `on`."""
    from textual.theme import BUILTIN_THEMES

    from tui_trader.ui.panes.strategies import StrategiesPane
    from tui_trader.ui.theme import Palette

    pal = Palette.from_theme(BUILTIN_THEMES["textual-dark"])
    wait = {"symbol": "ETH/USDT", "timeframe": "1m", "hole_from": "2026-01-05T15:30:00Z",
            "hole_to": "2026-01-05T16:20:00Z", "evaluates_from": "2026-01-05T16:40:00Z"}  # fmt: skip
    status = {"name": "quick", "enabled": True, "state": "running", "timeframe": "1m", "symbols": ["ETH/USDT"]}
    row = StrategiesPane._row({**status, "waiting": [wait]}, [], [], pal)
    assert row[1][0] == "waits"
    assert row[-1][0] == "ETH/USDT 1m: hole 15:30-16:20, evaluates from 16:40"
    assert StrategiesPane._row({**status, "waiting": []}, [], [], pal)[1][0] == "on"


async def test_a_chart_whose_live_bar_comes_after_missing_ones_reads_the_history_again() -> None:
    """An outage: no price came for 15 bars, the chart folds the live price into a new bar with
    the 15 missing before it. It reads the venue's history again once (the backfill is in it by
    then), the bars in their place; it only ever loaded history on a symbol or timeframe change,
    so the bars the backfill brought back never showed (a gap no notice explained)."""
    from ui_helpers import settle_workers

    rig = build_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot, steps=5)
        await frame(rig, pilot)
        chart = rig.app.query_one(ChartPane)
        await settle_workers(rig.app)
        whole = [c.open_time for c in chart.candles]
        step = whole[-1] - whole[-2]
        chart.candles = chart.candles[:-15]  # the outage: the last 15 bars never folded in
        chart._dirty = True
        await frame(rig, pilot)
        await settle_workers(rig.app)
        await frame(rig, pilot)
        times = [c.open_time for c in chart.candles]
        assert times[-1] >= whole[-1] and all(b - a == step for a, b in zip(times[-30:], times[-29:], strict=False))
