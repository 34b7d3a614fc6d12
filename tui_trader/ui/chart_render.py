"""Candles drawn straight into terminal cells: half-block bodies and wicks, volume bars in
eighths, overlays, trade markers (▲ buy, ▼ sell), working-order lines, a crosshair, a price
axis on the right and a time axis with dates underneath.

Pure (rich Text only, no Textual): the live chart pane and the research screens share it, and
a frame costs one pass over the visible cells. Everything is clipped to the given width and
height, so nothing spills into the next pane.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from tui_trader.ui.theme import Palette

if TYPE_CHECKING:
    from tui_trader.core.market import Candle

EIGHTHS = " ▁▂▃▄▅▆▇█"


@dataclass(frozen=True, slots=True)
class Marker:
    index: int  # bar index within the candles drawn
    price: float
    buy: bool


@dataclass(frozen=True, slots=True)
class Level:
    """A horizontal line: a working order's price (buy or sell) or any other level."""

    price: float
    buy: bool
    label: str = ""


@dataclass(slots=True)
class ChartModel:
    candles: Sequence[Candle]
    overlays: Mapping[str, Sequence[float]] = field(default_factory=dict)  # name -> one value per candle
    markers: Sequence[Marker] = ()
    levels: Sequence[Level] = ()
    cursor: int | None = None  # crosshair on this bar index
    decimals: int = 2
    timeframe: str = "1m"
    holes: Sequence[int] = ()  # bar indices just after a hole: bars an outage left missing for good


class Grid:
    """width x height cells of (character, style)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.chars = [[" "] * width for _ in range(height)]
        self.styles = [[""] * width for _ in range(height)]

    def put(self, x: int, y: int, char: str, style: str = "", *, over: bool = True) -> None:
        if 0 <= x < self.width and 0 <= y < self.height and (over or self.chars[y][x] == " "):
            self.chars[y][x] = char
            self.styles[y][x] = style

    def text(self, x: int, y: int, text: str, style: str = "") -> None:
        for i, ch in enumerate(text):
            self.put(x + i, y, ch, style)

    def lines(self) -> list[Text]:
        out = []
        for chars, styles in zip(self.chars, self.styles, strict=True):
            line = Text(no_wrap=True, overflow="crop", end="")
            run_start = 0
            for x in range(1, len(chars) + 1):
                if x == len(chars) or styles[x] != styles[run_start]:
                    line.append("".join(chars[run_start:x]), styles[run_start] or None)
                    run_start = x
            out.append(line)
        return out


def price_label(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def time_format(candles: Sequence[Candle], timeframe: str) -> str:
    """Labels with the date when the bars span more than a day, or the timeframe is daily."""
    if timeframe.endswith(("d", "w")):
        return "%Y-%m-%d"
    if not candles:
        return "%H:%M"
    span = candles[-1].open_time - candles[0].open_time
    several_days = span.days >= 1 or candles[0].open_time.date() != candles[-1].open_time.date()
    return "%m-%d %H:%M" if several_days else "%H:%M"


def span_text(candles: Sequence[Candle], timeframe: str) -> str:
    """`01-05 14:00 → 01-06 02:00` (dates whenever they differ or the bars are daily)."""
    if not candles:
        return ""
    fmt = time_format(candles, timeframe)
    return f"{_stamp(candles[0].open_time, fmt)} → {_stamp(candles[-1].open_time, fmt)}"


def _stamp(ts: datetime, fmt: str) -> str:
    return ts.strftime(fmt)


def readout(candle: Candle, decimals: int) -> str:
    """One bar in words: time, open, high, low, close, volume."""
    p = lambda v: price_label(v, decimals)  # noqa: E731
    return (
        f"{candle.open_time:%Y-%m-%d %H:%M} O {p(candle.open)} H {p(candle.high)} "
        f"L {p(candle.low)} C {p(candle.close)} V {_compact(candle.volume)}"
    )


def _compact(value: float) -> str:
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= div:
            return f"{value / div:.1f}{suffix}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"


def render(  # one pass per layer, in drawing order
    model: ChartModel, width: int, height: int, pal: Palette, overlay_styles: dict[str, str]
) -> list[Text]:
    """The chart as `height` lines of exactly `width` cells."""
    width, height = max(width, 10), max(height, 4)
    grid = Grid(width, height)
    candles = list(model.candles)
    if not candles:
        grid.text(1, height // 2, "no candles yet"[: width - 2], pal.muted)
        return grid.lines()
    nd = model.decimals
    levels = list(model.levels)
    lo = min(c.low for c in candles)
    hi = max(c.high for c in candles)
    for values in model.overlays.values():
        finite = [v for v in values if v is not None and math.isfinite(v)]
        if finite:
            lo, hi = min(lo, min(finite)), max(hi, max(finite))
    span = hi - lo or max(abs(hi) * 0.001, 10.0**-nd)
    # Working orders near the range widen it (so they show); far ones sit at the edge.
    near = [lv for lv in levels if lo - span <= lv.price <= hi + span]
    for lv in near:
        lo, hi = min(lo, lv.price), max(hi, lv.price)
    pad = (hi - lo) * 0.04 or span * 0.04
    lo, hi = lo - pad, hi + pad
    axis_w = max(len(price_label(hi, nd)), len(price_label(lo, nd))) + 1
    plot_w = max(width - axis_w, 4)
    time_h = 1
    vol_h = max(1, min(6, (height - time_h) // 5)) if height >= 10 else 0
    price_h = height - time_h - vol_h
    n = len(candles)
    step = max(1, plot_w // max(n, 1))
    shown = min(n, plot_w // step)
    candles = candles[-shown:]
    first = n - shown  # index of candles[0] in the model's candles

    def col(i: int) -> int:  # i: index into the visible candles
        return i * step + (step - 1) // 2

    def subrow(price: float) -> float:  # 0 = top of the plot, 2*price_h-1 = bottom
        return (hi - price) / (hi - lo) * (2 * price_h - 1)

    def row(price: float) -> int:
        return max(0, min(price_h - 1, int(subrow(price) // 2)))

    # Levels first (under everything else), then the crosshair, candles, overlays, markers.
    for lv in levels:
        style = pal.up if lv.buy else pal.down
        if lo <= lv.price <= hi:
            y = row(lv.price)
            for x in range(plot_w):
                grid.put(x, y, "╌", style)
            grid.text(plot_w, y, f" {price_label(lv.price, nd)}"[: axis_w + 1], f"reverse {style}")
        else:
            y = 0 if lv.price > hi else price_h - 1
            arrow = "↑" if lv.price > hi else "↓"
            grid.text(max(0, plot_w - len(lv.label) - 2), y, f"{arrow}{lv.label}", style)
    holes = [i for i in (h - first for h in model.holes) if 0 <= i < shown]
    for i in holes:  # a dotted column between the bars either side, under the candles
        hx = max(0, col(i) - (step + 1) // 2) if step >= 2 else col(i)
        for y in range(price_h + vol_h):
            grid.put(hx, y, "┊", pal.warning)
    cursor = None if model.cursor is None else model.cursor - first
    if cursor is not None and 0 <= cursor < shown:
        cx = col(cursor)
        for y in range(price_h + vol_h):
            grid.put(cx, y, "┆", pal.muted)
        cy = row(candles[cursor].close)
        for x in range(plot_w):
            grid.put(x, cy, "┄", pal.muted, over=False)
    for i, c in enumerate(candles):
        x = col(i)
        style = pal.up if c.close >= c.open else pal.down
        top, bottom = subrow(max(c.open, c.close)), subrow(min(c.open, c.close))
        for y in range(row(c.high), row(c.low) + 1):
            grid.put(x, y, "│", style)
        b0, b1 = int(top), max(int(top), int(bottom))
        halves: dict[int, set[int]] = {}
        for sub in range(b0, b1 + 1):  # two half cells per row
            halves.setdefault(sub // 2, set()).add(sub % 2)
        for y, got in halves.items():
            grid.put(x, y, "█" if len(got) == 2 else ("▀" if 0 in got else "▄"), style)
    for name, values in model.overlays.items():
        style = overlay_styles.get(name, pal.accent)
        part = list(values)[-shown:]
        for i, v in enumerate(part):
            if v is not None and math.isfinite(v) and lo <= v <= hi:
                grid.put(col(i), row(v), "·", style, over=False)
                if step >= 2:
                    grid.put(col(i) + 1, row(v), "·", style, over=False)
    for m in model.markers:
        i = m.index - first
        if 0 <= i < shown:
            c = candles[i]
            if m.buy:
                y = min(price_h - 1, row(c.low) + 1)
                grid.put(col(i), y, "▲", f"bold {pal.up}")
            else:
                y = max(0, row(c.high) - 1)
                grid.put(col(i), y, "▼", f"bold {pal.down}")
    for i in holes:  # its word at the top, where the candles leave room
        hx = max(0, col(i) - (step + 1) // 2) if step >= 2 else col(i)
        for k, ch in enumerate("hole"):
            if hx + 1 + k < plot_w:
                grid.put(hx + 1 + k, 0, ch, f"bold {pal.warning}", over=False)
    # The price axis: about one label every 4 rows, top and bottom included.
    ticks = max(2, price_h // 4)
    for k in range(ticks + 1):
        y = round(k * (price_h - 1) / ticks)
        price = hi - (y * 2 + 0.5) / (2 * price_h - 1) * (hi - lo)
        if all(grid.chars[y][x] == " " for x in range(plot_w, min(width, plot_w + 2))):
            grid.text(plot_w, y, f" {price_label(price, nd)}"[: axis_w + 1], pal.muted)
    if cursor is not None and 0 <= cursor < shown:
        c = candles[cursor]
        grid.text(plot_w, row(c.close), f" {price_label(c.close, nd)}"[: axis_w + 1], f"reverse {pal.accent}")
    # Volume in eighths of a cell, coloured like its candle, dimmed.
    if vol_h:
        top_vol = max((c.volume for c in candles), default=0.0) or 1.0
        for i, c in enumerate(candles):
            eighths = round(c.volume / top_vol * vol_h * 8)
            style = f"dim {pal.up if c.close >= c.open else pal.down}"
            for k in range(vol_h):
                fill = max(0, min(8, eighths - k * 8))
                if fill:
                    grid.put(col(i), price_h + vol_h - 1 - k, EIGHTHS[fill], style)
        grid.text(plot_w, price_h + vol_h - 1, f" {_compact(top_vol)}"[: axis_w + 1], pal.muted)
    # The time axis: labels where they fit, none overlapping.
    fmt = time_format(candles, model.timeframe)
    label_w = len(_stamp(candles[0].open_time, fmt))
    every = max(1, math.ceil((label_w + 2) / step))
    y, free_from = height - 1, 0
    for i in range(0, shown, every):
        x = col(i)
        if x >= free_from and x + label_w <= plot_w:
            grid.text(x, y, _stamp(candles[i].open_time, fmt), pal.muted)
            free_from = x + label_w + 2
    return grid.lines()


def area_chart(values: Sequence[float], width: int, height: int, style: str, label_style: str) -> list[Text]:
    """A filled curve in eighths of a cell (the equity curve): one column per slice of the
    values (its last value), scaled between their low and high, labelled on the right."""
    width, height = max(width, 12), max(height, 1)
    grid = Grid(width, height)
    if not values:
        return grid.lines()
    decimals = 0 if max(abs(min(values)), abs(max(values))) >= 1000 else 2
    lo_label, hi_label = f" {min(values):,.{decimals}f}", f" {max(values):,.{decimals}f}"
    plot_w = width - max(len(lo_label), len(hi_label))
    n = len(values)
    cols = [values[min(n - 1, (x + 1) * n // plot_w - 1)] for x in range(plot_w)] if n >= plot_w else list(values)
    lo, hi = min(values), max(values)
    rng = hi - lo or 1.0
    for x, v in enumerate(cols):
        eighths = 1 + round((v - lo) / rng * (height * 8 - 1))
        for k in range(height):
            fill = max(0, min(8, eighths - k * 8))
            if fill:
                grid.put(x, height - 1 - k, EIGHTHS[fill], style)
    grid.text(plot_w, 0, hi_label, label_style)
    if height > 1:
        grid.text(plot_w, height - 1, lo_label, label_style)
    return grid.lines()
