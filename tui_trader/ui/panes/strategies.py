"""Strategies: each configured strategy with its state, last decision, its own positions,
protective stops and P&L.

Reads `snapshot.extra["strategies"]` (StrategyHost.status()), `extra["ledger"]` (each owner's
part of each symbol: two strategies on one symbol each show their own part) and the protective
stops in `extra["risk"]`; `e` enables or disables the one under the cursor and `r` reloads
changed strategy files, both through the app's client. A strategy that failed to load or raised
is listed with its error, in red.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from tui_trader.ui import format as fmt
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.tables import Cell, FittedTable, LiveTable
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View

COLUMNS = (
    ("Name", 14, "left"),
    ("State", 7, "left"),
    ("TF", 4, "left"),
    ("Symbols", 16, "left"),
    ("Trades", 6, "right"),
    ("Held", 18, "left"),
    ("Stop", 12, "right"),
    ("P&L", 10, "right"),
    ("Evals", 6, "right"),
    ("Last signal", 40, "left"),
)


def strategy_pnl(name: str, ledger: list[dict[str, Any]]) -> float | None:
    """The strategy's own P&L (realized − fees + unrealized) from its sub-ledger (None: never traded)."""
    rows = [r for r in ledger if r.get("owner") == name]
    if not rows:
        return None
    return sum(float(r.get("pnl") or 0.0) for r in rows)


def held(name: str, ledger: list[dict[str, Any]]) -> str:
    """`ETH/USDT 0.5` for each symbol the strategy itself holds (its part only)."""
    parts = [f"{r['symbol']} {r['quantity']}" for r in ledger if r.get("owner") == name and float(r["quantity"])]
    return ", ".join(parts) or "-"


def stops(name: str, protective: list[dict[str, Any]]) -> str:
    """The protective stop level the engine keeps for each of the strategy's positions (`~`:
    emulated by the engine; `none!`: a position without one)."""
    cells = [
        ("~" if p.get("emulated") else "") + str(p["stop"]) if p.get("stop") else "none!"
        for p in protective
        if p.get("strategy") == name
    ]
    return ", ".join(cells) or "-"


def waiting(waits: list[dict[str, Any]]) -> str:
    """`ETH/USDT 1m: hole 15:30-16:20, evaluates from 16:40` for each hole a strategy waits on."""
    return "; ".join(
        f"{w['symbol']} {w['timeframe']}: hole {str(w['hole_from'])[11:16]}-{str(w['hole_to'])[11:16]}, "
        f"evaluates from {str(w['evaluates_from'])[11:16]}"
        for w in waits
    )


def last_signal(status: dict[str, Any]) -> str:
    """`buy ETH/USDT @ 3,012.50 (tag) · reason` from the last decision, or `-`."""
    d = status.get("last_decision")
    if not d:
        return "-"
    text = f"{d.get('action', '?')} {d.get('symbol', '')}"
    if d.get("price"):
        text += f" @ {fmt.price(d['price'])}"
    if d.get("tag"):
        text += f" ({d['tag']})"
    if d.get("ts"):
        text += f" {str(d['ts'])[11:19]}"
    if d.get("reason"):
        text += f" · {str(d['reason']).splitlines()[0]}"
    return text


NO_STRATEGIES = 'No strategy running: add [strategies.ema_cross] with symbols = ["BTC/USDT"] to config.toml.'


class StrategiesPane(Pane):
    KEY = "strategies"
    TITLE = "Strategies"
    TAB = "Strats"

    BINDINGS = [
        Binding(
            "e",
            "toggle_selected",
            "Enable/disable",
            id="strategy_toggle",
            tooltip="enable or disable the strategy under the cursor",
        ),
        Binding(
            "r",
            "reload",
            "Reload strategies",
            id="strategy_reload",
            tooltip="reload strategy files that changed on disk",
        ),
    ]

    class ToggleRequested(Message):
        """Enable (True) or disable (False) a strategy by name."""

        def __init__(self, name: str, enable: bool) -> None:
            super().__init__()
            self.name = name
            self.enable = enable

    class ReloadRequested(Message):
        """Reload the strategy files that changed."""

    def __init__(self) -> None:
        super().__init__()
        self._status: dict[str, dict[str, Any]] = {}
        self._error_shown = ""

    def compose(self) -> ComposeResult:
        self._table = LiveTable(id="strategies-table", cursor_type="row")
        self._sync = FittedTable(
            self._table, COLUMNS, drop=("Evals", "Stop", "Held", "Symbols", "TF", "Trades"), flex="Last signal"
        )
        self._error_label = Static("", id="strategies-error")
        yield self._table
        yield self._error_label

    def update_view(self, view: View) -> None:
        snap, pal = view.snapshot, view.palette
        raw = snap.extra.get("strategies")
        statuses: list[dict[str, Any]] = raw if isinstance(raw, list) else []
        self._status = {str(s.get("name")): s for s in statuses}
        ledger = snap.extra.get("ledger") or []
        protective = (snap.extra.get("risk") or {}).get("protective_stops") or []
        rows: dict[str, list[Cell]] = {}
        for s in statuses:
            rows[str(s.get("name"))] = self._row(s, ledger, protective, pal)
        self._sync.fit()
        self._sync.sync(rows)
        self._show_error(self.selected_name(), pal)
        running = sum(1 for s in statuses if s.get("enabled") and not s.get("error"))
        broken = sum(1 for s in statuses if s.get("error"))
        title = f"Strategies · {running}/{len(statuses)} on" if statuses else "Strategies · none"
        if broken:
            title += f" · {broken} broken"
        self.set_title(title)

    @staticmethod
    def _row(
        s: dict[str, Any], ledger: list[dict[str, Any]], protective: list[dict[str, Any]], pal: Palette
    ) -> list[Cell]:
        error = s.get("error")
        phase = str(s.get("state") or "")
        if phase in ("hung", "crashed"):  # its worker was killed or died: restarting, or disabled
            state: Cell = (phase.upper(), f"bold {pal.error}")
        elif phase == "starting":
            state = ("starting", pal.muted)
        elif error:
            state = ("ERROR", f"bold {pal.error}")
        elif s.get("enabled") and s.get("waiting"):  # a hole in the bars it reads (status's `waiting`)
            state = ("waits", f"bold {pal.warning}")
        elif s.get("enabled"):
            state = ("on", f"bold {pal.up}")
        else:
            state = ("off", pal.muted)
        name = str(s.get("name", "?"))
        pnl = strategy_pnl(name, ledger)
        trades = s.get("open_trades") or []
        last: Cell = (str(error).splitlines()[0], pal.error) if error else last_signal(s)
        if not error and s.get("waiting"):
            last = (waiting(s["waiting"]), pal.warning)
        return [
            str(s.get("name", "?")),
            state,
            str(s.get("timeframe") or "-"),
            ", ".join(s.get("symbols") or []) or "-",
            str(len(trades)),
            held(name, ledger),
            stops(name, protective),
            "-" if pnl is None else (fmt.money(pnl, True), pal.signed(pnl)),
            str(s.get("evaluations", "-")),
            last,
        ]

    def _show_error(self, name: str | None, pal: Palette) -> None:
        """The selected strategy's full error under the table (a table cell cuts it); with no
        strategy at all, how to run one."""
        error = str((self._status.get(name or "") or {}).get("error") or "")
        shown = error or ("" if self._status else NO_STRATEGIES)
        if shown == self._error_shown:
            return
        self._error_shown = shown
        label = self._error_label
        label.update(Text(f"✗ {name}: {error}", style=pal.error) if error else Text(shown, style=pal.muted))
        label.display = bool(shown)

    def selected_name(self) -> str | None:
        return self._sync.selected_key()

    def select(self, name: str) -> bool:
        """Put the cursor on a strategy's row (tests, palette)."""
        keys = list(self._sync.rows)
        if name not in keys:
            return False
        table = self._table
        table.move_cursor(row=keys.index(name), animate=False)
        table.focus()
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._error_shown = "\0"  # the cursor moved: show its strategy's error next frame

    def action_toggle_selected(self) -> None:
        name = self.selected_name()
        if name is None:
            self.notify("no strategy selected", severity="warning")
            return
        status = self._status.get(name, {})
        self.post_message(self.ToggleRequested(name, not bool(status.get("enabled"))))

    def action_reload(self) -> None:
        self.post_message(self.ReloadRequested())
