"""Chart: candles for the active symbol with volume, a choice of overlays (SMA, EMA, Bollinger,
VWAP), your fills (▲ ▼) and working orders (dashed lines), zoom and scroll, and a crosshair
that reads one bar out.

Candles come from the client when the symbol or timeframe changes; in between, the live price
is folded into the forming bar. It redraws at a slow cadence (settings.ui.chart_refresh_s) or
at once after a key; drawing is chart_render.py, straight into cells and clipped to the pane.

Keys (with the chart focused, `3`): ← → move the crosshair (and scroll at the edges), + / -
zoom, Home / End oldest / live, c crosshair on or off. The mouse moves the crosshair and its
wheel zooms.
"""

from __future__ import annotations

import bisect
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from tui_trader.core.enums import OrderType
from tui_trader.ui.chart_data import bollinger, ema, fold_price, sma, timeframe_seconds, vwap
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View
from tui_trader.ui.vocabulary import TIMEFRAMES

if TYPE_CHECKING:
    from tui_trader.core.market import Candle
    from tui_trader.engine import EngineSnapshot
    from tui_trader.engine.snapshot import HoleStatus
    from tui_trader.ui.chart_render import ChartModel, Level, Marker

FetchCandles = Callable[[str, str, int], Awaitable[list["Candle"]]]
PERIOD = 20  # SMA, EMA and Bollinger length
HISTORY = 500
ZOOMS = (8, 6, 4, 3, 2, 1)  # columns per candle (+ zooms in, - zooms out)
AXIS = 11  # about the width of the price axis


class ChartCanvas(Widget, can_focus=True):
    """The drawing surface: lines handed over by the pane, cropped to the widget."""

    def __init__(self) -> None:
        super().__init__(id="chart-canvas")
        self.lines: list[Text] = []

    def render(self) -> Text:
        return Text("\n").join(self.lines) if self.lines else Text("")


class ChartPane(Pane):
    KEY = "chart"
    TITLE = "Chart"
    TAB = "Chart"

    BINDINGS = [
        Binding("left", "cursor(-1)", "Bar back", id="chart_left", show=False),
        Binding("right", "cursor(1)", "Bar forward", id="chart_right", show=False),
        Binding("plus,equals_sign", "zoom(-1)", "Zoom in", id="chart_zoom_in", show=False),
        Binding("minus", "zoom(1)", "Zoom out", id="chart_zoom_out", show=False),
        Binding("home", "jump(True)", "Oldest", id="chart_oldest", show=False),
        Binding("end", "jump(False)", "Live", id="chart_live", show=False),
        Binding("c", "crosshair", "Crosshair", id="chart_crosshair", show=False),
    ]

    def __init__(self, fetch: FetchCandles, refresh_s: float = 1.0) -> None:
        super().__init__()
        self.fetch = fetch
        self.refresh_s = refresh_s
        self.candles: list[Candle] = []
        self.loaded: tuple[str, str] | None = None  # (symbol, timeframe) of self.candles
        self.error = ""
        self.draws = 0
        self.span = ""  # time range of the candles shown
        self.holes_text = ""  # the holes among them (bars an outage left missing for good)
        self.zoom = ZOOMS.index(2)
        self.end: int | None = None  # the last bar shown (exclusive); None: follow the live bar
        self.cursor: int | None = None  # crosshair bar (index into self.candles)
        self.model: ChartModel | None = None
        self._wanted: tuple[str, str] | None = None
        self._next_draw = 0.0
        self._dirty = False
        self._view: View | None = None
        self._reloaded_at: datetime | None = None  # the live bar after a gap the history was read again for

    def compose(self) -> ComposeResult:
        yield Static(id="chart-title")
        yield ChartCanvas()

    def focus_main(self) -> None:
        self.query_one(ChartCanvas).focus()

    # -- the refresh tick --------------------------------------------------------------------

    def update_view(self, view: View) -> None:
        self._view = view
        wanted = (view.symbol, view.timeframe)
        if wanted != self._wanted:
            self._wanted = wanted
            self.error = ""
            self.end, self.cursor = None, None
            # the function, not a coroutine: a load replaced before it starts is never created
            self.run_worker(
                partial(self._load, *wanted),  # type: ignore[arg-type]  # Textual runs a partial of a coroutine function
                exclusive=True,
                group="chart-load",
            )
            self._title(view)
        if self.loaded != wanted or (not self._dirty and view.now < self._next_draw):
            return
        if not self.query_one(ChartCanvas).size.width:
            return  # not laid out yet: draw on a later tick, at the real size
        self._next_draw = view.now + self.refresh_s
        self._dirty = False
        ticker = view.snapshot.ticker(view.symbol, view.venue)
        if ticker is not None:
            self.candles = fold_price(self.candles, ticker.last, ticker.ts, view.timeframe)
            self._after_gap(wanted)
        self._draw(view)
        self._title(view)

    def redraw(self) -> None:
        """Draw now (after a key), from the last view."""
        if self._view is not None and self.loaded == self._wanted:
            self._draw(self._view)
            self._title(self._view)

    def on_resize(self) -> None:
        self._dirty = True

    def _after_gap(self, wanted: tuple[str, str]) -> None:
        """The live price opened a bar with bars missing before it (an outage: no price came):
        the venue's history is read again, once for that bar, its backfill in it by then; what
        it cannot give back is a hole, marked (`hole_marks`)."""
        if len(self.candles) < 2 or self.candles[-1].open_time == self._reloaded_at:
            return
        step = timedelta(seconds=timeframe_seconds(wanted[1]))
        if self.candles[-1].open_time - self.candles[-2].open_time > step:
            self._reloaded_at = self.candles[-1].open_time
            self.run_worker(
                partial(self._load, *wanted),  # type: ignore[arg-type]  # Textual runs a partial of a coroutine function
                exclusive=True,
                group="chart-load",
            )

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

    # -- drawing -----------------------------------------------------------------------------

    def window(self) -> tuple[int, int]:
        """(first, last+1) indices of the candles on screen."""
        n = len(self.candles)
        end = n if self.end is None else max(1, min(self.end, n))
        width = self.query_one(ChartCanvas).size.width or 80
        count = max(5, (width - AXIS) // ZOOMS[self.zoom])
        return max(0, end - count), end

    def _draw(self, view: View) -> None:
        # the drawing (its dataclasses ~2 ms to make) loads with the first candles, after the first paint
        from tui_trader.ui.chart_render import ChartModel, render, span_text

        canvas = self.query_one(ChartCanvas)
        first, end = self.window()
        shown = self.candles[first:end]
        snap = view.snapshot
        inst = snap.instrument(view.symbol, view.venue)
        holes = _holes(snap, view.symbol, view.venue, view.timeframe)
        self.model = ChartModel(
            shown,
            overlays=_overlays(self.candles, view.indicators, first, end),
            markers=_markers(snap, view.symbol, shown),
            levels=_levels(snap, view.symbol),
            cursor=None if self.cursor is None else self.cursor - first,
            decimals=inst.price_decimals if inst else 2,
            timeframe=view.timeframe,
            holes=hole_marks(holes, shown),
        )
        self.holes_text = holes_text(holes, shown, view.timeframe)
        size = canvas.size
        canvas.lines = render(self.model, size.width, size.height, view.palette, _styles(view.palette))
        canvas.refresh()
        self.span = span_text(shown, view.timeframe)
        self.draws += 1

    def _title(self, view: View) -> None:
        tfs = " ".join(f"[b reverse] {tf} [/]" if tf == view.timeframe else tf for tf in TIMEFRAMES)
        note = f"  [{view.palette.error}]{self.error}[/]" if self.error else ""
        if self.loaded != (view.symbol, view.timeframe) and not self.error:
            note = "  loading…"
        overlays = " ".join(name.upper() for name in view.indicators) or "no overlays"
        where = "" if self.end is None else f" · {len(self.candles) - self.end} bars back (End: live)"
        detail = self.span + where + self.holes_text
        if self.cursor is not None and 0 <= self.cursor < len(self.candles):
            from tui_trader.ui.chart_render import readout

            inst = view.snapshot.instrument(view.symbol, view.venue)
            detail = readout(self.candles[self.cursor], inst.price_decimals if inst else 2)
        self.set_title(f"Chart · {view.symbol}")
        self.query_one("#chart-title", Static).update(f"{tfs}  [dim]{overlays} · {detail}[/]{note}", layout=False)

    # -- keys and mouse ----------------------------------------------------------------------

    def action_cursor(self, step: int) -> None:
        n = len(self.candles)
        if not n:
            return
        first, end = self.window()
        cursor = (end - 1 if self.cursor is None else self.cursor) + (step if self.cursor is not None else 0)
        cursor = max(0, min(n - 1, cursor))
        if cursor < first:  # scroll back with the crosshair
            self.end = max(1, end - (first - cursor))
        elif cursor >= end:
            self.end = None if cursor >= n - 1 else cursor + 1
        self.cursor = cursor
        self.redraw()

    def action_zoom(self, step: int) -> None:
        """step -1 zooms in (wider candles, fewer of them), +1 out."""
        self.zoom = max(0, min(len(ZOOMS) - 1, self.zoom + step))
        self.redraw()

    def action_jump(self, oldest: bool) -> None:
        if oldest:
            self.end = min(len(self.candles), self.window()[1] - self.window()[0])
        else:
            self.end, self.cursor = None, None
        self.redraw()

    def action_crosshair(self) -> None:
        if self.cursor is None:
            self.action_cursor(0)
        else:
            self.cursor = None
            self.redraw()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        canvas = self.query_one(ChartCanvas)
        if self.model is None or event.widget is not canvas or not self.model.candles:
            return
        first, end = self.window()
        shown = end - first
        step = ZOOMS[self.zoom]
        index = first + min(shown - 1, max(0, event.x // step))
        if index != self.cursor:
            self.cursor = index
            self.redraw()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.action_zoom(-1)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self.action_zoom(1)


def _styles(pal: Palette) -> dict[str, str]:
    return {"sma": pal.warning, "ema": pal.accent, "bb_upper": pal.muted, "bb_lower": pal.muted, "vwap": pal.error}


def _overlays(candles: list[Candle], names: tuple[str, ...], first: int, end: int) -> dict[str, list[float]]:
    """Each chosen overlay over the whole history (so the first bars shown are warmed up),
    cut to the window. VWAP starts at the first bar shown."""
    if not candles or not names:
        return {}
    import numpy as np  # not before the first paint (the workstation's start)

    closes = np.array([c.close for c in candles], dtype=float)
    out: dict[str, np.ndarray] = {}
    if "sma" in names:
        out["sma"] = sma(closes, PERIOD)
    if "ema" in names:
        out["ema"] = ema(closes, PERIOD)
    if "bb" in names:
        _mid, out["bb_upper"], out["bb_lower"] = bollinger(closes, PERIOD)
    if "vwap" in names:
        part = candles[first:end]
        arrays = [np.array([getattr(c, k) for c in part], dtype=float) for k in ("high", "low", "close", "volume")]
        window = np.full(len(candles), np.nan)
        window[first:end] = vwap(*arrays)
        out["vwap"] = window
    return {name: series[first:end].tolist() for name, series in out.items()}


def _markers(snap: EngineSnapshot, symbol: str, shown: list[Candle]) -> list[Marker]:
    """Your fills of `symbol` on the bars they happened in."""
    from tui_trader.ui.chart_render import Marker

    if not shown:
        return []
    starts = [c.open_time for c in shown]
    out = []
    for f in snap.fills:
        if f.symbol != symbol or f.ts < starts[0]:
            continue
        i = bisect.bisect_right(starts, f.ts) - 1
        out.append(Marker(i, float(f.price), f.side.value == "buy"))
    return out


def _holes(snap: EngineSnapshot, symbol: str, venue: str | None, timeframe: str) -> list[HoleStatus]:
    """The venue's candle holes of this chart's series (`status --json`'s `holes`)."""
    name = snap.venue_of(symbol, venue)
    return [
        h for v in snap.venues if v.name == name for h in v.holes if h.symbol == symbol and h.timeframe == timeframe
    ]


def hole_marks(holes: list[HoleStatus], shown: list[Candle]) -> list[int]:
    """The index of the first bar after each hole among `shown`, where no bar lies in the hole
    (a chart loaded later may have them from the venue after all: nothing to mark then)."""
    starts = [c.open_time for c in shown]
    out = []
    for h in holes:
        i = bisect.bisect_left(starts, h.end)
        if 0 < i < len(starts) and starts[i - 1] < h.start:
            out.append(i)
    return out


def holes_text(holes: list[HoleStatus], shown: list[Candle], timeframe: str) -> str:
    """" · hole 14:05-14:40 (not in the venue's history)" for the holes within the bars shown."""
    from tui_trader.ui.chart_render import time_format

    if not shown:
        return ""
    fmt = time_format(shown, timeframe)
    within = [h for h in holes if h.end > shown[0].open_time and h.start <= shown[-1].open_time]
    spans = ", ".join(f"{h.start:{fmt}}-{h.end:{fmt}}" for h in within)
    return f" · [b]hole {spans}[/b] (not in the venue's history)" if within else ""


def _levels(snap: EngineSnapshot, symbol: str) -> list[Level]:
    """Working orders of `symbol`: their limit (or stop) price."""
    from tui_trader.ui.chart_render import Level

    out = []
    for o in snap.open_orders:
        price = o.price if o.type is not OrderType.STOP and o.price is not None else o.stop_price
        if o.symbol == symbol and price is not None:
            label = f" {o.side.value} {o.quantity.normalize():f} {o.type.value}"
            out.append(Level(float(price), o.side.value == "buy", label))
    return out
