"""The screens' wiring: the `:` command line (check, then run), the key map, quitting, and the
ctrl+p palette; switching symbol, timeframe and theme."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.binding import Binding

from tui_trader.ui import screens  # the dialogs load when first opened (screens/__init__.py)
from tui_trader.ui.bindings import APP_BINDINGS
from tui_trader.ui.palette import PaletteCommand
from tui_trader.ui.panes import PANES, BlotterPane, WatchlistPane
from tui_trader.ui.panes.statusbar import StatusBar
from tui_trader.ui.screens.command_line import CommandLine
from tui_trader.ui.vocabulary import LAYOUTS, TIMEFRAMES
from tui_trader.ui.workstation_state import WorkstationState

if TYPE_CHECKING:
    from tui_trader.ui.commandline import Command

# Sections of the key map, by binding id (others: "Panes and view").
KEY_SECTIONS = {
    **dict.fromkeys(
        ("buy", "sell", "quick_buy", "quick_sell", "cancel_all", "flatten", "command_line", "paste_signal", "arm_live"),
        "Orders",
    ),
    **dict.fromkeys(("backtest", "optimize", "rule_builder"), "Research"),
    **dict.fromkeys(("help", "quit"), "Workstation"),
}
RESEARCH_GROUPS = frozenset({"backtest", "optimize"})  # workers whose result is lost on quit


class ScreenWiring(WorkstationState):
    """Command line, key map, quit, palette, and the view switches they lead to."""

    # -- the command line --------------------------------------------------------------------

    def make_command_line(self) -> CommandLine:
        """The `:` line, docked in the main screen (composed once, hidden until opened)."""
        self.command_line = CommandLine(
            self.run_command, self.check_command, self.command_history, self.markets, self.run_in_place
        )
        return self.command_line

    def action_command_line(self, text: str = "") -> None:
        self.command_line.open(text, self.symbol or None)

    def on_blotter_pane_modify_requested(self, event: BlotterPane.ModifyRequested) -> None:
        order = event.order
        price = f" price {order.price}" if order.price is not None else ""
        self.action_command_line(f"modify {order.client_order_id}{price} qty {order.quantity}")

    def check_command(self, command: Command) -> str | None:
        """What the command line says inline before running a parsed command."""
        from tui_trader.ui import commandline as cl  # loaded with the first command, after the first paint
        from tui_trader.ui.order_preview import check_request

        snap = self.snapshot
        if isinstance(command, cl.OrderCommand):
            inst, ticker = self.lookup(command.request.symbol, command.request.venue)
            if snap is None:
                return "the engine is still starting"
            errors = check_request(command.request, inst, ticker)
            if command.oco is not None:
                errors = {**check_request(command.oco, inst, ticker), **errors}
            if errors:
                return "; ".join(errors.values())
        elif isinstance(command, cl.SymbolCommand):
            if snap is not None and command.symbol not in snap.symbols():
                return f"unknown symbol {command.symbol!r}; known: {', '.join(snap.symbols())}"
        elif isinstance(command, cl.ThemeCommand):
            if command.theme not in self.available_themes:
                return f"unknown theme {command.theme!r}; themes: {', '.join(self.theme_names())}"
        elif isinstance(command, cl.LayoutCommand):
            if command.layout not in LAYOUTS and command.layout not in self.saved_layouts():
                saved = ", ".join(self.saved_layouts()) or "none saved yet (layout save NAME)"
                return f"unknown layout {command.layout!r}; built in: {', '.join(LAYOUTS)}; saved: {saved}"
        elif isinstance(command, cl.CloseCommand):
            if self.open_position(command.symbol) is None:
                return f"no open position in {command.symbol}"
        elif isinstance(command, cl.VenueCommand):
            names = [v.name for v in snap.venues] if snap is not None else []
            if snap is not None and self.venue_named(command.name) is None:
                return f"no venue {command.name!r}; configured: {', '.join(names)}"
        elif (
            isinstance(command, cl.CancelCommand | cl.ModifyCommand)
            and command.client_order_id is not None
            and self.resolve_order_id(command.client_order_id) is None
        ):
            return f"no working order matches {command.client_order_id!r}; the blotter lists them"
        return None

    def venue_named(self, text: str) -> str | None:
        """A configured venue's name from what was typed (any case)."""
        names = [v.name for v in self.snapshot.venues] if self.snapshot else []
        return text if text in names else next((n for n in names if n.lower() == text.lower()), None)

    def resolve_order_id(self, text: str) -> str | None:
        """An open order's id from its full id or a unique tail (as the blotter shows it)."""
        ids = [o.client_order_id for o in (self.snapshot.open_orders if self.snapshot else [])]
        text = text.lstrip("…")
        if text in ids:
            return text
        matches = [i for i in ids if i.endswith(text)]
        return matches[0] if len(matches) == 1 else None

    def run_in_place(self, command: Command) -> bool:
        """Commands that ask first (orders, close, cancel all, flatten) start while the command
        line is up; it closes once their confirmation shows, or at once when none opens. Closed
        first, keys typed between Enter and the dialog would reach the workstation's hotkeys."""
        from tui_trader.ui import commandline as cl  # loaded with the first command, after the first paint

        if isinstance(command, cl.OrderCommand):
            self.submit_order(command.request, oco=command.oco)
        elif isinstance(command, cl.FlattenCommand):
            self.action_kill_switch()
        elif isinstance(command, cl.CancelCommand) and command.client_order_id is None and self.working(command.symbol):
            self.action_cancel_all(command.symbol)
        elif isinstance(command, cl.CloseCommand) and self.open_position(command.symbol) is not None:
            self.close_position(command.symbol)
        else:
            return False
        return True

    def run_command(self, command: Command) -> None:
        from tui_trader.ui import commandline as cl  # loaded with the first command, after the first paint

        if isinstance(command, cl.OrderCommand):
            self.submit_order(command.request, oco=command.oco)
        elif isinstance(command, cl.CancelCommand):
            if command.client_order_id is None:
                self.action_cancel_all(command.symbol)
            else:
                cid = self.resolve_order_id(command.client_order_id)
                if cid is not None:
                    self.cancel_order(cid)
        elif isinstance(command, cl.ModifyCommand):
            cid = self.resolve_order_id(command.client_order_id)
            if cid is not None:
                self.modify_order(cid, command.price, command.quantity)
        elif isinstance(command, cl.FlattenCommand):
            self.action_kill_switch()
        elif isinstance(command, cl.SymbolCommand):
            self.set_symbol(command.symbol)
        elif isinstance(command, cl.TimeframeCommand):
            self.set_timeframe(command.timeframe)
        elif isinstance(command, cl.ThemeCommand):
            self.set_theme(command.theme)
        elif isinstance(command, cl.LayoutCommand):
            if command.layout in LAYOUTS:
                self.run_worker(self.set_layout(command.layout), group="layout")
            else:
                self.load_layout(command.layout)
        elif isinstance(command, cl.SaveLayoutCommand):
            self.save_layout(command.name)
        elif isinstance(command, cl.CloseCommand):
            self.close_position(command.symbol)
        elif isinstance(command, cl.AlertCommand):
            self.alert_command(command)
        elif isinstance(command, cl.WatchCommand):
            self.watch_command(command)
        elif isinstance(command, cl.IndicatorCommand):
            self.set_indicators(command.names)
        elif isinstance(command, cl.VenueCommand):
            self.venue_command(command.action, self.venue_named(command.name) or command.name, command.symbol)
        elif isinstance(command, cl.HelpCommand):
            self.action_help()
        elif isinstance(command, cl.QuitCommand):
            self.action_request_quit()

    # -- view switches -----------------------------------------------------------------------

    def set_symbol(self, symbol: str, venue: str | None = None) -> None:
        if (symbol, venue) == (self.symbol, self.venue):
            return
        self.symbol, self.venue = symbol, venue
        self.query_one(StatusBar).say(f"symbol {symbol}" + (f" on {venue}" if venue else ""))
        self.refresh_now()

    def set_timeframe(self, timeframe: str) -> None:
        self.timeframe = timeframe
        self.query_one(StatusBar).say(f"timeframe {timeframe}")
        self.refresh_now()

    def set_theme(self, name: str) -> None:
        self.theme = name
        self.query_one(StatusBar).say(f"theme {name}")
        self.refresh_now()

    def theme_names(self) -> list[str]:
        ours = [n for n in self.available_themes if n.startswith("tui-")]
        return ours + [n for n in self.available_themes if not n.startswith("tui-")]

    def on_watchlist_pane_symbol_selected(self, event: WatchlistPane.SymbolSelected) -> None:
        self.set_symbol(event.symbol, event.venue)

    def action_next_timeframe(self) -> None:
        self.set_timeframe(TIMEFRAMES[(TIMEFRAMES.index(self.timeframe) + 1) % len(TIMEFRAMES)])

    def action_step_symbol(self, step: int) -> None:
        symbols = self.symbols()
        if symbols:
            i = symbols.index(self.symbol) if self.symbol in symbols else -step
            self.set_symbol(symbols[(i + step) % len(symbols)])

    # -- key map and quit --------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(screens.HelpScreen(self.key_rows()))

    def key_rows(self) -> list[tuple[str, str, str, str]]:
        """(section, keys, action, binding id) for every key of ours, as remapped now."""
        keymap = getattr(self, "_keymap", {}) or {}

        def keys_of(b: Binding) -> str:
            raw = keymap.get(b.id, b.key) if b.id else b.key
            return " / ".join(self.get_key_display(Binding(k.strip(), "")) for k in raw.split(","))

        rows: list[tuple[str, str, str, str]] = []
        for b in APP_BINDINGS:
            if isinstance(b, Binding) and b.id:
                rows.append((KEY_SECTIONS.get(b.id, "Panes and view"), keys_of(b), _what(b), b.id))
        rows.append(("Panes and view", "ctrl+p", "Command palette: every action by name", ""))
        order = [*dict.fromkeys(KEY_SECTIONS.values()), "Panes and view"]
        rows.sort(key=lambda r: order.index(r[0]))
        for cls in PANES:  # pane keys work while that pane has the keyboard
            for pb in cls.BINDINGS:
                if isinstance(pb, Binding) and pb.id:
                    rows.append((f"{cls.TITLE} pane", keys_of(pb), _what(pb), pb.id))
        rows += [
            ("Orders & fills pane", "Enter", "Order details", ""),
            ("Signals pane", "Enter", "Ticket from the recommendation or signal", ""),
            ("Watchlist pane", "Enter", "Make the symbol active", ""),
            ("Performance pane", "Enter", "Show the trade's symbol", ""),
            ("Confirmation", "ctrl+y", "Send / confirm (after it has been visible a moment)", "confirm_yes"),
            ("Confirmation", "Tab, Enter", "Move to a button and press it (focus starts on No)", ""),
            ("Confirmation", "n / Esc", "No: nothing is sent", "confirm_no"),
            ("Ticket", "Enter / ctrl+s", "Review the order", "ticket_submit"),
            ("Ticket", "Esc", "Close the ticket", "ticket_cancel"),
        ]
        return rows

    @work(exclusive=True, group="quit", exit_on_error=False)
    async def action_request_quit(self) -> None:
        """q, ctrl+q and `quit`: ask first when leaving would leave work behind."""
        outstanding = self.outstanding_work()
        if outstanding:
            body = "\n".join(outstanding) + "\n\nQuit anyway?"
            screen = screens.ConfirmScreen("Quit?", body, yes="Quit", arm_s=self.arm_s())
            if not await self.confirm(screen):
                self.query_one(StatusBar).say("still here")
                return
        self.exit(0)

    def outstanding_work(self) -> list[str]:
        """What quitting would leave behind, one line each (empty: nothing)."""
        from tui_trader.core.orders import as_placed  # the order types load after the first paint

        snap = self.snapshot
        lines: list[str] = []
        open_orders = as_placed(snap.open_orders) if snap else []
        held = [o for o in open_orders if o.meta.get("held")]
        working = len(open_orders) - len(held)
        if self.client.attached:
            return lines  # the daemon keeps running: nothing stops with this screen
        if working:
            lines.append(f"{working} order(s) are working and stay on the venue.")
        if held:
            lines.append(
                f"{len(held)} order(s) are held by this engine (bracket legs, OCO, trailing stops) "
                "and stop being watched when it quits."
            )
        busy = [w.name or w.group for w in self.workers if w.group in RESEARCH_GROUPS and w.is_running]
        if busy:
            lines.append(f"running: {', '.join(busy)} (its result is lost).")
        return lines

    # -- the palette -------------------------------------------------------------------------

    def _quick_buy(self) -> None:
        self.action_quick_order("buy")

    def _quick_sell(self) -> None:
        self.action_quick_order("sell")

    def _pane_palette_commands(self) -> list[PaletteCommand]:
        """Each pane by name (what its number key does) and the chart's own keys."""
        out: list[PaletteCommand] = [
            (f"Show {cls.TITLE} ({i % 10})", f"the {cls.TITLE.lower()} pane", _bind(self.action_show_pane, cls.KEY))
            for i, cls in enumerate(PANES, start=1)
        ]
        out += [
            ("Chart: zoom in", "wider candles, fewer of them (+ on the chart)", _chart(self, "zoom", -1)),
            ("Chart: zoom out", "more candles (- on the chart)", _chart(self, "zoom", 1)),
            ("Chart: crosshair on/off", "read one bar out; ← → move it (c on the chart)", _chart(self, "crosshair")),
            ("Chart: back to live", "scroll to the forming bar (End on the chart)", _chart(self, "jump", False)),
        ]
        return out

    def palette_commands(self) -> list[PaletteCommand]:
        """Every action for the ctrl+p palette, built from the current state."""
        out: list[PaletteCommand] = [
            ("Buy…", f"open a buy ticket for {self.symbol}", lambda: self.action_ticket("buy")),
            ("Sell…", f"open a sell ticket for {self.symbol}", lambda: self.action_ticket("sell")),
            ("Buy at market…", f"market buy ticket for {self.symbol}", lambda: self.action_ticket("buy", "market")),
            ("Sell at market…", f"market sell ticket for {self.symbol}", lambda: self.action_ticket("sell", "market")),
            ("Command line", "quick orders: buy 0.5 BTC/USDT limit 64000", self.action_command_line),
            ("Cancel all orders", "cancel every working order", lambda: self.action_cancel_all()),
            ("Flatten (kill switch)", "cancel all, close all, halt entries until reset", self.action_kill_switch),
            ("Buy at the ask (one key)", f"default size of {self.symbol}, IOC, confirmed (B)", self._quick_buy),
            ("Sell at the bid (one key)", f"default size of {self.symbol}, IOC, confirmed (S)", self._quick_sell),
            ("Zoom pane", "show the focused pane alone, again to undo (z)", self.action_maximize_pane),
            *self.desk_palette_commands(),
            *self.feature_palette_commands(),
            ("Backtest…", "run a strategy on history (F5)", lambda: self.push_screen("backtest")),
            ("Optimize…", "search parameters, walk forward (F6)", lambda: self.push_screen("optimize")),
            ("Strategy builder…", "write a rule-based strategy (F7)", lambda: self.push_screen("rule_builder")),
            ("Key map", "every key and its binding id", self.action_help),
            ("Quit", "leave the workstation", self.action_request_quit),
        ]
        out.extend(self._pane_palette_commands())
        for order in self.snapshot.open_orders if self.snapshot else []:
            cid = order.client_order_id
            out.append(
                (
                    f"Cancel order {cid}",
                    f"{order.side.value} {order.quantity.normalize():f} {order.symbol}",
                    _bind(self.cancel_order, cid),
                )
            )
        for pos in self.snapshot.positions if self.snapshot else []:
            if not pos.is_flat:
                out.append(
                    (
                        f"Close position {pos.symbol}",
                        f"{pos.quantity.normalize():f} at market, reduce-only, confirmed",
                        _bind(self.close_position, pos.symbol),
                    )
                )
        for sym in self.symbols():
            out.append((f"Symbol: {sym}", "make it the active symbol", _bind(self.set_symbol, sym)))
        for tf in TIMEFRAMES:
            out.append((f"Timeframe: {tf}", "chart timeframe", _bind(self.set_timeframe, tf)))
        for name in self.theme_names():
            out.append((f"Theme: {name}", "colours", _bind(self.set_theme, name)))
        for layout in LAYOUTS:
            out.append(
                (
                    f"Layout: {layout}",
                    "grid, tabs, or auto by terminal size",
                    _bind(lambda value: self.run_worker(self.set_layout(value), group="layout"), layout),
                )
            )
        return out


def _chart(app: Any, action: str, *args: object) -> Callable[[], None]:
    """Show the chart, then run one of its keys' actions (zoom, crosshair, live)."""

    def run() -> None:
        app.action_show_pane("chart")
        getattr(app._panes["chart"], f"action_{action}")(*args)

    return run


def _what(b: Binding) -> str:
    """A binding in words: its description, and its tooltip when it says more."""
    return f"{b.description}: {b.tooltip}" if b.tooltip else b.description


def _bind(fn: Callable[[Any], object], value: Any) -> Callable[[], object]:
    return lambda: fn(value)
