"""The workstation: live panes, keyboard order entry, themes. Talks to the engine only
through an EngineClient, so the same screens run in-process or attached to a daemon.

Market data is never pushed to widgets: one timer (settings.ui.refresh_hz) takes the latest
snapshot, drains the reliable events (fills, rejects, notices) for toasts, and updates only
the visible panes inside `batch_update()`.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container, Grid, Horizontal, Vertical
from textual.css.query import NoMatches
from textual.events import Resize
from textual.widgets import Footer, TabbedContent, TabPane

from tui_trader.config.ui import UISettings
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.core.events import ConnectionEvent, FillEvent, NoticeEvent, OrderEvent, RiskEvent
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Ticker
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.engine import EngineSnapshot
from tui_trader.engine.client import EngineClient, EventStream
from tui_trader.ui import format as fmt
from tui_trader.ui.actions import FeatureActions
from tui_trader.ui.commandline import (
    LAYOUTS,
    TIMEFRAMES,
    CancelCommand,
    Command,
    FlattenCommand,
    HelpCommand,
    LayoutCommand,
    ModifyCommand,
    OrderCommand,
    QuitCommand,
    SymbolCommand,
    ThemeCommand,
    TimeframeCommand,
)
from tui_trader.ui.order_preview import check_request, preview_order
from tui_trader.ui.palette import PaletteCommand, WorkstationCommands
from tui_trader.ui.panes import PANES, BlotterPane, ChartPane, Pane, WatchlistPane
from tui_trader.ui.panes.statusbar import LiveBanner, ModeBadge, StatusBar, TopLine
from tui_trader.ui.research import RESEARCH_SCREENS
from tui_trader.ui.screens import (
    CommandLineScreen,
    ConfirmScreen,
    HelpScreen,
    TicketScreen,
    order_details,
)
from tui_trader.ui.theme import BUILTIN_DIR, DEFAULT_THEME, Palette, discover_themes
from tui_trader.ui.view import View
from tui_trader.ui.watchdog import TerminalWatchdog

log = logging.getLogger(__name__)

GRID_MIN = (160, 48)  # width, height for the rich grid in the "auto" layout
EVENT_KINDS = ("order", "fill", "risk", "notice", "connection")
FIRST_PAINT_ENV = "TUI_TRADER_FIRST_PAINT_FILE"  # write the first-paint time here and exit


def _pane_bindings() -> list[Binding]:
    return [
        Binding(str(i), f"show_pane('{cls.KEY}')", cls.TITLE, id=f"pane_{cls.KEY}", show=False)
        for i, cls in enumerate(PANES, start=1)
    ]


class Workspace(Container):
    """Holds the panes: a grid on big terminals, tabs on small ones. Recomposed on switch."""

    def __init__(self, workstation: WorkstationApp) -> None:
        super().__init__(id="workspace")
        self.workstation = workstation

    def compose(self) -> ComposeResult:
        panes = self.workstation.make_panes()
        if self.workstation.layout_mode == "grid":
            with Grid(id="grid"):
                yield panes["watchlist"]
                yield panes["chart"]
                yield panes["book"]
                with Vertical(id="grid-left"):
                    yield panes["positions"]
                    yield panes["strategies"]
                yield panes["blotter"]
                with Vertical(id="grid-side"):
                    yield panes["risk"]
                    yield panes["signals"]
        else:
            with TabbedContent(id="tabs"):
                for i, cls in enumerate(PANES, start=1):
                    with TabPane(f"{i} {cls.TAB}", id=f"tab-{cls.KEY}"):
                        yield panes[cls.KEY]


class WorkstationApp(FeatureActions, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "tui-trader"
    COMMANDS = App.COMMANDS | {WorkstationCommands}
    SCREENS = RESEARCH_SCREENS  # backtest, optimize, rule_builder
    BINDINGS = [
        Binding(
            "q", "request_quit", "Quit", id="quit", tooltip="quit (asks when orders are working)"
        ),
        Binding("question_mark", "help", "Keys", id="help", tooltip="show every key"),
        Binding(
            "colon",
            "command_line",
            "Command",
            id="command_line",
            tooltip="quick orders and commands",
        ),
        Binding("b", "ticket('buy')", "Buy", id="buy", tooltip="open a buy ticket"),
        Binding("s", "ticket('sell')", "Sell", id="sell", tooltip="open a sell ticket"),
        Binding(
            "ctrl+k",
            "kill_switch",
            "Flatten",
            id="flatten",
            priority=True,
            tooltip="kill switch: cancel everything and close every position",
        ),
        Binding("x", "cancel_all", "Cancel all", id="cancel_all", show=False),
        Binding("t", "next_timeframe", "Timeframe", id="timeframe", tooltip="next chart timeframe"),
        Binding(
            "right_square_bracket", "step_symbol(1)", "Next symbol", id="next_symbol", show=False
        ),
        Binding(
            "left_square_bracket", "step_symbol(-1)", "Prev symbol", id="prev_symbol", show=False
        ),
        Binding("L", "next_layout", "Layout", id="layout", show=False),
        Binding("f5", "push_screen('backtest')", "Backtest", id="backtest", show=False),
        Binding("f6", "push_screen('optimize')", "Optimize", id="optimize", show=False),
        Binding("f7", "push_screen('rule_builder')", "Rules", id="rule_builder", show=False),
        Binding(
            "p",
            "paste_signal",
            "Paste signal",
            id="paste_signal",
            show=False,
            tooltip="paste a chat trade signal: parsed into a pre-filled ticket",
        ),
        Binding(
            "A",
            "arm_live",
            "Arm live",
            id="arm_live",
            show=False,
            tooltip="arm live trading (type the venue name)",
        ),
        *_pane_bindings(),
    ]

    def __init__(self, client: EngineClient, settings: Any = None, home: Any = None) -> None:
        super().__init__()
        self.client = client
        self.settings = settings
        self.ui: UISettings = getattr(settings, "ui", None) or UISettings()
        self.home = home
        self.symbol = self.ui.watchlist[0].upper() if self.ui.watchlist else ""
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
        self._closing = False
        self._first_paint_done = False
        self._palette: Palette | None = None
        self._palette_theme = ""
        self._startup_notes: list[str] = []
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
            self.theme = wanted
        else:
            self._startup_notes.append(f"unknown theme {wanted!r}; using {DEFAULT_THEME}")
            if DEFAULT_THEME in self.available_themes:
                self.theme = DEFAULT_THEME

    @property
    def palette(self) -> Palette:
        if self._palette is None or self._palette_theme != self.theme:
            self._palette = Palette.from_theme(self.current_theme)
            self._palette_theme = self.theme
        return self._palette

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.layout_mode = self._pick_layout(self.size.width, self.size.height)
        with Horizontal(id="top"):
            yield ModeBadge()
            yield TopLine()
        yield LiveBanner()
        yield Workspace(self)
        yield StatusBar()
        yield Footer()

    def make_panes(self) -> dict[str, Pane]:
        panes: dict[str, Pane] = {}
        for cls in PANES:
            if cls is WatchlistPane:
                pane: Pane = WatchlistPane([s.upper() for s in self.ui.watchlist], self.ui.flash_ms)
            elif cls is ChartPane:
                pane = ChartPane(self.client.candles, self.ui.chart_refresh_s)
            else:
                pane = cls()
            panes[cls.KEY] = pane
        self._panes = panes
        return panes

    def _pick_layout(self, width: int, height: int) -> str:
        if self.layout_choice != "auto":
            return self.layout_choice
        return "grid" if width >= GRID_MIN[0] and height >= GRID_MIN[1] else "tabs"

    async def _apply_layout(self) -> None:
        mode = self._pick_layout(self.size.width, self.size.height)
        if mode == self.layout_mode:
            return
        self.layout_mode = mode
        self.screen.set_class(mode == "grid", "-grid")
        await self.query_one(Workspace).recompose()
        self.refresh_now()

    async def on_resize(self, event: Resize) -> None:
        await self._apply_layout()

    def visible_panes(self) -> list[Pane]:
        if self.layout_mode == "grid":
            return list(self._panes.values())
        try:
            active = self.query_one("#tabs", TabbedContent).active
        except Exception:
            return []
        pane = self._panes.get(active.removeprefix("tab-"))
        return [pane] if pane is not None else []

    # -- start / stop ------------------------------------------------------------------------

    async def on_mount(self) -> None:
        self.screen.set_class(self.layout_mode == "grid", "-grid")
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
        if not self.is_headless:
            self._install_watchdog()
        if os.environ.get(FIRST_PAINT_ENV):
            self.call_after_refresh(self._stamp_first_paint)
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
        self._events = self.client.subscribe("tui", EVENT_KINDS)
        await self.refresh_snapshot()
        self.set_interval(1.0 / self.ui.refresh_hz, self.refresh_snapshot, name="refresh")

    async def on_unmount(self) -> None:
        self._closing = True
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
        """One frame: latest snapshot -> visible panes. Never overlaps itself."""
        if self._ticking or self._closing:
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
            if not self.symbol or (self.symbol not in snap.instruments and snap.instruments):
                self.symbol = next(iter(snap.instruments), self.symbol)
            self._handle_events()
            self.render_frame(snap)
        except NoMatches:  # the screen is being torn down (quitting)
            return
        finally:
            self._ticking = False

    def render_frame(self, snap: EngineSnapshot) -> None:
        view = View(snap, self.symbol, self.timeframe, self.palette, time.monotonic())
        with self.batch_update():
            self.query_one(ModeBadge).show(snap.mode, bool(snap.halted))
            self.query_one(LiveBanner).show(snap, self.is_live_armed())
            self.query_one(TopLine).show(snap, self.symbol, self.timeframe, view.palette)
            self.query_one(StatusBar).show(snap, view.palette)
            for pane in self.visible_panes():
                if pane.is_mounted:
                    pane.update_view(view)
        self.frames += 1
        if not self._first_paint_done:
            self._first_paint_done = True
            if os.environ.get(FIRST_PAINT_ENV):
                self.call_after_refresh(self._report_first_paint)

    def _stamp_first_paint(self) -> None:
        """Bench hook: the screen's first paint (layout drawn, engine still starting)."""
        self._paint_stamps = [time.time()]

    def _report_first_paint(self) -> None:
        """Bench hook: the first frame with engine data; writes both times and exits."""
        stamps = [*getattr(self, "_paint_stamps", []), time.time()]
        with open(os.environ[FIRST_PAINT_ENV], "w", encoding="utf-8") as fh:
            fh.write(" ".join(f"{t:.6f}" for t in stamps) + "\n")
        self.exit(0)

    def refresh_now(self) -> None:
        """Redraw from the last snapshot now (after a symbol, layout or theme change)."""
        if self.snapshot is not None:
            self.render_frame(self.snapshot)

    def _handle_events(self) -> None:
        if self._events is None:
            return
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
                    self._show_reject(o)
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

    def _show_reject(self, order: Order) -> None:
        why = order.reason or "no reason given"
        text = f"REJECTED {order.side.value} {order.quantity.normalize():f} {order.symbol}: {why}"
        self.notify(text, title="Order rejected", severity="error", timeout=10)
        self.query_one(StatusBar).say(text, f"bold {self.palette.error}")

    # -- lookups -----------------------------------------------------------------------------

    def lookup(self, symbol: str) -> tuple[Instrument | None, Ticker | None]:
        snap = self.snapshot
        if snap is None:
            return None, None
        return snap.instruments.get(symbol), snap.tickers.get(symbol)

    def symbols(self) -> list[str]:
        if self.ui.watchlist:
            return [s.upper() for s in self.ui.watchlist]
        return list(self.snapshot.instruments) if self.snapshot else []

    def binding_ids(self) -> set[str]:
        ids = {b.id for b in self.BINDINGS if isinstance(b, Binding) and b.id}
        for cls in PANES:
            ids |= {b.id for b in cls.BINDINGS if isinstance(b, Binding) and b.id}
        return ids

    # -- orders ------------------------------------------------------------------------------

    @work(exclusive=True, group="order", exit_on_error=False)
    async def submit_order(self, request: OrderRequest) -> Order | None:
        """Confirm (twice when the price is far from the mid), then place and report."""
        inst, ticker = self.lookup(request.symbol)
        preview = preview_order(
            request,
            inst,
            ticker,
            fee_rate=self.ui.fee_estimate,
            far_pct=self.ui.confirm_far_price_pct,
        )
        status = self.query_one(StatusBar)
        if preview.errors:
            message = "; ".join(preview.errors.values())
            self.notify(message, title="Order not sent", severity="error")
            status.say(f"order not sent: {message}", self.palette.error)
            return None
        nd = inst.price_decimals if inst else 2
        ok = await self.push_screen_wait(
            ConfirmScreen(
                f"Send {preview.describe}?", order_details(preview, nd), yes="Send (y/Enter)"
            )
        )
        if ok and preview.far:
            warning = Text.assemble(
                ("Price far from the market\n\n", "bold"),
                f"{fmt.price(preview.price, nd)} is {fmt.pct(preview.distance, signed=False)} from the mid "
                f"{fmt.price(preview.mid, nd)} (threshold {self.ui.confirm_far_price_pct * 100:g}%).\n",
                "Press y again to send it anyway.",
            )
            ok = await self.push_screen_wait(
                ConfirmScreen("Second confirmation", warning, yes="Send anyway (y)", danger=True)
            )
        if not ok:
            status.say("order not sent")
            return None
        try:
            order = await self.client.place(request)
        except UserError as exc:
            self.notify(str(exc), title="Order not sent", severity="error")
            status.say(str(exc), self.palette.error)
            return None
        self._mine.add(order.client_order_id)
        self.last_order = order
        if order.status is OrderStatus.REJECTED:
            self._show_reject(order)
        else:
            msg = f"{preview.describe} → {order.status.value} ({order.client_order_id})"
            self.notify(msg, title="Order sent", timeout=4)
            status.say(msg)
        await self.refresh_snapshot()
        return order

    def action_ticket(self, side: str, order_type: str = "limit") -> None:
        if not self.symbol:
            self.notify("no symbol yet: the engine is still starting", severity="warning")
            return

        def done(request: OrderRequest | None) -> None:
            if request is not None:
                self.submit_order(request)

        self.push_screen(
            TicketScreen(Side(side), self.symbol, self.lookup, OrderType(order_type)), done
        )

    @work(exclusive=True, group="cancel", exit_on_error=False)
    async def cancel_order(self, client_order_id: str) -> None:
        status = self.query_one(StatusBar)
        try:
            order = await self.client.cancel(client_order_id)
        except UserError as exc:
            self.notify(str(exc), severity="error")
            status.say(str(exc), self.palette.error)
            return
        msg = f"cancel {order.client_order_id}: {order.status.value}"
        self.notify(msg, title="Cancel")
        status.say(msg)
        await self.refresh_snapshot()

    @work(exclusive=True, group="modify", exit_on_error=False)
    async def modify_order(self, client_order_id: str, price: Decimal | None, quantity: Decimal | None) -> None:
        status = self.query_one(StatusBar)
        params = {"id": client_order_id, "price": price and str(price), "quantity": quantity and str(quantity)}
        try:
            order = await self.client.call("order.modify", **params)
        except UserError as exc:
            self.notify(str(exc), severity="error")
            status.say(str(exc), self.palette.error)
            return
        order_id = order.client_order_id if hasattr(order, "client_order_id") else order["client_order_id"]
        msg = f"modified {client_order_id}" + (f" -> {order_id}" if order_id != client_order_id else "")
        self.notify(msg, title="Modify")
        status.say(msg)
        await self.refresh_snapshot()

    @on(BlotterPane.CancelRequested)
    def _cancel_from_blotter(self, event: BlotterPane.CancelRequested) -> None:
        if not event.is_open:
            self.notify(f"order {event.client_order_id} is not working", severity="warning")
            return
        self.cancel_order(event.client_order_id)

    @work(exclusive=True, group="cancel", exit_on_error=False)
    async def action_cancel_all(self, symbol: str | None = None) -> None:
        working = [
            o
            for o in (self.snapshot.open_orders if self.snapshot else [])
            if symbol in (None, o.symbol)
        ]
        if not working:
            self.notify("no working orders", severity="warning")
            return
        what = f"{len(working)} working order(s)" + (f" on {symbol}" if symbol else "")
        if not await self.push_screen_wait(
            ConfirmScreen("Cancel all?", f"Cancel {what}?", yes="Cancel them (y)")
        ):
            return
        cancelled = await self.client.cancel_all(symbol)
        self.notify(f"cancel sent for {len(cancelled)} order(s)", title="Cancel all")
        self.query_one(StatusBar).say(f"cancel all: {len(cancelled)} order(s)")
        await self.refresh_snapshot()

    @work(exclusive=True, group="flatten", exit_on_error=False)
    async def action_kill_switch(self) -> None:
        snap = self.snapshot
        n_orders = len(snap.open_orders) if snap else 0
        n_pos = len(snap.positions) if snap else 0
        body = Text.assemble(
            ("KILL SWITCH\n\n", "bold"),
            f"Cancel {n_orders} working order(s) and close {n_pos} position(s) at market?",
        )
        if not await self.push_screen_wait(
            ConfirmScreen("Flatten everything", body, yes="Flatten (y)", danger=True)
        ):
            return
        result = await self.client.flatten()
        msg = (
            f"flatten: {result.get('cancelled', 0)} cancelled, "
            f"{len(result.get('closing_orders', []))} closing order(s)"
        )
        left = result.get("still_open") or []
        if left:
            msg += f"; still open: {', '.join(left)}"
        self.notify(
            msg, title="Kill switch", severity="warning" if left else "information", timeout=8
        )
        self.query_one(StatusBar).say(msg, self.palette.warning)
        await self.refresh_snapshot()

    # -- other actions ------------------------------------------------------------------------

    def action_command_line(self, text: str = "") -> None:
        def done(command: Command | None) -> None:
            if command is not None:
                self.run_command(command)

        self.push_screen(
            CommandLineScreen(self.symbol or None, self.check_command, self.command_history, text), done
        )

    @on(BlotterPane.ModifyRequested)
    def _modify_from_blotter(self, event: BlotterPane.ModifyRequested) -> None:
        order = event.order
        price = f" price {order.price}" if order.price is not None else ""
        self.action_command_line(f"modify {order.client_order_id}{price} qty {order.quantity}")

    def check_command(self, command: Command) -> str | None:
        """What the command line says inline before running a parsed command."""
        snap = self.snapshot
        if isinstance(command, OrderCommand):
            inst, ticker = self.lookup(command.request.symbol)
            if snap is None:
                return "the engine is still starting"
            errors = check_request(command.request, inst, ticker)
            if errors:
                return "; ".join(errors.values())
        elif isinstance(command, SymbolCommand):
            if snap is not None and command.symbol not in snap.instruments:
                return f"unknown symbol {command.symbol!r}; known: {', '.join(snap.instruments)}"
        elif isinstance(command, ThemeCommand):
            if command.theme not in self.available_themes:
                return f"unknown theme {command.theme!r}; themes: {', '.join(self.theme_names())}"
        elif (
            isinstance(command, CancelCommand | ModifyCommand)
            and command.client_order_id is not None
            and self.resolve_order_id(command.client_order_id) is None
        ):
            return f"no working order matches {command.client_order_id!r}; the blotter lists them"
        return None

    def resolve_order_id(self, text: str) -> str | None:
        """An open order's id from its full id or a unique tail (as the blotter shows it)."""
        ids = [o.client_order_id for o in (self.snapshot.open_orders if self.snapshot else [])]
        text = text.lstrip("…")
        if text in ids:
            return text
        matches = [i for i in ids if i.endswith(text)]
        return matches[0] if len(matches) == 1 else None

    def run_command(self, command: Command) -> None:
        if isinstance(command, OrderCommand):
            self.submit_order(command.request)
        elif isinstance(command, CancelCommand):
            if command.client_order_id is None:
                self.action_cancel_all(command.symbol)
            else:
                cid = self.resolve_order_id(command.client_order_id)
                if cid is not None:
                    self.cancel_order(cid)
        elif isinstance(command, ModifyCommand):
            cid = self.resolve_order_id(command.client_order_id)
            if cid is not None:
                self.modify_order(cid, command.price, command.quantity)
        elif isinstance(command, FlattenCommand):
            self.action_kill_switch()
        elif isinstance(command, SymbolCommand):
            self.set_symbol(command.symbol)
        elif isinstance(command, TimeframeCommand):
            self.set_timeframe(command.timeframe)
        elif isinstance(command, ThemeCommand):
            self.set_theme(command.theme)
        elif isinstance(command, LayoutCommand):
            self.run_worker(self.set_layout(command.layout), group="layout")
        elif isinstance(command, HelpCommand):
            self.action_help()
        elif isinstance(command, QuitCommand):
            self.action_request_quit()

    def set_symbol(self, symbol: str) -> None:
        if symbol == self.symbol:
            return
        self.symbol = symbol
        self.query_one(StatusBar).say(f"symbol {symbol}")
        self.refresh_now()

    def set_timeframe(self, timeframe: str) -> None:
        self.timeframe = timeframe
        self.query_one(StatusBar).say(f"timeframe {timeframe}")
        self.refresh_now()

    def set_theme(self, name: str) -> None:
        self.theme = name
        self.query_one(StatusBar).say(f"theme {name}")
        self.refresh_now()

    async def set_layout(self, layout: str) -> None:
        self.layout_choice = layout
        await self._apply_layout()
        self.query_one(StatusBar).say(f"layout {layout} ({self.layout_mode})")

    def theme_names(self) -> list[str]:
        ours = [n for n in self.available_themes if n.startswith("tui-")]
        return ours + [n for n in self.available_themes if not n.startswith("tui-")]

    @on(WatchlistPane.SymbolSelected)
    def _symbol_selected(self, event: WatchlistPane.SymbolSelected) -> None:
        self.set_symbol(event.symbol)

    def action_next_timeframe(self) -> None:
        self.set_timeframe(TIMEFRAMES[(TIMEFRAMES.index(self.timeframe) + 1) % len(TIMEFRAMES)])

    def action_step_symbol(self, step: int) -> None:
        symbols = self.symbols()
        if symbols:
            i = symbols.index(self.symbol) if self.symbol in symbols else -step
            self.set_symbol(symbols[(i + step) % len(symbols)])

    def action_next_layout(self) -> None:
        following = LAYOUTS[(LAYOUTS.index(self.layout_choice) + 1) % len(LAYOUTS)]
        self.run_worker(self.set_layout(following), group="layout")

    def action_show_pane(self, key: str) -> None:
        pane = self._panes.get(key)
        if pane is None:
            return
        if self.layout_mode == "tabs":
            self.query_one("#tabs", TabbedContent).active = f"tab-{key}"
            self.refresh_now()
        pane.focus_main()

    def action_help(self) -> None:
        rows: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        for key, active in self.screen.active_bindings.items():
            b = active.binding
            label = b.description or b.action
            if (b.id or b.action) in seen:
                continue
            seen.add(b.id or b.action)
            rows.append((self.get_key_display(b) or key, label, b.id or ""))
        for cls in PANES:  # pane keys work while that pane has the keyboard
            for pb in cls.BINDINGS:
                if isinstance(pb, Binding) and pb.id and pb.id not in seen:
                    seen.add(pb.id)
                    keys = pb.key.replace(",", " / ")
                    rows.append((keys, f"{pb.description} ({cls.TITLE.lower()})", pb.id))
        rows.append(("Enter", "Order details (blotter) · ticket from a signal (signals)", ""))
        self.push_screen(HelpScreen(rows))

    @work(exclusive=True, group="quit", exit_on_error=False)
    async def action_request_quit(self) -> None:
        working = len(self.snapshot.open_orders) if self.snapshot else 0
        if working:
            body = f"{working} order(s) are working and stay on the venue. Quit anyway?"
            if not await self.push_screen_wait(ConfirmScreen("Quit?", body, yes="Quit (y)")):
                return
        self.exit(0)

    def palette_commands(self) -> list[PaletteCommand]:
        """Every action for the ctrl+p palette, built from the current state."""
        out: list[PaletteCommand] = [
            ("Buy…", f"open a buy ticket for {self.symbol}", lambda: self.action_ticket("buy")),
            ("Sell…", f"open a sell ticket for {self.symbol}", lambda: self.action_ticket("sell")),
            (
                "Buy at market…",
                f"market buy ticket for {self.symbol}",
                lambda: self.action_ticket("buy", "market"),
            ),
            (
                "Sell at market…",
                f"market sell ticket for {self.symbol}",
                lambda: self.action_ticket("sell", "market"),
            ),
            (
                "Command line",
                "quick orders: buy 0.5 BTC/USDT limit 64000",
                self.action_command_line,
            ),
            ("Cancel all orders", "cancel every working order", lambda: self.action_cancel_all()),
            (
                "Flatten (kill switch)",
                "cancel everything, close every position",
                self.action_kill_switch,
            ),
            *self.feature_palette_commands(),
            ("Backtest…", "run a strategy on history (F5)", lambda: self.push_screen("backtest")),
            ("Optimize…", "search parameters, walk forward (F6)", lambda: self.push_screen("optimize")),
            ("Strategy builder…", "write a rule-based strategy (F7)", lambda: self.push_screen("rule_builder")),
            ("Key map", "every key and its binding id", self.action_help),
            ("Quit", "leave the workstation", self.action_request_quit),
        ]
        for order in self.snapshot.open_orders if self.snapshot else []:
            cid = order.client_order_id
            out.append(
                (
                    f"Cancel order {cid}",
                    f"{order.side.value} {order.quantity.normalize():f} {order.symbol}",
                    _bind(self.cancel_order, cid),
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
                    _bind(
                        lambda value: self.run_worker(self.set_layout(value), group="layout"),
                        layout,
                    ),
                )
            )
        return out


def _bind(fn: Callable[[Any], object], value: Any) -> Callable[[], object]:
    return lambda: fn(value)


__all__ = ["GRID_MIN", "WorkstationApp"]
