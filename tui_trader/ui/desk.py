"""The trader's desk: watchlist editing and symbol search over the venue's markets, price
alerts, saved layouts and the chart's indicators, kept in HOME/ui_state.json (desk_state.py)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work

from tui_trader.ui import screens  # the dialogs load when first opened (screens/__init__.py)
from tui_trader.ui.desk_state import DeskState, SavedLayout
from tui_trader.ui.palette import PaletteCommand
from tui_trader.ui.panes import WatchlistPane
from tui_trader.ui.panes.statusbar import StatusBar
from tui_trader.ui.vocabulary import INDICATORS, LAYOUTS
from tui_trader.ui.workstation_state import WorkstationState

if TYPE_CHECKING:
    from tui_trader.ui.commandline import AlertCommand, WatchCommand

DEFAULT_INDICATORS: tuple[str, ...] = ("ema", "bb")
INDICATOR_PRESETS: tuple[tuple[str, ...], ...] = (("ema", "bb"), ("sma", "ema"), ("vwap",), ("bb",), ())


class Desk(WorkstationState):
    """Mixed into WorkstationApp: `desk` holds the state, these methods change and save it."""

    desk: DeskState

    def _desk_say(self, message: str, style: str = "") -> None:
        self.query_one(StatusBar).say(message, style)
        self.notify(message, timeout=4)

    def _desk_save(self) -> None:
        problem = self.desk.save()
        if problem:
            self.notify(problem, severity="warning")

    # -- watchlist ---------------------------------------------------------------------------

    def watchlist(self) -> list[str]:
        """The symbols the watchlist shows (edited list, else settings, else every market)."""
        if self.desk.watchlist is not None:
            return list(self.desk.watchlist)
        if self.ui.watchlist:
            return [s.upper() for s in self.ui.watchlist]
        return self.markets()

    def edit_watchlist(self, symbol: str, add: bool) -> None:
        current = self.watchlist()
        if add and symbol not in current:
            current.append(symbol)
        elif not add and symbol in current:
            current.remove(symbol)
        else:
            self._desk_say(f"{symbol} is {'already' if add else 'not'} on the watchlist")
            return
        self.desk.watchlist = current
        self._desk_save()
        pane = self._panes.get("watchlist")
        if isinstance(pane, WatchlistPane):
            pane.set_symbols(current)
        self._desk_say(f"{'added' if add else 'removed'} {symbol} {'to' if add else 'from'} the watchlist")
        self.refresh_now()

    def watch_command(self, command: WatchCommand) -> None:
        if command.action == "find":
            self.action_find_symbol(command.symbol)
        else:
            self.edit_watchlist(command.symbol, command.action == "add")

    def action_find_symbol(self, query: str = "") -> None:
        markets = self.markets()
        if not markets:
            self._desk_say("the venue's markets are not loaded yet")
            return

        def chosen(symbol: str | None) -> None:
            if symbol:
                self.set_symbol(symbol)

        self.push_screen(screens.SymbolSearchScreen(markets, self.watchlist, self.edit_watchlist, query), chosen)

    def on_watchlist_pane_remove_requested(self, event: WatchlistPane.RemoveRequested) -> None:
        self.edit_watchlist(event.symbol, False)

    # -- alerts ------------------------------------------------------------------------------

    def alert_command(self, command: AlertCommand) -> None:
        if command.action == "list":
            self.action_alerts()
        elif command.action == "remove":
            self.remove_alert(command.alert_id)
        else:
            assert command.symbol is not None and command.price is not None
            self.add_alert(command.symbol, command.price, command.above)

    def add_alert(self, symbol: str, price: Decimal, above: bool | None = None) -> None:
        _, ticker = self.lookup(symbol)
        if above is None:
            if ticker is None or not ticker.last:
                self._desk_say(f"no price for {symbol} yet: say above or below (alert {symbol} above {price})")
                return
            above = float(price) > ticker.last
        alert = self.desk.add_alert(symbol, above, price)
        self._desk_save()
        self._desk_say(f"alert {alert.describe()} set")

    def remove_alert(self, alert_id: int | None) -> None:
        before = len(self.desk.alerts)
        self.desk.alerts = [a for a in self.desk.alerts if alert_id is not None and a.id != alert_id]
        removed = before - len(self.desk.alerts)
        self._desk_save()
        self._desk_say(f"{removed} alert(s) removed" if removed else f"no alert #{alert_id}")

    @work(exclusive=True, group="alerts", exit_on_error=False)
    async def action_alerts(self) -> None:
        answer = await self.push_screen_wait(screens.AlertsScreen(lambda: list(self.desk.alerts), self.remove_alert))
        if answer == "add":
            self.action_command_line(f"alert {self.symbol} above ")

    def check_alerts(self) -> None:
        """Fire the alerts the latest prices reached (once each): a toast, the bell, the status bar."""
        snap = self.snapshot
        if snap is None or not self.desk.alerts:
            return
        last = {}
        for alert in self.desk.alerts:
            ticker = snap.ticker(alert.symbol)
            if ticker is not None:
                last[alert.symbol] = ticker.last
        fired = self.desk.triggered(last)
        for alert in fired:
            message = f"ALERT {alert.describe()}: last {last[alert.symbol]:g}"
            self.notify(message, title="Price alert", severity="warning", timeout=15)
            self.query_one(StatusBar).say(message, f"bold {self.palette.warning}")
            self.bell()
        if fired:
            self._desk_save()

    # -- layouts -----------------------------------------------------------------------------

    def saved_layouts(self) -> list[str]:
        return sorted(self.desk.layouts)

    def save_layout(self, name: str) -> None:
        focused = self.focused
        pane = next((k for k, p in self._panes.items() if focused is not None and p in focused.ancestors_with_self), "")
        maximized = self.screen.maximized
        self.desk.layouts[name] = SavedLayout(
            layout=self.layout_choice,
            pane=pane,
            maximized=next((k for k, p in self._panes.items() if p is maximized), ""),
            symbol=self.symbol,
            timeframe=self.timeframe,
            indicators=list(self.indicators()),
            theme=self.theme,
        )
        self._desk_save()
        self._desk_say(f"layout {name} saved (layout {name} brings it back)")

    def load_layout(self, name: str) -> None:
        saved = self.desk.layouts.get(name)
        if saved is None:
            self._desk_say(f"no saved layout {name!r}")
            return
        self.run_worker(self._restore(name, saved), group="layout", exclusive=True)

    async def _restore(self, name: str, saved: SavedLayout) -> None:
        if saved.theme in self.available_themes:
            self.theme = saved.theme
        if saved.symbol in self.markets():
            self.symbol = saved.symbol
        if saved.timeframe:
            self.timeframe = saved.timeframe
        self.desk.indicators = [i for i in saved.indicators if i in INDICATORS]
        await self.set_layout(saved.layout if saved.layout in LAYOUTS else "auto")
        self.screen.minimize()
        if saved.pane:
            self.action_show_pane(saved.pane)
        if saved.maximized and saved.maximized in self._panes:
            self.screen.maximize(self._panes[saved.maximized], container=False)
        self.refresh_now()
        self.query_one(StatusBar).say(f"layout {name}")

    # -- chart indicators --------------------------------------------------------------------

    def indicators(self) -> tuple[str, ...]:
        return DEFAULT_INDICATORS if self.desk.indicators is None else tuple(self.desk.indicators)

    def set_indicators(self, names: tuple[str, ...]) -> None:
        self.desk.indicators = list(names)
        self._desk_save()
        self.query_one(StatusBar).say(f"indicators: {' '.join(names).upper() or 'none'}")
        self.refresh_now()

    def action_next_indicators(self) -> None:
        current = self.indicators()
        presets = list(INDICATOR_PRESETS)
        following = presets[(presets.index(current) + 1) % len(presets)] if current in presets else presets[0]
        self.set_indicators(following)

    def indicator_text(self) -> Text:
        return Text(" ".join(self.indicators()).upper() or "no overlays")

    # -- palette -----------------------------------------------------------------------------

    def desk_palette_commands(self) -> list[PaletteCommand]:
        out: list[PaletteCommand] = [
            ("Find symbol…", "search the venue's markets; + adds to the watchlist (/)", self.action_find_symbol),
            ("Price alerts…", "list, add and delete price alerts (a)", self.action_alerts),
            (
                f"Add alert on {self.symbol}…",
                "alert when the last price crosses a level",
                lambda: self.action_command_line(f"alert {self.symbol} above "),
            ),
            ("Save layout…", "remember panes, symbol, timeframe, overlays, theme", self._save_layout_prompt),
            ("Next chart overlays", "cycle EMA/BB, SMA/EMA, VWAP, BB, none (i)", self.action_next_indicators),
        ]
        for name in self.saved_layouts():
            out.append((f"Layout: {name}", "a saved layout", _bind_layout(self, name)))
        for preset in INDICATOR_PRESETS:
            label = " + ".join(preset).upper() or "none"
            out.append((f"Indicators: {label}", "chart overlays", _bind_indicators(self, preset)))
        return out

    def _save_layout_prompt(self) -> None:
        self.action_command_line("layout save ")


def _bind_layout(desk: Desk, name: str) -> Callable[[], None]:
    return lambda: desk.load_layout(name)


def _bind_indicators(desk: Desk, names: tuple[str, ...]) -> Callable[[], None]:
    return lambda: desk.set_indicators(names)
