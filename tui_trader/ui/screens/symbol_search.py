"""Symbol search (`/`, `find TEXT`): type to filter the venue's markets; Enter makes the
highlighted one the active symbol; `+` adds it to the watchlist, `-` removes it."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui_trader.ui.screens.type_ahead import HoldsKeys
from tui_trader.ui.symbols import search

SHOWN = 200


class SymbolSearchScreen(HoldsKeys, ModalScreen[str | None]):
    """Returns the chosen symbol (None: closed). Watchlist edits go through `on_watch`."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="search_close"),
        Binding("down", "to_list", "Results", show=False),
        Binding("plus,ctrl+equals", "watch(True)", "Add to watchlist", id="search_watch_add", priority=True),
        Binding("minus", "watch(False)", "Remove from watchlist", id="search_watch_remove"),
    ]

    def __init__(
        self,
        markets: list[str],
        watched: Callable[[], list[str]],
        on_watch: Callable[[str, bool], None],
        query: str = "",
    ) -> None:
        super().__init__()
        self.markets = markets
        self.watched = watched
        self.on_watch = on_watch
        self.query_text = query
        self.results: list[str] = []
        self.hold_keys()

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box"):
            yield Static(
                f"[b]Find a symbol[/] [dim]· {len(self.markets)} markets · Enter: make active · "
                "+ / -: add to / remove from the watchlist · Esc[/]",
                id="search-title",
            )
            yield Input(self.query_text, placeholder="btc, eth/usdt, aapl ...", id="search-input", compact=True)
            yield OptionList(id="search-results")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = False
        self.release_keys_to(field)
        self._fill(self.query_text)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def _fill(self, text: str) -> None:
        self.results = search(text, self.markets, limit=SHOWN)
        watched = set(self.watched())
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(f"{'★ ' if m in watched else '  '}{m}", id=m) for m in self.results])
        if self.results:
            options.highlighted = 0

    def highlighted(self) -> str | None:
        options = self.query_one(OptionList)
        index = options.highlighted
        if index is None or not self.results:
            return None
        return self.results[index]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(self.highlighted())

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_to_list(self) -> None:
        self.query_one(OptionList).focus()

    def action_watch(self, add: bool) -> None:
        symbol = self.highlighted()
        if symbol is None:
            return
        self.on_watch(symbol, add)
        self._fill(self.query_one(Input).value)

    def action_close(self) -> None:
        self.dismiss(None)
