"""The strategy league: the latest leaderboard (`league run`, docs/social.md), best first.

Key F9; in the grid a tab beside Orders and Performance. Reads `snapshot.extra["league"]`
(league/board.py: the newest HOME/league/results file, looked at about once a second), so a
league that is running fills in here strategy by strategy and a finished one stays until the
next. Ranked rows first (score = annualised Sharpe on the common
grid, the deflated Sharpe and drawdown beside it), then those without a rank and why.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from tui_trader.ui.panes.base import Pane
from tui_trader.ui.tables import Cell, FittedTable, LiveTable
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View

COLUMNS = (
    ("#", 3, "right"),
    ("Strategy", 20, "left"),
    ("TF", 4, "right"),
    ("Sharpe", 7, "right"),
    ("DSR", 5, "right"),
    ("Max DD", 7, "right"),
    ("Return", 8, "right"),
    ("Trades", 6, "right"),
    ("Win", 5, "right"),
    ("Note", 34, "left"),
)


def _num(value: Any, spec: str, scale: float = 1.0, suffix: str = "") -> str:
    return "-" if value is None else format(float(value) * scale, spec) + suffix


def row_cells(r: dict[str, Any], pal: Palette) -> list[Cell]:
    rank = r.get("rank")
    score, ret = r.get("score"), r.get("total_return")
    dsr = r.get("deflated_sharpe")
    return [
        (str(rank), f"bold {pal.up}") if rank == 1 else ("-" if rank is None else str(rank)),
        str(r.get("strategy", "?")),
        str(r.get("timeframe", "")),
        "-" if score is None else (_num(score, ".2f"), pal.signed(float(score))),
        "-" if dsr is None else (_num(dsr, ".2f"), f"bold {pal.up}" if float(dsr) >= 0.95 else pal.muted),
        _num(r.get("max_drawdown"), ".2f", 100, "%"),
        "-" if ret is None else (_num(ret, "+.2f", 100, "%"), pal.signed(float(ret))),
        str(r.get("trades", 0)),
        _num(r.get("win_rate"), ".0f", 100, "%"),
        (str(r.get("note") or ""), pal.muted),
    ]


def describe(doc: dict[str, Any]) -> str:
    """The line under the table: what was run, over what, and how it is scored."""
    if doc.get("error"):
        return str(doc["error"])
    symbols = ", ".join(doc.get("symbols") or [])
    line = (
        f"{str(doc.get('start', ''))[:10]} to {str(doc.get('end', ''))[:10]}, {doc.get('data', '?')} {symbols}, "
        f"{float(doc.get('capital') or 0):,.0f} each · Sharpe on {doc.get('grid', '?')} bars · "
        f"a rank needs {doc.get('min_trades', '?')} trades"
    )
    progress = doc.get("progress") or {}
    if progress.get("running"):
        line += f" · running {progress['running']}"
    live = doc.get("live") or {}
    if live:  # a live league: the season, and what the sub-accounts hold now
        held = [f"{n} {len(a.get('open_positions') or [])} open" for n, a in (doc.get("accounts") or {}).items()
                if a.get("open_positions")]  # fmt: skip
        line += f" · season to {str(live.get('season_end', ''))[:16].replace('T', ' ')}"
        line += f" · {', '.join(held)}" if held else ""
    if doc.get("waiting"):
        line += f" · nothing traded yet: {doc['waiting']}"
    return line


class LeaguePane(Pane):
    KEY = "league"
    TITLE = "League"
    TAB = "League"

    def __init__(self) -> None:
        super().__init__()
        self._note = ""

    def compose(self) -> ComposeResult:
        table = LiveTable(id="league-table", cursor_type="row")
        self._sync = FittedTable(table, COLUMNS, drop=("TF", "DSR", "Win", "Trades", "Max DD"), flex="Note")
        self._note_label = Static("", id="league-note")
        yield table
        yield self._note_label

    def update_view(self, view: View) -> None:
        raw = view.snapshot.extra.get("league")
        doc: dict[str, Any] = raw if isinstance(raw, dict) else {}
        rows = [r for r in doc.get("rows") or [] if isinstance(r, dict)]
        self._sync.fit()
        self._sync.sync({str(r.get("strategy")): row_cells(r, view.palette) for r in rows})
        progress = doc.get("progress") or {}
        if not doc:
            title = "League · none run yet (tui-trader league run --strategies a,b,c)"
        elif doc.get("error"):
            title = "League · unreadable"
        else:
            title = f"League · {doc.get('season', '')}"
            live = doc.get("live") or {}
            if live:
                title += f" · live, {live.get('status')} · as of {str(live.get('as_of', ''))[11:16]} UTC"
            elif progress and progress.get("done") != progress.get("of"):
                title += f" · {progress.get('done')}/{progress.get('of')} run"
        self.set_title(title)
        note = describe(doc) if doc else ""
        if note != self._note:
            self._note = note
            label = self._note_label
            style = view.palette.error if doc.get("error") else view.palette.muted
            label.update(Text(note, style=style))
            label.display = bool(note)

    def selected_strategy(self) -> str | None:
        return self._sync.selected_key()
