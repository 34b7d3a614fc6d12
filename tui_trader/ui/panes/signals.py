"""Signals: scored recommendations, pending chat signals, and the raw signal events.

Recommendations (`snapshot.extra["recommendations"]`, docs/signals.md) are ranked by |score|
with their sources, age and top reason. Enter or `o` on a recommendation or a signal opens a
pre-filled ticket; Enter on a pending chat entry confirms it into a ticket (entry, stop,
target); on a pending exit, update or cancel it asks, then acts on that provider's position.
`p` (app-wide) pastes a chat message. Orders still go through confirmation and risk. The
providers table ranks chat providers by what following them earned (average R).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from tui_trader.core.enums import Direction
from tui_trader.ui import format as fmt
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.tables import Cell, FittedTable, LiveTable
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View

if TYPE_CHECKING:
    from tui_trader.core.signals import Signal

REC_COLUMNS = (
    ("Score", 6, "right"),
    ("Dir", 5, "left"),
    ("Symbol", 9, "left"),
    ("Conf", 4, "right"),
    ("Age", 4, "right"),
    ("Sources", 16, "left"),
    ("Why", 50, "left"),
)
CHAT_COLUMNS = (
    ("Id", 7, "left"),
    ("From", 10, "left"),
    ("Kind", 6, "left"),
    ("Symbol", 9, "left"),
    ("Side", 4, "left"),
    ("What", 16, "left"),
    ("SL", 9, "right"),
    ("TP", 16, "left"),
    ("Conf", 4, "right"),
    ("Status", 9, "left"),
)
PROVIDER_COLUMNS = (
    ("Provider", 12, "left"),
    ("Trades", 6, "right"),
    ("Win %", 5, "right"),
    ("Avg R", 6, "right"),
    ("Total R", 7, "right"),
    ("Max DD R", 8, "right"),
    ("Trust", 5, "right"),
)
SIG_COLUMNS = (
    ("Age", 4, "right"),
    ("Source", 14, "left"),
    ("Symbol", 9, "left"),
    ("Dir", 5, "left"),
    ("Str", 4, "right"),
    ("Conf", 4, "right"),
    ("Reason", 40, "left"),
)
SHOWN = 40
TITLES = {  # the title over each table: its id and its text, by the table's id
    "recs-table": ("recs-title", "Recommendations"),
    "chat-table": ("chat-title", "Pending chat signals"),
    "providers-table": ("providers-title", "Chat providers"),
    "signals-table": ("sigs-title", "Signals"),
}


def _dir_style(direction: str, pal: Palette) -> str:
    return pal.up if direction == "long" else pal.down if direction == "short" else pal.muted


def rank_recommendations(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Strongest |score| first; ties by symbol so the order never flickers."""
    return sorted(recs, key=lambda r: (-abs(float(r.get("score") or 0.0)), str(r.get("symbol"))))


def rec_age_s(rec: dict[str, Any]) -> float | None:
    """The youngest contributing source's age (what makes the recommendation current)."""
    ages = [float(s["age_s"]) for s in rec.get("sources") or [] if s.get("age_s") is not None]
    return min(ages) if ages else None


def _short_age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def chat_what(sig: dict[str, Any]) -> str:
    """What a chat message asks, in a few words: the entry, 'close 50%', 'stop 3250', 'cancel'."""
    kind = sig.get("kind", "entry")
    if kind == "entry":
        entry = sig.get("entry")
        text = "-".join(entry) if isinstance(entry, list) and entry else str(entry or "mkt")
        return text if sig.get("entry_type") in (None, "limit", "market") else f"{sig['entry_type']} {text}"
    scope = " all" if sig.get("all_symbols") else ""
    if kind == "exit":
        fraction = sig.get("fraction")
        return f"close{scope} {float(fraction) * 100:g}%" if fraction else f"close{scope} ?"
    if kind == "update":
        stop = "BE" if sig.get("breakeven") else sig.get("stop")
        return f"move{scope} stop {stop}" if stop else f"move{scope} target"
    return f"cancel{scope}"


def rec_sources(rec: dict[str, Any]) -> str:
    seen: dict[str, None] = {}
    for s in rec.get("sources") or []:
        seen[str(s.get("source"))] = None
    return ", ".join(seen) or "-"


class SignalsPane(Pane):
    KEY = "signals"
    TITLE = "Signals"
    TAB = "Signals"

    BINDINGS = [
        Binding(
            "o",
            "open_ticket",
            "Ticket from signal",
            id="signal_ticket",
            tooltip="open a pre-filled ticket for the selected recommendation or signal",
        ),
    ]

    class TicketRequested(Message):
        """Open a ticket for a recommendation dict or a Signal."""

        def __init__(self, recommendation: dict[str, Any] | None, signal: Signal | None) -> None:
            super().__init__()
            self.recommendation = recommendation
            self.signal = signal

    class ChatConfirmRequested(Message):
        """Confirm a pending chat signal into a pre-filled ticket."""

        def __init__(self, chat_id: str, status: str) -> None:
            super().__init__()
            self.chat_id = chat_id
            self.status = status

    def __init__(self) -> None:
        super().__init__()
        self._recs: dict[str, dict[str, Any]] = {}
        self._signals: dict[str, Signal] = {}
        self._chats: dict[str, dict[str, Any]] = {}
        self._last_table = "recs-table"
        self._chat_visible: bool | None = None
        self._providers_visible: bool | None = None

    def compose(self) -> ComposeResult:
        self._syncs: dict[str, FittedTable] = {}
        self._titles: dict[str, Static] = {}  # each table's title, by the table's id
        # Narrow panes drop the least needed columns; a reason column takes the width left.
        for table_id, columns, drop, flex in (
            ("recs-table", REC_COLUMNS, ("Sources", "Age", "Conf"), "Why"),
            ("chat-table", CHAT_COLUMNS, ("TP", "SL", "What", "Conf", "From"), None),
            ("providers-table", PROVIDER_COLUMNS, ("Max DD R", "Total R", "Trust"), None),
            ("signals-table", SIG_COLUMNS, ("Source", "Conf", "Str", "Age"), "Reason"),
        ):
            table = LiveTable(id=table_id, cursor_type="row")
            self._syncs[table_id] = FittedTable(table, columns, drop=drop, flex=flex)
            title_id, title = TITLES[table_id]
            self._titles[table_id] = Static(title, id=title_id, classes="subtitle")
            yield self._titles[table_id]
            yield table

    def update_view(self, view: View) -> None:
        snap, pal = view.snapshot, view.palette
        raw = snap.extra.get("recommendations")
        recs = rank_recommendations(raw if isinstance(raw, list) else [])
        self._recs = {str(r.get("symbol")): r for r in recs}
        rows: dict[str, list[Cell]] = {}
        for r in recs:
            direction = str(r.get("direction", "flat"))
            score = float(r.get("score") or 0.0)
            reasons = r.get("top_reasons") or []
            conf = r.get("confidence")
            rows[str(r.get("symbol"))] = [
                (f"{score:+.2f}", f"bold {_dir_style(direction, pal)}"),
                (direction, _dir_style(direction, pal)),
                str(r.get("symbol")),
                "-" if conf is None else f"{float(conf):.2f}",
                _short_age(rec_age_s(r)),
                rec_sources(r),
                str(reasons[0]).splitlines()[0] if reasons else "",
            ]
        self._syncs["recs-table"].fit()
        self._syncs["recs-table"].sync(rows)
        title = f"Recommendations ({len(recs)})" if recs else "Recommendations · none"
        hint = "Enter/o: ticket · p: paste chat signal" if recs else "p: paste a chat signal"
        self._titles["recs-table"].update(
            Text.assemble((title, "bold"), (" · ", "dim"), (hint, "dim")), layout=False
        )
        self._chat_rows(snap.extra.get("signals"), pal)
        self._provider_rows(snap.extra.get("signals"), pal)
        self._signal_rows(view)
        self.set_title(f"Signals · {len(recs)} ideas" if recs else "Signals")

    def _chat_rows(self, block: Any, pal: Palette) -> None:
        pending = block.get("pending_chat") if isinstance(block, dict) else None
        items: list[dict[str, Any]] = [p for p in pending or [] if isinstance(p, dict)]
        self._chats = {str(p.get("id")): p for p in items}
        rows: dict[str, list[Cell]] = {}
        for p in reversed(items):  # newest first
            sig = p.get("signal") or {}
            status = str(p.get("status", ""))
            status_style = f"bold {pal.accent}" if status == "pending" else pal.muted
            side = str(sig.get("side") or "")
            conf = sig.get("confidence")
            rows[str(p.get("id"))] = [
                str(p.get("id", "")),
                str(p.get("provider", "")),
                str(sig.get("kind", "entry")),
                str(sig.get("symbol") or ("all" if sig.get("all_symbols") else "-")),
                (side or "-", pal.up if side == "buy" else pal.down if side == "sell" else pal.muted),
                chat_what(sig),
                str(sig.get("stop") or "-"),
                ", ".join(sig.get("targets") or []) or "-",
                "-" if conf is None else f"{float(conf):.2f}",
                (status, status_style),
            ]
        self._syncs["chat-table"].fit()
        self._syncs["chat-table"].sync(rows)
        visible = bool(rows)
        if visible != self._chat_visible:
            self._chat_visible = visible
            self._titles["chat-table"].display = visible
            self._syncs["chat-table"].table.display = visible

    def _provider_rows(self, block: Any, pal: Palette) -> None:
        stats = block.get("providers") if isinstance(block, dict) else None
        rows: dict[str, list[Cell]] = {}
        for s in stats or []:
            get = s.get if isinstance(s, dict) else lambda k, _s=s: getattr(_s, k, None)
            avg, win = get("average_r"), get("win_rate")
            rows[str(get("provider"))] = [
                str(get("provider")),
                str(get("count") or 0),
                "-" if win is None else f"{float(win) * 100:.0f}",
                ("-", pal.muted) if avg is None else (f"{float(avg):+.2f}", pal.up if avg > 0 else pal.down),
                f"{float(get('total_r') or 0):+.1f}",
                f"{float(get('max_drawdown_r') or 0):.1f}",
                f"{float(get('reliability') or 0.5):.2f}",
            ]
        self._syncs["providers-table"].fit()
        self._syncs["providers-table"].sync(rows)
        visible = bool(rows)
        if visible != self._providers_visible:
            self._providers_visible = visible
            self._titles["providers-table"].display = visible
            self._syncs["providers-table"].table.display = visible

    def _signal_rows(self, view: View) -> None:
        snap, pal = view.snapshot, view.palette
        rows: dict[str, list[Cell]] = {}
        self._signals = {}
        for s in sorted(snap.signals, key=lambda s: s.ts, reverse=True)[:SHOWN]:
            style = _dir_style(s.direction.value, pal)
            key = f"{s.source}|{s.symbol}|{s.ts.isoformat()}"
            while key in rows:  # two signals in the same instant keep distinct rows
                key += "+"
            self._signals[key] = s
            rows[key] = [
                fmt.age(snap.ts, s.ts),
                s.source,
                s.symbol,
                (s.direction.value, f"bold {style}"),
                f"{s.strength:.2f}",
                "-" if s.confidence is None else f"{s.confidence:.2f}",
                s.reason.splitlines()[0] if s.reason else "",
            ]
        self._syncs["signals-table"].fit()
        self._syncs["signals-table"].sync(rows)
        self._titles["signals-table"].update(
            f"Signals ({len(snap.signals)})" if snap.signals else "Signals · none yet",
            layout=False,
        )

    # -- actions -----------------------------------------------------------------------------

    def on_descendant_focus(self, event: Any) -> None:
        widget = getattr(event, "widget", None)
        if isinstance(widget, DataTable) and widget.id:
            self._last_table = widget.id

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.data_table.id:
            self._last_table = event.data_table.id
        self.action_open_ticket()

    def action_open_ticket(self) -> None:
        table_id = self._last_table
        key = self._syncs[table_id].selected_key()
        if key is None:
            self.notify("nothing selected", severity="warning")
            return
        if table_id == "recs-table":
            self.post_message(self.TicketRequested(self._recs.get(key), None))
        elif table_id == "chat-table":
            item = self._chats.get(key, {})
            self.post_message(self.ChatConfirmRequested(key, str(item.get("status", ""))))
        elif table_id == "providers-table":
            return
        else:
            signal = self._signals.get(key)
            if signal is not None and signal.direction is Direction.FLAT:
                self.notify("a flat signal has no side to trade", severity="warning")
                return
            self.post_message(self.TicketRequested(None, signal))

    def select(self, table_id: str, key: str) -> bool:
        """Put the cursor on a row of one of the tables (tests, palette)."""
        keys = list(self._syncs[table_id].rows)
        if key not in keys:
            return False
        table = self._syncs[table_id].table
        table.move_cursor(row=keys.index(key), animate=False)
        table.focus()
        self._last_table = table_id
        return True
