"""The strategy builder: write a rule-based TOML strategy with the indicator and operator
choices listed, errors shown inline as you type, a preview of its signals on recent candles,
and save to HOME/strategies/<name>.toml (where the loader and hot reload find it).

Validation is `validate_rules` (pure, a millisecond) run 0.3 s after the last keystroke; the
preview compiles the text and runs `analyze` in a thread worker on the venue's last 500 bars.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, DataTable, Select, Static, TextArea
from textual.worker import Worker, WorkerState

from tui_trader.core.errors import UserError
from tui_trader.ui.research.charts import CellPlot, Mark, draw_candles
from tui_trader.ui.research.sources import candles_frame

if TYPE_CHECKING:
    import pandas as pd

    from tui_trader.strategy.rules import RuleError

PREVIEW_BARS = 500
VALIDATE_DELAY = 0.3
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
OPERATORS = ">  <  >=  <=  crosses_above  crosses_below   groups: all = [...]  any = [...]"
TEMPLATE = """\
[strategy]
name = "my_rules"
timeframe = "5m"
stoploss = -0.05
minimal_roi = { "0" = 0.04 }

[indicators]
rsi_14 = { fn = "RSI", timeperiod = 14 }
ema_50 = { fn = "EMA", timeperiod = 50 }

[entry]
all = ["rsi_14 crosses_above 30", "close > ema_50"]

[exit]
any = ["rsi_14 > 70"]
"""


def rule_name(text: str) -> str | None:
    """`[strategy] name` of a rule text, or None when it cannot be read."""
    try:
        name = tomllib.loads(text).get("strategy", {}).get("name")
    except tomllib.TOMLDecodeError:
        return None
    return name if isinstance(name, str) else None


def indicator_line(name: str, parameters: dict[str, Any]) -> str:
    """A ready [indicators] line for `name` with its default parameters."""
    period = parameters.get("timeperiod")
    key = f"{name.lower()}_{period}" if period is not None else name.lower()
    args = "".join(f", {k} = {v!r}" if isinstance(v, str) else f", {k} = {v}" for k, v in parameters.items())
    return f'{key} = {{ fn = "{name}"{args} }}'.replace("'", '"')


def signal_marks(frame: pd.DataFrame) -> list[Mark]:
    """enter_long / exit_long rows of an analyzed frame as chart marks (at the close)."""
    marks: list[Mark] = []
    for col, entry in (("enter_long", True), ("exit_long", False), ("enter_short", True), ("exit_short", False)):
        if col in frame:
            for i in frame.index[frame[col].to_numpy() == 1]:
                marks.append((int(i), float(frame["close"].iloc[i]), entry))
    return marks


class RuleBuilderScreen(Screen[None]):
    """F7: create or edit a rule-based strategy."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="rule_builder_close"),
        Binding("ctrl+s", "save", "Save", id="rule_builder_save", priority=True),
        Binding("ctrl+r", "preview", "Preview", id="rule_builder_preview", priority=True),
        Binding("ctrl+e", "add_to_config", "Add to config", id="rule_builder_config", priority=True),
    ]
    DEFAULT_CSS = """
    RuleBuilderScreen { layout: vertical; }
    RuleBuilderScreen #main { height: 1fr; }
    RuleBuilderScreen #editor { width: 1fr; height: 1fr; }
    RuleBuilderScreen #side { width: 46; height: 1fr; }
    RuleBuilderScreen #indicators { height: 1fr; }
    RuleBuilderScreen #operators { height: auto; padding: 0 1; color: $text-muted; }
    RuleBuilderScreen #errors { height: auto; max-height: 8; padding: 0 1; color: $error; }
    RuleBuilderScreen #errors.ok { color: $success; }
    RuleBuilderScreen #bar { height: auto; }
    RuleBuilderScreen #bar Select { width: 24; }
    RuleBuilderScreen #status { height: auto; padding: 0 1; }
    RuleBuilderScreen #status.error { color: $error; text-style: bold; }
    RuleBuilderScreen #preview { height: 12; }
    """

    def __init__(self, text: str | None = None, path: Path | None = None) -> None:
        super().__init__()
        self.initial = text if text is not None else (path.read_text(encoding="utf-8") if path else TEMPLATE)
        self.errors: list[RuleError] = []
        self.preview_frame: pd.DataFrame | None = None
        self.marks: list[Mark] = []
        self.saved: Path | None = None
        self._timer: Timer | None = None
        self._indicators: dict[str, Any] = {}

    @property
    def strategies_dir(self) -> Path | None:
        home = getattr(self.app, "home", None)
        return Path(home.strategies_dir) if home is not None else None

    def compose(self) -> ComposeResult:
        yield Static(
            "[b]Strategy builder[/]  ctrl+r preview · ctrl+s save · ctrl+e add to config.toml · Esc close", id="title"
        )
        with Horizontal(id="main"):
            yield TextArea(self.initial, language="toml", id="editor", show_line_numbers=True)
            with Vertical(id="side"):
                yield DataTable(id="indicators", cursor_type="row", zebra_stripes=True)
                yield Static(
                    f"[b]operators[/] {OPERATORS}\nEnter on an indicator adds it at the cursor",
                    id="operators",
                )
        yield Static("", id="errors")
        with Horizontal(id="bar"):
            yield Select([], prompt="preview symbol", id="symbol", compact=True)
            yield Button("Preview", id="preview-button", compact=True)
            yield Button("Save", id="save-button", compact=True, variant="primary")
        yield Static("", id="status")
        yield CellPlot(id="preview")

    def on_mount(self) -> None:
        from tui_trader.indicators import list_indicators

        table = self.query_one("#indicators", DataTable)
        table.add_columns("Indicator", "Group", "Parameters")
        for info in list_indicators():
            if info.lookahead and len(info.lookahead) == len(info.outputs):
                continue  # never usable for signals
            self._indicators[info.name] = info
            params = " ".join(f"{k}={v}" for k, v in info.parameters.items())
            table.add_row(info.name, info.group.replace(" Indicators", ""), params, key=info.name)
        symbols_fn = getattr(self.app, "symbols", None)
        symbols = symbols_fn() if callable(symbols_fn) else []
        select = self.query_one("#symbol", Select)
        select.set_options((s, s) for s in symbols)
        active = getattr(self.app, "symbol", "")
        if active in symbols or symbols:
            select.value = active if active in symbols else symbols[0]
        if self.strategies_dir is None:
            self.query_one("#save-button", Button).disabled = True
            self.say("no home folder: saving is disabled (start with --home DIR)", error=True)
        self.validate()

    # -- validation -------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.query_one("#editor", TextArea).text

    @on(TextArea.Changed, "#editor")
    def _edited(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(VALIDATE_DELAY, self.validate)

    def validate(self) -> list[RuleError]:
        from tui_trader.strategy.rules import validate_rules

        self.errors = validate_rules(self.text)
        box = self.query_one("#errors", Static)
        box.set_class(not self.errors, "ok")
        if self.errors:
            box.update("\n".join(f"✗ {e}" for e in self.errors[:8]))
        else:
            box.update(f"✓ valid: {rule_name(self.text)}")
        return self.errors

    @on(DataTable.RowSelected, "#indicators")
    def _insert_indicator(self, event: DataTable.RowSelected) -> None:
        info = self._indicators.get(str(event.row_key.value))
        if info is None:
            return
        editor = self.query_one("#editor", TextArea)
        row = editor.cursor_location[0]
        editor.insert(indicator_line(info.name, info.parameters) + "\n", (row, 0))
        editor.focus()

    # -- preview ----------------------------------------------------------------------------

    @on(Button.Pressed, "#preview-button")
    def _preview_pressed(self) -> None:
        self.action_preview()

    def action_preview(self) -> None:
        if self.validate():
            self.say("fix the errors above first", error=True)
            return
        symbol = self.query_one("#symbol", Select).value
        if symbol in (Select.NULL, Select.BLANK):
            self.say("no symbol to preview on", error=True)
            return
        self.say(f"preview on {symbol}…")
        self.preview(self.text, str(symbol))

    @work(thread=True, exclusive=True, exit_on_error=False, group="rule-preview")
    def preview(self, text: str, symbol: str) -> None:
        from tui_trader.strategy.analysis import analyze
        from tui_trader.strategy.rules import compile_rules

        strategy = compile_rules(text)()
        timeframe = strategy.timeframe
        candles = self.app.call_from_thread(self.app.client.candles, symbol, timeframe, PREVIEW_BARS)  # type: ignore[attr-defined]
        frame = analyze(strategy, candles_frame(candles), {"pair": symbol, "timeframe": timeframe})
        self.app.call_from_thread(self.show_preview, frame, symbol, timeframe)

    def show_preview(self, frame: pd.DataFrame, symbol: str, timeframe: str) -> None:
        self.preview_frame = frame
        self.marks = signal_marks(frame)
        entries = sum(1 for m in self.marks if m[2])
        exits = len(self.marks) - entries
        self.say(f"{symbol} {timeframe}, last {len(frame)} bars: {entries} entry and {exits} exit signal(s)")
        self.call_after_refresh(
            lambda: draw_candles(self.query_one("#preview", CellPlot), frame, self.marks, self.app.palette)  # type: ignore[attr-defined]
        )

    @on(Worker.StateChanged)
    def _preview_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            message = str(error) if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
            self.say(f"preview failed: {message}", error=True)

    # -- save -------------------------------------------------------------------------------

    @on(Button.Pressed, "#save-button")
    def _save_pressed(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        try:
            path = self.save()
        except UserError as exc:
            self.say(str(exc), error=True)
            return
        name = path.stem
        if self.configured(name):
            self.say(f"saved {path}; [strategies.{name}] is in config.toml: it runs after a restart or reload")
        else:
            self.say(
                f"saved {path}. It does not run yet: a strategy runs once config.toml has a "
                f"[strategies.{name}] table with its symbols. ctrl+e adds one (disabled) for you."
            )
        self.app.notify(f"saved {path.name}", title="Strategy builder")

    def config_file(self) -> Path | None:
        home = getattr(self.app, "home", None)
        return Path(home.config_file) if home is not None else None

    def configured(self, name: str) -> bool:
        """Whether config.toml already has [strategies.NAME]."""
        import tomllib

        path = self.config_file()
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8")) if path is not None and path.exists() else {}
        except (OSError, tomllib.TOMLDecodeError):
            return False
        return name in (doc.get("strategies") or {})

    def action_add_to_config(self) -> None:
        """Append [strategies.NAME] (disabled, on the active symbol) to config.toml."""
        name = self.saved.stem if self.saved is not None else None
        path = self.config_file()
        if name is None or path is None:
            self.say("save the strategy first (ctrl+s)", error=True)
            return
        if getattr(self.app, "read_only", False):
            self.say("not added: a viewer cannot change the configuration", error=True)
            return
        if self.configured(name):
            self.say(f"config.toml already has [strategies.{name}]")
            return
        symbol = str(getattr(self.app, "symbol", "") or "BTC/USDT")
        block = f'\n[strategies.{name}]\nenabled = false\nsymbols = ["{symbol}"]\n'
        try:
            with path.open("a", encoding="utf-8") as fh:
                fh.write(block)
        except OSError as exc:
            self.say(f"cannot write {path}: {exc.strerror}", error=True)
            return
        self.say(
            f"added [strategies.{name}] (disabled, {symbol}) to {path}: restart the workstation (or "
            "reload the daemon) to load it, then enable it in the Strategies pane (e)"
        )

    def save(self) -> Path:
        """Write the text to HOME/strategies/<name>.toml; UserError when it cannot."""
        directory = self.strategies_dir
        if directory is None:
            raise UserError("no home folder: cannot save (start with --home DIR)")
        if getattr(self.app, "read_only", False):  # the daemon hot-loads this folder
            raise UserError("not saved: a viewer cannot add or change strategies; ask for a trader login")
        if self.validate():
            raise UserError(f"not saved: fix {len(self.errors)} error(s) first")
        name = rule_name(self.text) or ""
        if not NAME.match(name):
            raise UserError(f"[strategy] name {name!r}: use letters, digits, _ or - (e.g. rsi_dip)")
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.toml"
        tmp = path.with_suffix(".toml.tmp")
        try:
            tmp.write_text(self.text, encoding="utf-8")
            tmp.replace(path)  # atomic: hot reload never reads a half-written file
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror}") from None
        self.saved = path
        return path

    def say(self, text: str, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(text)
        status.set_class(error, "error")

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["TEMPLATE", "RuleBuilderScreen", "indicator_line", "rule_name", "signal_marks"]
