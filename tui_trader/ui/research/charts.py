"""Research charts drawn into the chart pane's Plot widget: equity with drawdown, and candles
with trade entries (▲) and exits (▼). Series are thinned to the plot's width first, so a
year of 1-minute bars costs no more to draw than a screenful."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui_trader.ui.panes.chart import Plot, _rgb
from tui_trader.ui.theme import Palette

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Mark", "Plot", "draw_candles", "draw_curve", "draw_equity", "thin"]

Mark = tuple[int, float, bool]  # (bar index in the frame, price, is_entry)


def thin(values: Sequence[float], width: int) -> tuple[list[int], list[float]]:
    """At most about `width` points (every n-th, the last one kept) with their positions."""
    n = len(values)
    step = max(1, n // max(1, width))
    xs = list(range(0, n, step))
    if xs and xs[-1] != n - 1:
        xs.append(n - 1)
    return xs, [float(values[i]) for i in xs]


def _clear(plot: Plot) -> None:
    plot.plt.clear_figure()
    plot.plt.xticks([], [])


def draw_equity(
    equity_plot: Plot,
    drawdown_plot: Plot,
    equity: pd.Series,
    drawdown: pd.Series,
    pal: Palette,
    benchmark: pd.Series | None = None,
) -> None:
    """Equity (and buy and hold) over the run; underneath, the drawdown in percent."""
    width = max(20, equity_plot.size.width * 2)
    _clear(equity_plot)
    _clear(drawdown_plot)
    if len(equity):
        xs, ys = thin(equity.to_numpy(), width)
        equity_plot.plt.plot(xs, ys, color=_rgb(pal.accent), marker="braille", label="equity")
        if benchmark is not None and len(benchmark) == len(equity):
            bx, by = thin(benchmark.to_numpy(), width)
            equity_plot.plt.plot(bx, by, color=_rgb(pal.muted), marker="braille", label="hold")
        dx, dy = thin((drawdown * 100).to_numpy(), width)
        drawdown_plot.plt.plot(dx, dy, color=_rgb(pal.down), marker="braille", fillx=True)
        drawdown_plot.plt.yfrequency(2)
    equity_plot.refresh()
    drawdown_plot.refresh()


def draw_curve(plot: Plot, values: pd.Series, pal: Palette) -> None:
    """One curve (walk-forward's stitched out-of-sample equity)."""
    _clear(plot)
    if len(values):
        xs, ys = thin(values.to_numpy(), max(20, plot.size.width * 2))
        plot.plt.plot(xs, ys, color=_rgb(pal.accent), marker="braille")
    plot.refresh()


def draw_candles(
    plot: Plot, frame: pd.DataFrame, marks: Sequence[Mark], pal: Palette, focus: int | None = None
) -> tuple[int, int]:
    """The candles that fit the plot, ending at `focus` (default: the last bar) plus a margin,
    with the marks that fall inside. Returns the (first, last+1) bar range drawn."""
    width = max(20, plot.size.width)
    count = max(10, (width - 12) // 2)
    n = len(frame)
    end = n if focus is None else min(n, max(focus + count // 4, count))
    begin = max(0, end - count)
    _clear(plot)
    if n:
        part = frame.iloc[begin:end]
        xs = list(range(begin, end))
        data = {
            "Open": part["open"].tolist(),
            "Close": part["close"].tolist(),
            "High": part["high"].tolist(),
            "Low": part["low"].tolist(),
        }
        plot.plt.candlestick(xs, data, colors=[_rgb(pal.up), _rgb(pal.down)])  # type: ignore[arg-type]
        for entry, marker, colour in ((True, "▲", pal.up), (False, "▼", pal.down)):
            pts = [(i, p) for i, p, e in marks if e is entry and begin <= i < end]
            if pts:
                plot.plt.scatter(
                    [i for i, _ in pts], [p for _, p in pts], marker=marker, color=_rgb(colour)
                )
    plot.refresh()
    return begin, end
