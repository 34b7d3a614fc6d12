"""What the backtest and optimize screens share: the strategy and data pickers (filled by a
worker, because discovery imports plugin files), candle loading from the store or the venue,
the status line and progress bar, and Esc = cancel the run, or close when idle.

Research always runs in this process (also when attached to a daemon): the libraries are
called in a thread worker, so the event loop keeps drawing while a run takes seconds.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Button, ProgressBar, Select, Static
from textual.worker import Worker, WorkerState

from tui_trader.core.errors import UserError
from tui_trader.ui.research.sources import VENUE_LIMIT, DataSource, all_sources, candles_frame

if TYPE_CHECKING:
    import pandas as pd

    from tui_trader.strategy.loader import StrategyInfo


class ResearchScreen(Screen[None]):
    """Base for screens that run research jobs in a cancellable thread worker."""

    DEFAULT_CSS = """
    /* A long choice ("BTC/USDT · venue history (last 2000 bars, strategy timeframe)") stays on
       one line, cut with an ellipsis; the open list shows it whole. */
    ResearchScreen Select SelectCurrent { height: 1; }
    ResearchScreen Select SelectCurrent Static#label { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """
    BINDINGS = [
        Binding("escape", "cancel_or_close", "Cancel / close", id="research_close"),
        Binding("ctrl+r", "run", "Run", id="research_run", priority=True),
    ]
    JOB_GROUP = "research"

    def __init__(self) -> None:
        super().__init__()
        self.strategies: list[StrategyInfo] = []
        self.sources: dict[str, DataSource] = {}
        self.stop = threading.Event()
        self.job: Worker[Any] | None = None
        self.choices_loaded = False

    # -- the home -------------------------------------------------------------------------

    @property
    def home(self) -> Any:
        return getattr(self.app, "home", None)

    @property
    def data_dir(self) -> Path | None:
        return Path(self.home.data_dir) if self.home is not None else None

    @property
    def strategies_dirs(self) -> list[Path]:
        return [Path(self.home.strategies_dir)] if self.home is not None else []

    @property
    def risk(self) -> Any:
        return getattr(getattr(self.app, "settings", None), "risk", None)

    # -- pickers ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False
        self.load_choices()

    @work(thread=True, exclusive=True, group="research-choices", exit_on_error=False)
    def load_choices(self) -> None:
        from tui_trader.strategy.loader import discover

        infos = discover(self.strategies_dirs)
        symbols_fn = getattr(self.app, "symbols", None)
        symbols = symbols_fn() if callable(symbols_fn) else []
        sources = all_sources(self.data_dir, symbols)
        self.app.call_from_thread(self.fill_choices, infos, sources)

    def fill_choices(self, infos: list[StrategyInfo], sources: list[DataSource]) -> None:
        self.strategies = [i for i in infos if i.ok]
        strategy = self.query_one("#strategy", Select)
        strategy.set_options((f"{i.name} ({i.timeframe or '?'})", i.name) for i in self.strategies)
        if self.strategies:
            strategy.value = self.strategies[0].name
        self.sources = {s.key: s for s in sources}
        data = self.query_one("#source", Select)
        data.set_options((s.label, s.key) for s in sources)
        active = getattr(self.app, "symbol", "")
        preferred = next((s for s in sources if s.stored), None) or next(
            (s for s in sources if s.symbol == active), None
        )
        if preferred is not None:
            data.value = preferred.key
        broken = [i for i in infos if not i.ok]
        note = f"{len(broken)} strategy file(s) failed to load: {broken[0].error}" if broken else ""
        if self.home is None:
            note = (note + "; " if note else "") + "no home folder: only bundled strategies"
        self.say(note or "ready: ctrl+r runs, Esc cancels or closes", error=bool(broken))
        self.choices_loaded = True

    def choice(self, selector: str) -> str:
        value = self.query_one(selector, Select).value
        return "" if value in (Select.NULL, Select.BLANK) else str(value)

    def source(self) -> DataSource | None:
        return self.sources.get(self.choice("#source"))

    def picked(self, no_strategy: str = "pick a strategy first") -> tuple[str, DataSource]:
        """The chosen strategy and data source, or a UserError saying which is missing."""
        strategy = self.choice("#strategy")
        if not strategy:
            raise UserError(no_strategy)
        source = self.source()
        if source is None:
            raise UserError("pick a data source first")
        return strategy, source

    # -- candles (runs in the worker thread) -----------------------------------------------

    def load_candles(
        self, source: DataSource, strategy: Any, start: Any = None, end: Any = None
    ) -> tuple[pd.DataFrame, str]:
        """The candles of `source` and their timeframe; venue history is fetched on the loop."""
        if source.stored:
            from tui_trader.ui.research.sources import load_stored

            assert self.data_dir is not None
            df = load_stored(
                self.data_dir, source, start, end, warmup=int(strategy.startup_candle_count or 0)
            )
            return df, source.timeframe
        timeframe = source.timeframe or strategy.timeframe
        candles = self.app.call_from_thread(
            self.app.client.candles,  # type: ignore[attr-defined]
            source.symbol,
            timeframe,
            VENUE_LIMIT,
        )
        return candles_frame(candles), timeframe

    # -- status, progress, cancel ----------------------------------------------------------

    def say(self, text: str, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(text)
        status.set_class(error, "error")

    def show_progress(self, done: float | None, total: float | None) -> None:
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=total, progress=done or 0)

    def hide_progress(self) -> None:
        self.query_one(ProgressBar).display = False

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def start_job(self, worker: Worker[Any]) -> None:
        self.job = worker

    @on(Button.Pressed, "#run")
    def _run_pressed(self) -> None:
        self.action_run()

    def action_run(self) -> None:
        raise NotImplementedError

    def action_cancel_or_close(self) -> None:
        if self.running:
            self.stop.set()
            assert self.job is not None
            self.job.cancel()
            self.hide_progress()
            self.say("cancelled")
        else:
            self.dismiss(None)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        from tui_trader.strategy.errors import StrategyError

        self.hide_progress()
        error = event.worker.error
        if isinstance(error, UserError | StrategyError):
            self.say(str(error), error=True)
        else:
            self.say(f"{type(error).__name__}: {error}", error=True)
            self.app.log.error(f"research job failed: {error!r}")
