"""The workstation: live panes, keyboard order entry, themes. Talks to the engine only
through an EngineClient, so the same screens run in-process or attached to a daemon.

Market data is never pushed to widgets: one timer (settings.ui.refresh_hz) takes the latest
snapshot, drains the reliable events (fills, rejects, notices) for toasts, and updates only
the visible panes inside `batch_update()`.

This module holds the app's life (start, stop, the refresh tick, events); its parts are mixins
named for what they hold: layout.py, order_entry.py, wiring.py (command line, key map, palette),
actions.py (strategies, signals, risk, arming) and bindings.py (the keys).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, ComposeResult
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Input

from tui_trader.core.enums import OrderStatus, Side
from tui_trader.core.errors import UserError
from tui_trader.ui import format as fmt
from tui_trader.ui.actions import FeatureActions
from tui_trader.ui.bindings import APP_BINDINGS, TYPING_ACTIONS, binding_ids
from tui_trader.ui.css_cache import CssCache
from tui_trader.ui.desk import Desk
from tui_trader.ui.desk_state import DeskState
from tui_trader.ui.heap import SETTLE_EVERY_S, end_start_hold, release, settle
from tui_trader.ui.layout import GRID_MIN, LayoutMixin, Row, Workspace
from tui_trader.ui.order_entry import OrderEntry
from tui_trader.ui.palette import WorkstationCommands
from tui_trader.ui.panes import Pane
from tui_trader.ui.panes.key_footer import KeyFooter
from tui_trader.ui.panes.statusbar import AttachBadge, LiveBanner, ModeBadge, StatusBar, TopLine
from tui_trader.ui.research import RESEARCH_SCREENS
from tui_trader.ui.theme import BUILTIN_DIR, DEFAULT_THEME, Palette, discover_themes
from tui_trader.ui.view import View
from tui_trader.ui.vocabulary import TIMEFRAMES
from tui_trader.ui.watchdog import TerminalWatchdog
from tui_trader.ui.wiring import ScreenWiring

if TYPE_CHECKING:
    from tui_trader.config.ui import UISettings
    from tui_trader.core.instrument import Instrument
    from tui_trader.core.market import Ticker
    from tui_trader.core.orders import Order
    from tui_trader.engine import EngineSnapshot
    from tui_trader.engine.client import EngineClient, EventStream

log = logging.getLogger(__name__)

GUARDED_INPUT = (events.Key, events.Paste, events.MouseDown, events.MouseUp, events.Click)
EVENT_KINDS = ("order", "fill", "risk", "notice", "connection")
FIRST_PAINT_ENV = "TUI_TRADER_FIRST_PAINT_FILE"  # write the first-paint time here and exit
COVERED_EVERY = 4  # panes behind another screen redraw on one refresh tick in this many (5 a second)


def _typing_in(widget: object) -> bool:
    """An input has the keyboard: an Input or a TextArea (Textual's TextArea is imported by the
    screens that have one, not before the first paint: none exists before one of them is)."""
    text_area = sys.modules.get("textual.widgets._text_area")
    return isinstance(widget, Input) or (text_area is not None and isinstance(widget, text_area.TextArea))


class WorkstationScreen(Screen[Any]):
    """The workstation's screen (the first on the stack)."""

    BLANK = True  # its bars and the workspace cover it: Textual draws none of its own lines (layout.Row)
    _resumed = False

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    def on_resize(self, event: events.Resize) -> None:
        """Textual lays the whole screen out again on every resize event, even one of the size
        it is laid out at. It sends two at start, both after the screen's first layout (the
        terminal's size as the app starts, and the driver's report of the same size): each a
        layout pass and a repaint of every widget the first layout had marked, ~12 ms before
        the first paint settled. One of the screen's own size, with no screen under it and no
        breakpoints, changes nothing: Textual's handler is skipped (`prevent_default`). Any
        other size is laid out as before."""
        app = self.app
        breakpoints = (self.HORIZONTAL_BREAKPOINTS or app.HORIZONTAL_BREAKPOINTS
                       or self.VERTICAL_BREAKPOINTS or app.VERTICAL_BREAKPOINTS)  # fmt: skip
        if event.size == self.outer_size and len(app.screen_stack) == 1 and not breakpoints:
            event.prevent_default()


class WorkstationApp(LayoutMixin, OrderEntry, ScreenWiring, Desk, FeatureActions, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "tui-trader"
    COMMANDS = App.COMMANDS | {WorkstationCommands}
    SCREENS = RESEARCH_SCREENS  # backtest, optimize, rule_builder
    BINDINGS = APP_BINDINGS
    ALLOW_IN_MAXIMIZED_VIEW = "KeyFooter, CommandLine"  # the `:` line works over a zoomed pane

    def __init__(self, client: EngineClient, settings: Any = None, home: Any = None) -> None:
        super().__init__()
        self.client = client
        self.settings = settings
        ui = getattr(settings, "ui", None)  # the settings' [ui], or its values (cli/settings_check.py)
        if ui is None:
            from tui_trader.config.ui import UISettings  # pydantic: not before the first paint

            ui = UISettings()
        self.ui: UISettings = ui
        self.home = home
        self.symbol = self.ui.watchlist[0].upper() if self.ui.watchlist else ""
        self.venue: str | None = None  # the active symbol's venue; None: where its orders go
        self.timeframe = self.ui.timeframe if self.ui.timeframe in TIMEFRAMES else "1m"
        self.layout_choice = self.ui.layout
        self.layout_mode = "tabs"
        self.snapshot: EngineSnapshot | None = None
        self.frames = 0  # refresh ticks that rendered
        self.last_order: Order | None = None
        self.command_history: list[str] = []
        self._panes: dict[str, Pane] = {}
        self._events: EventStream | None = None
        self._mine: set[str] = (
            set()
        )  # orders placed from this screen (their rejects are shown once)
        self._ticking = False
        self._tick_over: asyncio.Event | None = None  # set when a frame in the making is done
        self._covered_ticks = 0  # refresh ticks while another screen is on top (see refresh_snapshot)
        self._closing = False
        self.read_only = False  # a viewer's serve session: nothing is written under HOME from here
        self._first_paint_done = False
        self._palette: Palette | None = None
        self._palette_theme = ""
        self._startup_notes: list[str] = []
        self._css_cache: CssCache | None = None  # the stylesheet's rules from the last start
        self.desk = DeskState.load(getattr(home, "root", None))
        if self.desk.problem:
            self._startup_notes.append(self.desk.problem)
        self._load_themes()

    # -- themes ------------------------------------------------------------------------------

    def _load_themes(self) -> None:
        user_dir = getattr(self.home, "themes_dir", None)
        themes, errors = discover_themes(BUILTIN_DIR, user_dir)
        for theme in themes.values():
            self.register_theme(theme)
        self._startup_notes.extend(errors)
        wanted = self.ui.theme
        if wanted in self.available_themes:
            self._start_theme(wanted)
        else:
            self._startup_notes.append(f"unknown theme {wanted!r}; using {DEFAULT_THEME}")
            if DEFAULT_THEME in self.available_themes:
                self._start_theme(DEFAULT_THEME)

    def _start_theme(self, name: str) -> None:
        """The theme before the app runs, its stylesheet parsed once.

        Setting `App.theme` schedules Textual's CSS refresh, which parses app.tcss and Textual's
        own CSS in a fresh stylesheet and keeps no cache of it, so they were parsed a second
        time when the first widget's CSS was added (~8 ms before the first paint). Before the
        app runs nothing is parsed or styled yet: the refresh would only give the stylesheet
        the theme's variables and set the app's theme classes, done here through Textual's
        public methods. A theme that changes the terminal's ANSI colours (light against
        Textual's dark default) is set as Textual sets it.

        The stylesheet then gets the rules parsed at the last start with this theme
        (css_cache.py): Textual parses only what changed since."""
        theme = self.get_theme(name)
        if theme is None or self.is_running or theme.dark != self.current_theme.dark:
            self.theme = name
            return
        self.set_reactive(App.theme, name)
        variables = self.get_css_variables()
        self.stylesheet.set_variables(variables)
        self._css_cache = CssCache.for_variables(variables)
        self._css_cache.load(self.stylesheet)
        classes = {c: False for c in self.classes if c.startswith("-theme-")}
        classes |= {f"-theme-{name}": True, "-dark-mode": theme.dark, "-light-mode": not theme.dark}
        self.update_classes(classes, update=False)

    @property
    def palette(self) -> Palette:
        if self._palette is None or self._palette_theme != self.theme:
            self._palette = Palette.from_theme(self.current_theme)
            self._palette_theme = self.theme
        return self._palette

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The priority keys that open a typing screen (:, b, s, /) work only on the main
        screen and not while an input has the keyboard: there the key is typed as usual."""
        on_main = len(self.screen_stack) == 1 and not _typing_in(self.focused)
        return on_main or action not in TYPING_ACTIONS

    @property
    def escape_to_minimize(self) -> bool:
        """Esc closes the `:` line (not the zoomed pane under it) while the line is typed in."""
        line = getattr(self, "command_line", None)
        if line is not None and line.is_open and line.has_focus_within:
            return False
        return super().escape_to_minimize

    @property
    def _background_screens(self) -> list[Screen[Any]]:
        """The screens Textual keeps drawing under the top one. It always counts the one right
        under it, even under an opaque screen (a confirmation), so each pane update behind a
        dialog re-laid out the hidden workstation and repainted the dialog over it, in the
        dialog's first frames too. Nothing shows through an opaque screen: nothing is under it
        (the workstation is laid out and drawn again when it is back on top)."""
        stack = self.screen_stack
        if len(stack) > 1 and stack[-1].styles.background.a == 1:
            return []
        return super()._background_screens

    def action_quit(self) -> None:  # type: ignore[override]
        """ctrl+q (Textual's quit) asks like q does when work is outstanding."""
        self.action_request_quit()

    # -- input ------------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """Drop input that arrived before a confirmation dialog was on screen (see ConfirmScreen):
        a key typed for the next command must never answer this one. Hold keys typed into a
        screen whose input does not have the keyboard yet (type_ahead.py)."""
        if isinstance(event, GUARDED_INPUT) and not event.is_forwarded:
            try:
                screen: Any = self.screen
            except Exception:  # no screen yet
                screen = None
            typed_before = getattr(screen, "typed_before", None)
            if typed_before is not None and typed_before(event):
                log.info("dropped %s typed before the dialog was shown", type(event).__name__)
                return
            held = getattr(screen, "held_keys", None)
            if held is not None and isinstance(event, events.Key):
                held.append(event)  # the screen's input gets it once it has the keyboard (type_ahead.py)
                return
        await super().on_event(event)

    def get_default_screen(self) -> Screen[Any]:
        return WorkstationScreen(id="_default")

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.layout_mode = self._pick_layout(self.size.width, self.size.height)
        # before the panes are mounted: set in on_mount, it styled every widget a second time
        self.screen.set_class(self.layout_mode == "grid", "-grid")
        with Row(id="top"):
            yield ModeBadge()
            yield AttachBadge()
            yield TopLine()
        yield LiveBanner()
        yield Workspace(self)
        yield StatusBar()
        yield KeyFooter()
        yield self.make_command_line()

    # -- start / stop ------------------------------------------------------------------------

    async def on_mount(self) -> None:
        keymap = {k: v for k, v in self.ui.keymap.items() if k in self.binding_ids()}
        unknown = sorted(set(self.ui.keymap) - set(keymap))
        if unknown:
            self._startup_notes.append(
                f"ui.keymap: unknown binding ids {', '.join(unknown)} (see ? for the ids)"
            )
        if keymap:
            self.set_keymap(keymap)
        for note in self._startup_notes:
            self.notify(note, severity="warning", timeout=8)
        if not self.is_headless and not self.is_web:  # in a browser, stdin is textual-serve's pipe
            self._install_watchdog()
        if os.environ.get(FIRST_PAINT_ENV):
            self.call_after_refresh(self._stamp_settled)
        self.call_after_refresh(end_start_hold)  # drawn: the garbage collector runs again (heap.py)
        self.call_after_refresh(self.mount_deferred_panes)  # the hidden tabs' panes, after the paint
        if getattr(self.client, "builds_engine", False):
            # the screen first, then the engine (its modules, venues, history): the trader
            # sees the workstation while the engine is imported and starts
            self.call_after_refresh(self._start_engine)
        else:  # an engine given ready, or a daemon's: start (connect) at once, as before
            self._start_engine()

    @work(exclusive=True, group="start", exit_on_error=False)
    async def _start_engine(self) -> None:
        try:
            await self.client.start()
        except UserError as exc:
            self.exit(return_code=1, message=f"error: {exc}")
            return
        except Exception as exc:
            log.exception("engine failed to start")
            self.exit(return_code=1, message=f"error: the engine failed to start: {exc}")
            return
        self._show_identity()
        self._events = self.client.subscribe("tui", EVENT_KINDS)
        await self.refresh_snapshot()
        self.set_interval(1.0 / self.ui.refresh_hz, self._timer_tick, name="refresh")
        self.call_after_refresh(self.settle_heap)  # started and drawn: what lives on is frozen
        self.set_interval(SETTLE_EVERY_S, self.settle_heap, name="heap")

    def settle_heap(self) -> None:
        """Freeze what lives on out of the garbage collector's passes (heap.py). Not while a
        confirmation holds the collector off (its dialog is opening)."""
        if not self._gc_held and not self._closing:
            settle()

    def _show_identity(self) -> None:
        """A `tui-trader serve` session: its role and user in the status bar; a viewer saves nothing."""
        identity = getattr(self.client, "identity", None)
        if not identity or identity.get("owner", True):
            return
        self.query_one(StatusBar).role = (str(identity.get("role")), str(identity.get("user")))
        self.read_only = identity.get("role") != "trader"

    async def on_unmount(self) -> None:
        self._closing = True
        release()
        if self._events is not None:
            self._events.close()
        try:
            await self.client.close()
        except Exception:
            log.exception("closing the engine client failed")

    def _install_watchdog(self) -> None:
        watchdog = TerminalWatchdog()

        def check() -> None:
            problem = watchdog.problem()
            if problem:
                self._terminal_lost(problem)

        self.set_interval(2.0, check, name="terminal-watchdog")
        try:
            import asyncio

            asyncio.get_running_loop().add_signal_handler(
                signal.SIGHUP, self._terminal_lost, "SIGHUP"
            )
        except (NotImplementedError, RuntimeError, AttributeError):  # not on this platform
            pass

    def _terminal_lost(self, why: str) -> None:
        """Stop the engine cleanly, then leave without touching the dead terminal.

        A normal exit restores the terminal through Textual's writer thread, which blocks
        forever once the tty is gone; so the process ends with os._exit after the engine
        (orders, journal, database) has been closed.
        """
        if self._closing:
            return
        log.warning("%s: stopping the engine and exiting", why)
        self._closing = True
        self.run_worker(self._die(), group="terminal-lost")

    async def _die(self) -> None:
        import asyncio

        if self._events is not None:
            self._events.close()
        try:
            await asyncio.wait_for(self.client.close(), timeout=10)
        except Exception:
            log.exception("closing the engine after the terminal was lost failed")
        logging.shutdown()
        os._exit(129)

    # -- the refresh tick ---------------------------------------------------------------------

    async def refresh_snapshot(self) -> None:
        """One frame: latest snapshot -> visible panes. Never overlaps itself: called while a
        frame is in the making (the timer's, with a snapshot taken before the caller changed
        something), it waits for that one and then makes its own, so what an action did is on
        the screen when this returns."""
        while self._ticking:
            if self._closing:
                return
            over = self._tick_over = self._tick_over or asyncio.Event()
            await over.wait()
        await self._tick()

    async def _timer_tick(self) -> None:
        """The refresh timer's frame: skipped while another is in the making."""
        if not self._ticking:
            await self._tick()

    async def _tick(self) -> None:
        if self._closing:
            return
        self._ticking = True
        try:
            try:
                snap = await self.client.snapshot()
            except Exception as exc:  # a daemon that went away must not kill the screen
                self.query_one(StatusBar).say(f"engine unreachable: {exc}", self.palette.error)
                return
            if self._closing:
                return
            self.snapshot = snap
            await self.follow_venues()
            listed = snap.symbols()
            if not self.symbol or (self.symbol not in listed and listed):
                self.symbol = next(iter(listed), self.symbol)
            self._handle_events()
            self.check_alerts()
            if self._covered():
                return
            self.render_frame(snap)
        except NoMatches:  # the screen is being torn down (quitting)
            return
        finally:
            self._ticking = False
            over, self._tick_over = self._tick_over, None
            if over is not None:
                over.set()

    def _covered(self) -> bool:
        """True on the ticks the panes skip while a screen is over them (the `:` line, a
        ticket, a dialog): they redraw at a quarter of the rate then. Each of their frames is
        also drawn again through the see-through screen on top (the whole workstation, ~70 ms
        on a full grid), which doubled the CPU and kept the event loop busy 100 ms at a time,
        so a keystroke or an Enter waited for it."""
        if len(self.screen_stack) <= 1:
            self._covered_ticks = 0
            return False
        self._covered_ticks += 1
        return self._covered_ticks % COVERED_EVERY != 1

    def render_frame(self, snap: EngineSnapshot) -> None:
        view = View(
            snap, self.symbol, self.timeframe, self.palette, time.monotonic(), self.venue, self.indicators()
        )
        with self.batch_update():
            self.query_one(ModeBadge).show(snap.mode, bool(snap.halted))
            self.query_one(AttachBadge).show(
                bool(self.client.attached),
                getattr(self.client, "daemon_info", None),
                bool(getattr(self.client, "connected", True)),
            )
            self.query_one(LiveBanner).show(snap, self.is_live_armed())
            self.query_one(TopLine).show(snap, self.symbol, self.timeframe, view.palette, self.venue)
            self.query_one(StatusBar).show(snap, view.palette, self.symbol)
            for pane in self.visible_panes():
                if pane.is_mounted:
                    pane.update_view(view)
        self.frames += 1
        if not self._first_paint_done:
            self._first_paint_done = True
            if os.environ.get(FIRST_PAINT_ENV):
                self.call_after_refresh(self._report_first_paint)

    def on_ready(self) -> None:
        """Textual's Ready: the first frame is on the terminal. It is the whole first screen
        (panes, footer keys, the order book's placeholder): Textual's layout pass after it
        redraws the same cells (a test compares the two frames)."""
        if os.environ.get(FIRST_PAINT_ENV):
            self._stamp_first_paint()
        if self._css_cache is not None:  # what was parsed for the first screen, for the next start
            self.call_after_refresh(self._css_cache.save, self.stylesheet)

    def _stamp_first_paint(self) -> None:
        """Bench hook: the screen's first paint (engine still starting), the modules imported
        by then (a test checks that no heavy library is among them) and how many dataclasses'
        methods and regular expressions were compiled by then (-1: not kept between starts)."""
        from tui_trader.core import dataclass_code, regex_code

        self._paint_stamps = [time.time()]
        self._painted_with = sorted(sys.modules)
        kept = (dataclass_code.installed(), regex_code.installed())
        self._compiled_by_paint = [-1 if k is None else k.compiled for k in kept]

    def _stamp_settled(self) -> None:
        """Bench hook: the screen settled after its first paint (Textual's layout pass after
        the first frame done, nothing left to lay out or draw)."""
        self._settled_at = time.time()

    def _report_first_paint(self) -> None:
        """Bench hook: the first frame with engine data. Writes the first paint's time, this
        frame's and the settled screen's (first line), the modules imported at the first paint
        (second line) and the dataclass methods and regular expressions compiled by then (third),
        and exits."""
        stamps = [*getattr(self, "_paint_stamps", [0.0]), time.time(), getattr(self, "_settled_at", 0.0)]
        with open(os.environ[FIRST_PAINT_ENV], "w", encoding="utf-8") as fh:
            fh.write(" ".join(f"{t:.6f}" for t in stamps) + "\n")
            fh.write(" ".join(getattr(self, "_painted_with", [])) + "\n")
            fh.write(" ".join(str(n) for n in getattr(self, "_compiled_by_paint", [-1, -1])) + "\n")
        self.exit(0)

    def refresh_now(self) -> None:
        """Redraw from the last snapshot now (after a symbol, layout or theme change)."""
        if self.snapshot is not None:
            self.render_frame(self.snapshot)

    def _handle_events(self) -> None:
        if self._events is None:
            return
        # the engine's event types: not imported before the first paint (~15 ms: their dataclasses)
        from tui_trader.core.events import ConnectionEvent, FillEvent, NoticeEvent, OrderEvent, RiskEvent

        pal = self.palette
        status = self.query_one(StatusBar)
        for ev in self._events.drain():
            if isinstance(ev, FillEvent):
                f = ev.fill
                msg = f"filled {f.side.value} {fmt.qty(f.quantity, 8)} {f.symbol} @ {fmt.price(f.price, 2)}"
                self.notify(msg, title="Fill", timeout=4)
                status.say(msg, pal.up if f.side is Side.BUY else pal.down)
                if self.ui.bell:
                    self.bell()
            elif isinstance(ev, OrderEvent):
                o = ev.order
                if o.status is OrderStatus.REJECTED and o.client_order_id not in self._mine:
                    self.show_reject(o)
            elif isinstance(ev, RiskEvent):
                if ev.client_order_id is None:
                    self.notify(ev.message, title=f"Risk: {ev.code}", severity="warning", timeout=8)
                    status.say(f"risk {ev.code}: {ev.message}", pal.warning)
            elif isinstance(ev, NoticeEvent):
                severity = {"error": "error", "warning": "warning"}.get(ev.level, "information")
                self.notify(ev.message, title=ev.source, severity=severity)  # type: ignore[arg-type]
                status.say(ev.message)
            elif isinstance(ev, ConnectionEvent):
                status.say(f"{ev.venue} {ev.state.value} {ev.detail}".strip())

    # -- lookups -----------------------------------------------------------------------------

    def lookup(self, symbol: str, venue: str | None = None) -> tuple[Instrument | None, Ticker | None]:
        """The instrument and quote of `symbol` on `venue` (default: the active venue for the
        active symbol, else the venue its orders go to)."""
        snap = self.snapshot
        if snap is None:
            return None, None
        venue = venue or (self.venue if symbol == self.symbol else None)
        if venue == "auto":  # routed: the default venue's market describes it before the router picks
            venue = None
        return snap.instrument(symbol, venue), snap.ticker(symbol, venue)

    def markets(self) -> list[str]:
        """Every symbol the venues quote (the command line resolves words against these)."""
        return self.snapshot.symbols() if self.snapshot else []

    def symbols(self) -> list[str]:
        """The watchlist's symbols ([ and ] step through them)."""
        return self.watchlist()

    def binding_ids(self) -> set[str]:
        return binding_ids(APP_BINDINGS)

__all__ = ["GRID_MIN", "WorkstationApp"]
