"""Chart: candles for the active symbol (plotext), volume, EMA and Bollinger overlays.

Candles come from the client when the symbol or timeframe changes; in between, the live price
is folded into the forming bar. It redraws at a slow cadence (settings.ui.chart_refresh_s),
because a plotext build costs milliseconds, not microseconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from tui_trader.core.market import Candle
from tui_trader.ui.chart_data import bollinger, ema, fold_price
from tui_trader.ui.commandline import TIMEFRAMES
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View

FetchCandles = Callable[[str, str, int], Awaitable[list[Candle]]]
EMA_PERIOD = 20
BB_PERIOD = 20
HISTORY = 300


class Plot(PlotextPlot):
    """A PlotextPlot whose output has its same-style runs merged.

    plotext's ANSI output can style blank cells differently from one process to the next
    (set ordering); normalising them makes the rendering, and so the screenshots, stable.
    """

    def render(self) -> Text:
        text = super().render()
        assert isinstance(text, Text)
        # Blank cells keep only their background: plotext gives spaces arbitrary foregrounds.
        cleaned = (
            Segment(
                seg.text,
                Style(bgcolor=seg.style.bgcolor) if seg.style and seg.text.isspace() else seg.style,
            )
            for seg in text.render(self.app.console)
        )
        merged = Text(end="", no_wrap=True)
        for segment in Segment.simplify(cleaned):
            merged.append(segment.text, segment.style)
        return merged


def _rgb(colour: str) -> tuple[int, int, int]:
    return Color.parse(colour).rgb


def _labels(candles: list[Candle], timeframe: str) -> list[str]:
    fmt = "%m-%d" if timeframe.endswith("d") else "%H:%M"
    return [c.open_time.strftime(fmt) for c in candles]


class ChartPane(Pane):
    KEY = "chart"
    TITLE = "Chart"
    TAB = "Chart"

    def __init__(self, fetch: FetchCandles, refresh_s: float = 1.0) -> None:
        super().__init__()
        self.fetch = fetch
        self.refresh_s = refresh_s
        self.candles: list[Candle] = []
        self.loaded: tuple[str, str] | None = None  # (symbol, timeframe) of self.candles
        self.error = ""
        self.draws = 0
        self.span = ""  # time range of the candles shown
        self._wanted: tuple[str, str] | None = None
        self._next_draw = 0.0
        self._dirty = False

    def compose(self) -> ComposeResult:
        yield Static(id="chart-title")
        with Vertical(id="chart-plots"):
            yield Plot(id="chart-price")
            yield Plot(id="chart-volume")

    def update_view(self, view: View) -> None:
        wanted = (view.symbol, view.timeframe)
        if wanted != self._wanted:
            self._wanted = wanted
            self.error = ""
            self.run_worker(self._load(*wanted), exclusive=True, group="chart-load")
            self._title(view)
        if self.loaded != wanted or (not self._dirty and view.now < self._next_draw):
            return
        if not self.query_one("#chart-price", PlotextPlot).size.width:
            return  # not laid out yet: draw on a later tick, at the real size
        self._next_draw = view.now + self.refresh_s
        self._dirty = False
        ticker = view.snapshot.ticker(view.symbol, view.venue)
        if ticker is not None:
            self.candles = fold_price(self.candles, ticker.last, ticker.ts, view.timeframe)
        self._draw(view.palette, view.timeframe)
        self._title(view)

    def on_resize(self) -> None:
        self._dirty = True  # the number of candles shown depends on the width

    async def _load(self, symbol: str, timeframe: str) -> None:
        try:
            candles = await self.fetch(symbol, timeframe, HISTORY)
        except Exception as exc:  # a venue without history must not break the screen
            self.error = f"no candles: {exc}"
            candles = []
        if self._wanted != (symbol, timeframe):
            return
        self.candles = candles
        self.loaded = (symbol, timeframe)
        self._dirty = True

    def _title(self, view: View) -> None:
        tfs = " ".join(f"[b reverse] {tf} [/]" if tf == view.timeframe else tf for tf in TIMEFRAMES)
        note = f"  [{view.palette.error}]{self.error}[/]" if self.error else ""
        if self.loaded != (view.symbol, view.timeframe) and not self.error:
            note = "  loading…"
        self.set_title(f"Chart · {view.symbol}")
        self.query_one("#chart-title", Static).update(
            f"{tfs}  [dim]EMA{EMA_PERIOD} BB{BB_PERIOD} {self.span}[/]{note}", layout=False
        )

    def _draw(self, pal: Palette, timeframe: str) -> None:
        price_plot = self.query_one("#chart-price", PlotextPlot)
        volume_plot = self.query_one("#chart-volume", PlotextPlot)
        width = max(20, price_plot.size.width)
        shown = self.candles[-max(10, (width - 12) // 2) :]
        plt, vplt = price_plot.plt, volume_plot.plt
        plt.clear_figure()
        vplt.clear_figure()
        if not shown:
            price_plot.refresh()
            volume_plot.refresh()
            return
        # Overlays use the full history so the first visible values are already warmed up.
        closes = np.array([c.close for c in self.candles], dtype=float)
        offset = len(self.candles) - len(shown)
        xs = list(range(len(shown)))
        data = {
            "Open": [c.open for c in shown],
            "Close": [c.close for c in shown],
            "High": [c.high for c in shown],
            "Low": [c.low for c in shown],
        }
        # textual-plotext's stub says date strings; plotext also takes numeric x positions.
        plt.candlestick(xs, data, colors=[_rgb(pal.up), _rgb(pal.down)])  # type: ignore[arg-type]
        _mid, upper, lower = bollinger(closes, BB_PERIOD)
        for series, colour in (
            (ema(closes, EMA_PERIOD), pal.accent),
            (upper, pal.muted),
            (lower, pal.muted),
        ):
            part = series[offset:]
            ok = ~np.isnan(part)
            if ok.any():
                plt.plot(
                    [x for x, keep in zip(xs, ok, strict=True) if keep],
                    part[ok].tolist(),
                    color=_rgb(colour),
                    marker="braille",
                )
        # Time labels go in the title line: plotext's own tick placement is not stable run to run.
        plt.xticks([], [])
        labels = _labels(shown, timeframe)
        self.span = f"{labels[0]} → {labels[-1]}"
        vols = [c.volume for c in shown]
        vplt.bar(xs, vols, color=_rgb(pal.muted), marker="sd")
        vplt.xticks([], [])
        vplt.yfrequency(2)
        price_plot.refresh()
        volume_plot.refresh()
        self.draws += 1
