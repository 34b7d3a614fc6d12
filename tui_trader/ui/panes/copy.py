"""Copy trading: each leader you follow, its state, what was mirrored, skipped (and why) or
refused by risk, the slippage and delay of the mirrored fills, and the copy's P&L beside the
leader's own on the same trades at your size.

Reads `snapshot.extra["copy"]` (CopyDesk.status()); `e` starts or stops following the leader
under the cursor through the app's client (a viewer's is refused by the daemon).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from tui_trader.ui import format as fmt
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.tables import Cell, FittedTable, LiveTable
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View

COLUMNS = (
    ("Leader", 12, "left"),
    ("State", 12, "left"),
    ("Scale", 7, "right"),
    ("Seen", 5, "right"),
    ("Copied", 6, "right"),
    ("Skipped", 7, "right"),
    ("Refused", 7, "right"),
    ("Slip bp", 7, "right"),
    ("Delay s", 7, "right"),
    ("P&L", 10, "right"),
    ("Their P&L", 10, "right"),  # the leader's own, on the same trades at your size
    ("Held", 22, "left"),
)


NO_LEADERS = (
    'No leader followed: add [copy.NAME] with leader = "daemon", "exchange" or "chat:PROVIDER" '
    "to config.toml (docs/social.md)."
)


def state_cell(d: dict[str, Any], pal: Palette) -> Cell:
    state = str(d.get("state") or "?")
    if not d.get("enabled"):
        return ("stopped", pal.muted)
    if state == "connected":
        return ("following", f"bold {pal.up}")
    if state == "disconnected":
        return ("lost", f"bold {pal.error}")
    return (state, pal.warning)


def _num(value: Any, spec: str) -> str:
    return "-" if value is None else format(float(value), spec)


class CopyPane(Pane):
    KEY = "copy"
    TITLE = "Copy trading"
    TAB = "Copy"

    BINDINGS = [
        Binding(
            "e",
            "toggle_selected",
            "Follow/stop",
            id="copy_toggle",
            tooltip="start or stop following the leader under the cursor",
        ),
    ]

    class ToggleRequested(Message):
        """Start (True) or stop (False) following a leader."""

        def __init__(self, name: str, enable: bool) -> None:
            super().__init__()
            self.name = name
            self.enable = enable

    def __init__(self) -> None:
        super().__init__()
        self._leaders: dict[str, dict[str, Any]] = {}
        self._note = ""

    def compose(self) -> ComposeResult:
        table = LiveTable(id="copy-table", cursor_type="row")
        self._sync = FittedTable(
            table, COLUMNS,
            drop=("Delay s", "Slip bp", "Refused", "Their P&L", "Scale", "Seen", "Skipped", "Copied", "Held"),
        )  # fmt: skip
        self._note_label = Static("", id="copy-note")
        yield table
        yield self._note_label

    def update_view(self, view: View) -> None:
        raw = view.snapshot.extra.get("copy")
        leaders: list[dict[str, Any]] = raw if isinstance(raw, list) else []
        self._leaders = {str(d.get("name")): d for d in leaders}
        self._sync.fit()
        self._sync.sync({str(d.get("name")): self._row(d, view.palette) for d in leaders})
        self._show_note(view.palette)
        following = sum(1 for d in leaders if d.get("enabled") and d.get("state") == "connected")
        self.set_title(f"Copy trading · {following}/{len(leaders)} following" if leaders else "Copy trading · none")

    @staticmethod
    def _row(d: dict[str, Any], pal: Palette) -> list[Cell]:
        pnl = d.get("pnl") or {}
        ours, theirs = pnl.get("mirrored"), pnl.get("leader_at_your_size")
        scale = f"{float(d.get('scale') or 0):g}" + ("×eq" if d.get("scale_by") == "equity" else "")
        held = ", ".join(f"{s} {q}" for s, q in (d.get("positions") or {}).items()) or "-"
        refused = int(d.get("rejected") or 0)
        return [
            str(d.get("name", "?")),
            state_cell(d, pal),
            scale,
            str(d.get("seen", 0)),
            str(d.get("mirrored", 0)),
            str(d.get("skipped", 0)),
            (str(refused), pal.error) if refused else "0",
            _num((d.get("slippage_bps") or {}).get("avg"), "+.1f"),
            _num((d.get("delay_s") or {}).get("median"), ".3f"),
            "-" if ours is None else (fmt.money(ours, True), pal.signed(ours)),
            "-" if theirs is None else (fmt.money(theirs, True), pal.signed(theirs)),
            held,
        ]

    def _show_note(self, pal: Palette) -> None:
        """Under the table: the selected leader's connection detail and why fills were skipped."""
        d = self._leaders.get(self.selected_name() or "")
        note = ""
        if d is not None:
            skipped = ", ".join(f"{k} {v}" for k, v in (d.get("skipped_by") or {}).items())
            parts = [f"{d.get('name')}: {d.get('leader')}", str(d.get("detail") or "")]
            calls = ", ".join(f"{k} {v}" for k, v in (d.get("calls") or {}).items())
            if calls:  # a chat provider's calls by kind
                parts.append(f"calls: {calls}")
            if skipped:
                parts.append(f"skipped: {skipped}")
            held = ", ".join(f"{s} {q}" for s, q in (d.get("positions") or {}).items())
            if held:
                parts.append(f"held: {held}")
            if d.get("duplicates"):
                parts.append(f"{d['duplicates']} repeated fill(s) ignored")
            note = " · ".join(p for p in parts if p)
        elif not self._leaders:
            note = NO_LEADERS
        if note == self._note:
            return
        self._note = note
        label = self._note_label
        style = pal.error if d is not None and d.get("state") == "disconnected" else pal.muted
        label.update(Text(note, style=style))
        label.display = bool(note)

    def selected_name(self) -> str | None:
        return self._sync.selected_key()

    def action_toggle_selected(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        enabled = bool((self._leaders.get(name) or {}).get("enabled"))
        self.post_message(self.ToggleRequested(name, not enabled))
