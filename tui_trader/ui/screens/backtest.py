"""The backtest screen: pick strategy, data and range; a progress bar while it runs; then the
metrics, equity and drawdown, the trade list, and the trades marked on the candle chart.

Data: stored datasets (CandleStore) or, for a new user without any, the connected venue's
history (the paper venue serves it). Esc cancels a run (its result is dropped) or closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import (
    Button,
    DataTable,
    Input,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import get_current_worker

from tui_trader.core.errors import UserError
from tui_trader.ui import format as fmt
from tui_trader.ui.research.base import ResearchScreen
from tui_trader.ui.research.cells import METRICS, cell
from tui_trader.ui.research.charts import CellPlot, Mark, draw_candles, draw_equity
from tui_trader.ui.research.sources import DataSource, parse_day

if TYPE_CHECKING:
    import pandas as pd

    from tui_trader.backtest import BacktestResult

STEPS = 3  # strategy, candles, simulation


@dataclass(frozen=True)
class BacktestRequest:
    """What the form asked for (validated on the UI thread before the worker starts)."""

    strategy: str
    source: DataSource
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    capital: float
    fee: float


def _number(text: str, what: str, low: float, high: float | None = None) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{what} {text!r} is not a number") from None
    if value < low or (high is not None and value > high):
        raise UserError(f"{what} must be between {low:g} and {high:g}" if high else f"{what} must be at least {low:g}")
    return value


def trade_marks(result: BacktestResult, symbol: str) -> list[Mark]:
    """Entries and exits as (bar index in the analyzed frame, price, is_entry)."""
    import numpy as np

    frame = result.frames.get(symbol)
    trades = result.trades[result.trades["symbol"] == symbol] if len(result.trades) else result.trades
    if frame is None or not len(trades):
        return []
    dates = frame["date"].to_numpy()
    marks: list[Mark] = []
    for col, price, entry in (("entry_time", "entry_price", True), ("exit_time", "exit_price", False)):
        times = trades[col].to_numpy().astype(dates.dtype)
        idx = np.clip(np.searchsorted(dates, times, side="right") - 1, 0, len(dates) - 1)
        marks.extend((int(i), float(p), entry) for i, p in zip(idx, trades[price], strict=True))
    return marks


class BacktestScreen(ResearchScreen):
    """F5: run one backtest locally and read it (see docs/tui.md, Research screens)."""

    DEFAULT_CSS = """
    BacktestScreen { layout: vertical; }
    BacktestScreen #form { height: auto; }
    BacktestScreen #form Select { width: 1fr; }
    BacktestScreen #form Input { width: 14; }
    BacktestScreen #status { height: 1; padding: 0 1; }
    BacktestScreen #status.error { color: $error; text-style: bold; }
    BacktestScreen ProgressBar { height: 1; padding: 0 1; }
    BacktestScreen #results { height: 1fr; }
    BacktestScreen #metrics { width: 34; height: 1fr; }
    BacktestScreen #equity { height: 2fr; }
    BacktestScreen #drawdown { height: 1fr; min-height: 5; }
    BacktestScreen #candles { height: 1fr; }
    BacktestScreen #trades { height: 1fr; }
    BacktestScreen TabbedContent, BacktestScreen TabPane { width: 1fr; height: 1fr; padding: 0; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.result: BacktestResult | None = None
        self.marks: list[Mark] = []
        self.chart_range: tuple[int, int] = (0, 0)  # bars shown on the candle chart
        self.focus_bar: int | None = None  # the chart ends near this bar (the chosen trade)

    def compose(self) -> ComposeResult:
        yield Static("[b]Backtest[/]  ctrl+r run · Esc cancel/close · a trade row shows it on the chart", id="title")
        with Horizontal(id="form"):
            yield Select([], prompt="strategy", id="strategy", compact=True)
            yield Select([], prompt="data", id="source", compact=True)
            yield Input(placeholder="start YYYY-MM-DD", id="start", compact=True)
            yield Input(placeholder="end", id="end", compact=True)
            yield Input("10000", placeholder="capital", id="capital", compact=True)
            yield Input("0.001", placeholder="fee", id="fee", compact=True)
            yield Button("Run", id="run", compact=True, variant="primary")
        yield ProgressBar(total=STEPS, show_eta=False, id="progress")
        yield Static("loading strategies…", id="status")
        with Horizontal(id="results"):
            yield DataTable(id="metrics", cursor_type="none", zebra_stripes=True)
            with TabbedContent(id="views"):
                with TabPane("Equity", id="tab-equity"), Vertical():
                    yield CellPlot(id="equity")
                    yield CellPlot(id="drawdown")
                with TabPane("Trades", id="tab-trades"):
                    yield DataTable(id="trades", cursor_type="row", zebra_stripes=True)
                with TabPane("Chart", id="tab-chart"):
                    yield CellPlot(id="candles")

    def on_mount(self) -> None:
        super().on_mount()
        metrics = self.query_one("#metrics", DataTable)  # fixed widths: "max drawdown duration", "62d 1h 0m"
        metrics.add_column("Metric", width=21)
        metrics.add_column("Value", width=9)
        self.query_one("#trades", DataTable).add_columns(
            "#", "Entry", "Exit", "Side", "Entry px", "Exit px", "P&L", "P&L %", "Reason"
        )

    # -- run --------------------------------------------------------------------------------

    def request(self) -> BacktestRequest:
        strategy, source = self.picked("pick a strategy first (none found? see `tui-trader strategies list`)")
        start = parse_day(self.query_one("#start", Input).value, "start")
        end = parse_day(self.query_one("#end", Input).value, "end")
        if start is not None and end is not None and end <= start:
            raise UserError("end must be after start")
        capital = _number(self.query_one("#capital", Input).value, "capital", 1)
        fee = _number(self.query_one("#fee", Input).value, "fee", 0, 0.1)
        return BacktestRequest(strategy, source, start, end, capital, fee)

    def action_run(self) -> None:
        if self.running:
            self.say("a backtest is running: Esc cancels it")
            return
        try:
            req = self.request()
        except UserError as exc:
            self.say(str(exc), error=True)
            return
        self.stop.clear()
        self.show_progress(0, STEPS)
        self.say(f"running {req.strategy} on {req.source.symbol}…")
        self.start_job(self.run_job(req))

    @work(thread=True, exclusive=True, exit_on_error=False, group="backtest")
    def run_job(self, req: BacktestRequest) -> BacktestResult | None:
        from tui_trader.backtest import run_backtest
        from tui_trader.strategy.loader import load_strategy

        worker = get_current_worker()
        strategy = load_strategy(req.strategy, self.strategies_dirs)
        self.app.call_from_thread(self.show_progress, 1, STEPS)
        df, timeframe = self.load_candles(req.source, strategy, req.start, req.end)
        if worker.is_cancelled:
            return None
        if not len(df):
            raise UserError(f"no candles for {req.source.symbol} in that range")
        self.app.call_from_thread(self.show_progress, 2, STEPS)
        result = run_backtest(
            strategy,
            {req.source.symbol: df},
            timeframe=timeframe,
            capital=req.capital,
            fee=req.fee,
            start=req.start,
            end=req.end,
            risk=self.risk,  # the live [risk] sizing and protections, as the CLI does
        )
        if worker.is_cancelled:
            return None
        self.app.call_from_thread(self.show_result, result)
        return result

    # -- results ----------------------------------------------------------------------------

    def show_result(self, result: BacktestResult) -> None:
        self.result = result
        self.focus_bar = None
        symbol = result.symbols[0]
        self.marks = trade_marks(result, symbol)
        self.show_progress(STEPS, STEPS)
        self.hide_progress()
        m = result.metrics
        self.say(
            f"{result.strategy} · {symbol} · {result.timeframe} · "
            f"{result.start:%Y-%m-%d %H:%M} → {result.end:%Y-%m-%d %H:%M} · "
            f"{m.get('trades', 0)} trades · return {cell('total_return', m.get('total_return'))}"
        )
        metrics = self.query_one("#metrics", DataTable)
        metrics.clear()
        for key in METRICS:
            if key in m:
                metrics.add_row(key.replace("_", " "), cell(key, m[key]), key=key)
        trades = self.query_one("#trades", DataTable)
        trades.clear()
        for i, t in enumerate(result.trades.itertuples()):
            trades.add_row(
                str(i + 1),
                f"{t.entry_time:%m-%d %H:%M}",
                f"{t.exit_time:%m-%d %H:%M}",
                str(t.side),
                fmt.price(t.entry_price),
                fmt.price(t.exit_price),
                fmt.money(t.pnl, signed=True),
                cell("pnl_pct", t.pnl_pct),
                str(t.exit_reason),
                key=str(i),
            )
        self.call_after_refresh(self.redraw)

    def redraw(self) -> None:
        result = self.result
        if result is None:
            return
        pal = self.app.palette  # type: ignore[attr-defined]
        draw_equity(
            self.query_one("#equity", CellPlot),
            self.query_one("#drawdown", CellPlot),
            result.equity,
            result.drawdown,
            pal,
            result.benchmark,
        )
        frame = result.frames.get(result.symbols[0])
        if frame is not None:
            focus = self.focus_bar
            if focus is None and self.marks:
                focus = max(i for i, _, _ in self.marks)
            self.chart_range = draw_candles(
                self.query_one("#candles", CellPlot), frame, self.marks, pal, focus
            )

    @on(DataTable.RowHighlighted, "#trades")
    def _trade_highlighted(self, event: DataTable.RowHighlighted) -> None:
        entries = [i for i, _, e in self.marks if e]
        row = int(event.row_key.value or 0)
        if self.result is not None and row < len(entries):
            exits = [i for i, _, e in self.marks if not e]
            self.focus_bar = exits[row] if row < len(exits) else entries[row]
            self.redraw()

    def on_resize(self) -> None:
        self.call_after_refresh(self.redraw)


__all__ = ["BacktestRequest", "BacktestScreen", "trade_marks"]
