"""Risk: equity, cash, exposure, today's P&L, drawdown and the halted state.

The risk engine adds `snapshot.extra["risk"]` (breakers, limits, locks, metrics); whatever
it holds beyond the account figures is listed under them, so new entries need no UI change.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui_trader.ui import format as fmt
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View

# Keys of extra["risk"] that the account rows already show.
SHOWN_ABOVE = frozenset(
    {"equity", "cash", "gross_exposure", "net_exposure", "day_pnl", "drawdown", "halted"}
)
FRACTIONS = ("used", "drawdown", "pct", "rate", "ratio")


def describe_value(key: str, value: Any) -> str:
    """One short cell for any value the risk engine publishes."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if any(word in key for word in FRACTIONS):
            return fmt.pct(value, signed=False)
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        items = [f"{k}={describe_value(str(k), v)}" for k, v in value.items() if v is not None]
        return ", ".join(items) if items else "none"
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value) if value else "none"
    return str(value)


class RiskPane(Pane):
    KEY = "risk"
    TITLE = "Risk"
    TAB = "Risk"

    def __init__(self) -> None:
        super().__init__()
        self._shown: Any = None
        self._rows = 0

    def compose(self):  # type: ignore[no-untyped-def]
        with VerticalScroll(id="risk-scroll"):
            yield Static(id="risk-body")

    def update_view(self, view: View) -> None:
        snap, pal = view.snapshot, view.palette
        acct = snap.account
        raw = snap.extra.get("risk")
        extra: dict[str, Any] = raw if isinstance(raw, dict) else {}
        key = (
            acct.equity,
            acct.cash,
            acct.gross_exposure,
            acct.net_exposure,
            acct.day_pnl,
            acct.drawdown,
            acct.unrealized_pnl,
            acct.realized_pnl,
            acct.fees,
            snap.halted,
            repr(extra),
            pal,
            self.size.width,
        )
        if key == self._shown:
            return
        self._shown = key
        rows: list[tuple[str, Text | str]] = []
        if snap.halted:
            rows.append(("HALTED", Text(snap.halted, style=f"bold {pal.error}")))
        else:
            rows.append(("Trading", Text("enabled", style=pal.up)))
        rows += [
            ("Equity", fmt.money(acct.equity)),
            ("Cash", fmt.money(acct.cash)),
            ("Gross exp.", fmt.money(acct.gross_exposure)),
            (
                "Net exp.",
                Text(fmt.money(acct.net_exposure, True), style=pal.signed(acct.net_exposure)),
            ),
            ("Day P&L", Text(fmt.money(acct.day_pnl, True), style=pal.signed(acct.day_pnl))),
            (
                "Drawdown",
                Text(fmt.pct(acct.drawdown, signed=False), style=_dd_style(acct.drawdown, pal)),
            ),
            (
                "Unrealized",
                Text(fmt.money(acct.unrealized_pnl, True), style=pal.signed(acct.unrealized_pnl)),
            ),
            (
                "Realized",
                Text(fmt.money(acct.realized_pnl, True), style=pal.signed(acct.realized_pnl)),
            ),
            ("Fees", fmt.money(acct.fees)),
        ]
        breakers = extra.get("breakers")
        if breakers:
            rows.append(
                ("Breakers", Text(describe_value("breakers", breakers), style=f"bold {pal.error}"))
            )
        for name, value in extra.items():
            if name in SHOWN_ABOVE or name == "breakers" or value is None:
                continue
            rows.append((name.replace("_", " ").capitalize(), describe_value(name, value)))
        # Relayout only when the number of lines changed; values alone keep the size.
        self.query_one("#risk-body", Static).update(
            self._table(rows, pairs=2 if self.size.width >= 60 else 1),
            layout=len(rows) != self._rows,
        )
        self._rows = len(rows)
        self.set_title("Risk · HALTED" if snap.halted else "Risk")

    @staticmethod
    def _table(rows: list[tuple[str, Text | str]], pairs: int) -> Table:
        grid = Table.grid(padding=(0, 1), expand=True)
        for _ in range(pairs):
            grid.add_column(style="bold", no_wrap=True)
            grid.add_column(justify="right", overflow="fold")
        core, extra = rows[:10], rows[10:]
        for i in range(0, len(core), pairs):
            cells: list[Text | str] = []
            for label, value in core[i : i + pairs]:
                cells += [label, value]
            grid.add_row(*cells)
        for label, value in extra:  # long values (limits, locks): one per line
            grid.add_row(label, value, *([""] * (2 * pairs - 2)))
        return grid


def _dd_style(drawdown: float, pal: Palette) -> str:
    return pal.error if drawdown >= 0.05 else pal.warning if drawdown > 0 else ""
