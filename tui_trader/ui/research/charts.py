"""Research charts drawn into terminal cells (chart_render.py): equity with drawdown under it,
and candles with trade entries (▲) and exits (▼). Everything is clipped to the widget, and
each chart has a date axis. Series are thinned to the plot's width first, so a year of
1-minute bars costs no more to draw than a screenful."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widget import Widget

from tui_trader.core.market import Candle
from tui_trader.ui.chart_render import ChartModel, Grid, Marker, area_chart, render
from tui_trader.ui.theme import Palette

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CellPlot", "Mark", "draw_candles", "draw_curve", "draw_equity", "thin"]

Mark = tuple[int, float, bool]  # (bar index in the frame, price, is_entry)


class CellPlot(Widget):
    """A chart surface: lines of cells set by the draw_* functions, cropped to the widget."""

    DEFAULT_CSS = "CellPlot { width: 1fr; height: 1fr; }"

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Text] = []

    def render(self) -> Text:
        return Text("\n").join(self.lines) if self.lines else Text("")

    def show(self, lines: list[Text]) -> None:
        self.lines = lines
        self.refresh()


def thin(values: Sequence[float], width: int) -> tuple[list[int], list[float]]:
    """At most about `width` points (every n-th, the last one kept) with their positions."""
    n = len(values)
    step = max(1, n // max(1, width))
    xs = list(range(0, n, step))
    if xs and xs[-1] != n - 1:
        xs.append(n - 1)
    return xs, [float(values[i]) for i in xs]


def _time_axis(stamps: Sequence[Any], width: int, style: str) -> Text:
    """A row of dates under a curve drawn one column per slice of `stamps`."""
    grid = Grid(width, 1)
    if len(stamps):
        first, last = _ts(stamps[0]), _ts(stamps[-1])
        fmt = "%Y-%m-%d" if (last - first).days >= 2 else "%m-%d %H:%M"
        label_w = len(first.strftime(fmt))
        free_from = 0
        for x in range(0, width - label_w + 1, label_w + 3):
            if x >= free_from:
                i = min(len(stamps) - 1, x * len(stamps) // max(width, 1))
                grid.text(x, 0, _ts(stamps[i]).strftime(fmt), style)
                free_from = x + label_w + 2
    return grid.lines()[0]


def _ts(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.to_pydatetime()  # a pandas Timestamp


def draw_equity(
    equity_plot: CellPlot,
    drawdown_plot: CellPlot,
    equity: pd.Series,
    drawdown: pd.Series,
    pal: Palette,
    benchmark: pd.Series | None = None,
) -> None:
    """Equity over the run with its dates; underneath, the drawdown in percent (full height at
    a new high, lower the deeper it is). The buy and hold benchmark is in the metrics table."""
    width, height = max(equity_plot.size.width, 20), max(equity_plot.size.height, 3)
    if not len(equity):
        equity_plot.show([])
        drawdown_plot.show([])
        return
    stamps = list(equity.index)
    lines = area_chart(equity.to_numpy().tolist(), width, height - 1, pal.accent, pal.muted)
    equity_plot.show([*lines, _time_axis(stamps, width, pal.muted)])
    dd = (drawdown * 100).to_numpy().tolist()
    dh = max(drawdown_plot.size.height, 2)
    drawdown_plot.show(area_chart(dd, max(drawdown_plot.size.width, 20), dh, pal.down, pal.muted))


def draw_curve(plot: CellPlot, values: pd.Series, pal: Palette) -> None:
    """One curve (walk-forward's stitched out-of-sample equity) with its dates."""
    width, height = max(plot.size.width, 20), max(plot.size.height, 3)
    if not len(values):
        plot.show([])
        return
    lines = area_chart(values.to_numpy().tolist(), width, height - 1, pal.accent, pal.muted)
    plot.show([*lines, _time_axis(list(values.index), width, pal.muted)])


def draw_candles(
    plot: CellPlot, frame: pd.DataFrame, marks: Sequence[Mark], pal: Palette, focus: int | None = None
) -> tuple[int, int]:
    """The candles that fit the plot (two columns each), ending at `focus` (default: the last
    bar) plus a margin, with the marks that fall inside and a date axis. Returns the
    (first, last+1) bar range drawn."""
    width, height = max(plot.size.width, 20), max(plot.size.height, 6)
    count = max(10, (width - 12) // 2)
    n = len(frame)
    end = n if focus is None else min(n, max(focus + count // 4, count))
    begin = max(0, end - count)
    if not n:
        plot.show([])
        return begin, end
    part = frame.iloc[begin:end]
    times = part["date"] if "date" in part.columns else part.index.to_series()
    candles = [
        Candle("", "1m", _ts(ts), float(o), float(h), float(lo), float(c), float(v))
        for ts, o, h, lo, c, v in zip(
            times, part["open"], part["high"], part["low"], part["close"], part.get("volume", part["close"] * 0),
            strict=True,
        )
    ]
    markers = [Marker(i - begin, p, entry) for i, p, entry in marks if begin <= i < end]
    model = ChartModel(candles, markers=markers, decimals=_decimals(candles), timeframe="1m")
    plot.show(render(model, width, height, pal, {}))
    return begin, end


def _decimals(candles: Sequence[Candle]) -> int:
    price = abs(candles[-1].close) if candles else 1.0
    return 2 if price >= 10 else 4 if price >= 0.1 else 6
