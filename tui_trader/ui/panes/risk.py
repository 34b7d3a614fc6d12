"""Risk: the account, today's P&L against its limit (a gauge), drawdown, VaR/CVaR, exposure,
breakers, protection locks, and a correlation heatmap of the held symbols.

Everything comes from `snapshot.extra["risk"]` (docs/risk.md); unknown entries are listed at
the end, so new ones need no UI change. The pane redraws only when that data changed.
`R` resets tripped breakers (after a confirmation, through the app's client).
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from tui_trader.ui import format as fmt
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View

# Keys of extra["risk"] drawn in their own sections; anything else goes under "Other".
SHOWN_ABOVE = frozenset(
    {
        "equity",
        "cash",
        "gross_exposure",
        "net_exposure",
        "day_pnl",
        "drawdown",
        "halted",
        "daily_loss_limit",
        "day_loss_used",
        "max_drawdown",
        "peak_equity",
        "consecutive_losses",
        "max_consecutive_losses",
        "breakers",
        "locks",
        "exposure",
        "heat",
        "heat_pct",
        "var",
        "correlation",
        "beta",
        "benchmark",
        "emulated",
        "protective_stops",
        "store_fault",
    }
)
FRACTIONS = ("used", "drawdown", "pct", "rate", "ratio")
BREAKERS = (
    ("daily_loss", "Daily loss"),
    ("max_drawdown", "Max drawdown"),
    ("consecutive_losses", "Losing streak"),
)
GAUGE_WIDTH = 20


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


def gauge(used: float | None, pal: Palette, width: int = GAUGE_WIDTH) -> Text:
    """A bar filled to `used` (0..1): calm, then warning past 50 %, error past 80 %."""
    if used is None:
        return Text("no limit set", style=pal.muted)
    used = max(0.0, used)
    filled = min(width, round(min(used, 1.0) * width))
    style = pal.error if used >= 0.8 else pal.warning if used >= 0.5 else pal.up
    text = Text()
    text.append("█" * filled, style=style)
    text.append("░" * (width - filled), style=pal.muted)
    text.append(f" {used * 100:.0f}%", style=f"bold {style}" if used >= 0.8 else "")
    return text


def heat_colour(value: float, pal: Palette) -> str:
    """A correlation as a colour: the theme's up colour for +1, down for -1, muted for 0."""
    base = Color.parse(pal.muted)
    tip = Color.parse(pal.up if value >= 0 else pal.down)
    return base.blend(tip, min(1.0, abs(value))).hex


def heatmap(symbols: list[str], matrix: list[list[float]], pal: Palette) -> Table:
    """The correlation matrix as a small coloured grid, one short label per symbol."""
    labels = [s.split("/")[0][:5] for s in symbols]
    grid = Table.grid(padding=(0, 0))
    grid.add_column(no_wrap=True, min_width=6)
    for _ in symbols:
        grid.add_column(no_wrap=True, width=6, justify="center")
    grid.add_row("", *[Text(f"{lab:^6}", style="bold") for lab in labels])
    for label, row in zip(labels, matrix, strict=False):
        cells = [Text(f"{v:+.2f} ", style=f"bold black on {heat_colour(v, pal)}", justify="center") for v in row]
        grid.add_row(Text(label, style="bold"), *cells)
    return grid


def balances_table(balances: Any, currency: str, pal: Palette, width: int | None = None) -> Table:
    """One row per currency: cash, positions quoted in it, the rate used, and the total value.
    In a narrow pane, amounts go compact (100.1K) and then the rate column goes, rather than
    cutting a number or a currency's name."""
    has_positions = any(b.positions for b in balances)

    def rows(money: Any, rates: bool) -> list[list[Text]]:
        out = [[Text(""), Text("cash", style=pal.muted)]]
        out[0] += [Text("positions", style=pal.muted)] if has_positions else []
        out[0] += ([Text("rate", style=pal.muted)] if rates else []) + [Text(currency, style=pal.muted)]
        for b in balances:
            row = [Text(b.currency, style="bold"), Text(money(b.cash))]
            row += [Text(money(b.positions) if b.positions else "")] if has_positions else []
            if rates:
                if b.currency == currency:
                    row.append(Text("1", style=pal.muted))
                elif b.rate is None:
                    row.append(Text("no quote: 1:1", style=pal.warning))
                else:
                    row.append(Text(f"{b.rate:.6g}"))
            out.append([*row, Text(money(b.value))])
        return out

    def fits(table: list[list[Text]]) -> bool:
        widths = [max(r[i].cell_len for r in table) for i in range(len(table[0]))]
        return width is None or sum(widths) + len(widths) - 1 <= width

    chosen = rows(fmt.money, True)
    for money, rates in ((fmt.compact_money, True), (fmt.compact_money, False)):
        if fits(chosen):
            break
        chosen = rows(money, rates)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    for _ in chosen[0][1:]:
        grid.add_column(no_wrap=True, justify="right")
    for row in chosen:
        grid.add_row(*row)
    return grid


def _section(title: str, pal: Palette) -> Text:
    return Text(title, style=f"bold {pal.accent}")


def _pairs(rows: list[tuple[str, Text | str]], pairs: int) -> Table:
    grid = Table.grid(padding=(0, 1), expand=True)
    for _ in range(pairs):
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(justify="right", overflow="fold")
    for i in range(0, len(rows), pairs):
        cells: list[Text | str] = []
        for label, value in rows[i : i + pairs]:
            cells += [label, value]
        cells += [""] * (2 * pairs - len(cells))
        grid.add_row(*cells)
    return grid


class RiskPane(Pane):
    KEY = "risk"
    TITLE = "Risk"
    TAB = "Risk"

    BINDINGS = [
        Binding(
            "R",
            "reset_breakers",
            "Reset breakers",
            id="risk_reset",
            tooltip="clear tripped circuit breakers (asks first)",
        ),
    ]

    class ResetRequested(Message):
        """Clear the tripped breakers (the app confirms, then calls risk.reset)."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: Any = None
        self._lines = 0
        self.draws = 0  # how many times the body was rebuilt (tests: only on change)
        self.body: RenderableType = ""  # the last body drawn

    def compose(self) -> ComposeResult:
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
            acct.balances,
            snap.halted,
            repr(extra),
            pal,
            self.size.width,
            self._body_width(),
        )
        if key == self._shown:
            return
        self._shown = key
        self.body, lines = self.render_body(snap, extra, pal, pairs=2 if self.size.width >= 60 else 1,
                                            width=self._body_width())  # fmt: skip
        # Relayout only when the number of lines changed; values alone keep the size.
        self.query_one("#risk-body", Static).update(self.body, layout=lines != self._lines)
        self._lines = lines
        self.draws += 1
        self.set_title("Risk · HALTED" if snap.halted else "Risk")

    def _body_width(self) -> int | None:
        """The cells the body has (inside the scroll view and its scrollbar), once laid out."""
        width = self.query_one("#risk-body", Static).content_size.width
        return width if width > 0 else None

    def render_body(self, snap: Any, extra: dict[str, Any], pal: Palette, pairs: int,
                    width: int | None = None) -> tuple[RenderableType, int]:  # fmt: skip
        """(renderable, approximate line count) for the whole pane."""
        acct = snap.account
        parts: list[RenderableType] = []
        lines = 0
        if snap.halted:
            parts.append(Text(f"HALTED: {snap.halted}", style=f"bold reverse {pal.error}"))
        else:
            parts.append(Text("Trading enabled", style=f"bold {pal.up}"))
        lines += 1
        rows: list[tuple[str, Text | str]] = [
            ("Equity", fmt.money(acct.equity)),
            ("Cash", fmt.money(acct.cash)),
            ("Gross exp.", fmt.money(acct.gross_exposure)),
            ("Net exp.", Text(fmt.money(acct.net_exposure, True), style=pal.signed(acct.net_exposure))),
            ("Unrealized", Text(fmt.money(acct.unrealized_pnl, True), style=pal.signed(acct.unrealized_pnl))),
            ("Realized", Text(fmt.money(acct.realized_pnl, True), style=pal.signed(acct.realized_pnl))),
            ("Fees", fmt.money(acct.fees)),
        ]
        if "heat" in extra:
            heat = extra.get("heat") or 0.0
            pct = extra.get("heat_pct")
            rows.append(("Heat", f"{fmt.money(heat)}" + (f" {fmt.pct(pct, False, 1)}" if pct is not None else "")))
        if "beta" in extra:
            beta = extra.get("beta")
            bench = extra.get("benchmark") or "-"
            rows.append((f"Beta {bench}", "-" if beta is None else f"{beta:.2f}"))
        parts.append(_pairs(rows, pairs))
        lines += (len(rows) + pairs - 1) // pairs
        if acct.balances:
            parts.append(_section(f"Balances, in {acct.currency} at live rates", pal))
            parts.append(balances_table(acct.balances, acct.currency, pal, width))
            lines += 2 + len(acct.balances)

        # Today's P&L against its limit, drawdown against its maximum.
        day_pnl = extra.get("day_pnl", acct.day_pnl)
        limit = extra.get("daily_loss_limit")
        dd = extra.get("drawdown", acct.drawdown)
        max_dd = extra.get("max_drawdown")
        gauges = Table.grid(padding=(0, 1))
        gauges.add_column(style="bold", no_wrap=True)
        gauges.add_column(no_wrap=True)
        gauges.add_column(no_wrap=True, justify="right")
        used = extra.get("day_loss_used")
        gauges.add_row(
            "Day P&L",
            gauge(used if limit else None, pal),
            Text(
                f"{fmt.money(day_pnl, True)}" + (f" / -{fmt.money(limit)}" if limit else ""),
                style=pal.signed(day_pnl),
            ),
        )
        dd_used = (dd / max_dd) if max_dd else None
        peak = extra.get("peak_equity")
        gauges.add_row(
            "Drawdown",
            gauge(dd_used, pal),
            f"{fmt.pct(dd, False)}"
            + (f" / {fmt.pct(max_dd, False, 0)}" if max_dd else "")
            + (f" of {(fmt.compact_money if width and width < 60 else fmt.money)(peak)}" if peak else ""),
        )
        parts.append(gauges)
        lines += 2

        # Breakers.
        parts.append(_section("Breakers", pal))
        tripped: dict[str, Any] = extra.get("breakers") or {}
        brk = Table.grid(padding=(0, 1))
        brk.add_column(style="bold", no_wrap=True)
        brk.add_column(no_wrap=True)
        brk.add_column(overflow="fold")
        for name, label in BREAKERS:
            trip = tripped.get(name)
            setting = {
                "daily_loss": limit,
                "max_drawdown": max_dd,
                "consecutive_losses": extra.get("max_consecutive_losses"),
            }[name]
            if trip:
                at = str(trip.get("at", ""))[11:19]
                brk.add_row(
                    label,
                    Text("TRIPPED", style=f"bold reverse {pal.error}"),
                    Text(f"{at} {trip.get('message', '')}".strip(), style=pal.error),
                )
            elif setting is None:
                brk.add_row(label, Text("off", style=pal.muted), "")
            else:
                detail = ""
                if name == "consecutive_losses":
                    detail = f"{extra.get('consecutive_losses', 0)} of {setting} losses"
                brk.add_row(label, Text("ok", style=pal.up), Text(detail, style=pal.muted))
        for name, trip in tripped.items():  # breakers this pane does not know by name
            if name not in dict(BREAKERS):
                brk.add_row(
                    name.replace("_", " ").capitalize(),
                    Text("TRIPPED", style=f"bold reverse {pal.error}"),
                    Text(f"{str(trip.get('at', ''))[11:19]} {trip.get('message', '')}".strip(), style=pal.error),
                )
        parts.append(brk)
        lines += 1 + len(BREAKERS) + sum(1 for n in tripped if n not in dict(BREAKERS))
        if tripped:
            parts.append(Text("R: reset breakers", style=pal.muted))
            lines += 1

        # VaR / CVaR.
        var = extra.get("var")
        if isinstance(var, dict):
            days = var.get("days") or 0
            parts.append(_section(f"VaR 1 day ({days} days of history)", pal))
            vt = Table.grid(padding=(0, 1))
            for col in ("", "hist", "CVaR", "param", "CVaR"):
                vt.add_column(justify="right" if col else "left", no_wrap=True, style="bold" if not col else "")
            vt.add_row("", *[Text(c, style=pal.muted) for c in ("hist", "CVaR", "param", "CVaR")])
            for level in ("95", "99"):
                vt.add_row(
                    f"{level}%",
                    *[fmt.money(var.get(f"{kind}_{level}")) for kind in ("hist", "cvar_hist", "param", "cvar_param")],
                )
            parts.append(vt)
            lines += 4

        # Exposure per symbol.
        exposure: dict[str, float] = extra.get("exposure") or {}
        if exposure:
            parts.append(_section("Exposure", pal))
            et = Table.grid(padding=(0, 1))
            et.add_column(style="bold", no_wrap=True)
            et.add_column(justify="right", no_wrap=True)
            et.add_column(justify="right", no_wrap=True)
            unprotected = set(extra.get("unprotected") or [])
            for sym, value in sorted(exposure.items(), key=lambda kv: -abs(kv[1])):
                share = abs(value) / acct.equity if acct.equity else 0.0
                flag = Text(" no stop", style=pal.warning) if sym in unprotected else Text("")
                et.add_row(
                    sym,
                    Text(fmt.money(value, True), style=pal.signed(value)),
                    Text.assemble(fmt.pct(share, False, 1), flag),
                )
            parts.append(et)
            lines += 1 + len(exposure)

        # Correlation heatmap of the held symbols.
        corr = extra.get("correlation")
        if isinstance(corr, dict) and len(corr.get("symbols") or []) >= 2 and corr.get("matrix"):
            parts.append(_section("Correlation", pal))
            parts.append(heatmap(list(corr["symbols"]), corr["matrix"], pal))
            lines += 2 + len(corr["symbols"])

        # A database that cannot be written halts every order.
        fault = extra.get("store_fault")
        if fault:
            note = f"database not writable ({fault}): every new order is refused"
            parts.append(Text(note, style=f"bold {pal.error}"))
            lines += 1

        # The engine's protective stops on strategy positions.
        protective = extra.get("protective_stops") or []
        if protective:
            parts.append(_section("Protective stops", pal))
            for ps in protective:
                head = f"{ps.get('strategy')} {ps.get('symbol')} {ps.get('quantity')}"
                if ps.get("stop"):
                    how = " (emulated)" if ps.get("emulated") else ""
                    parts.append(Text(f"{head} stop {ps['stop']}{how}"))
                else:
                    parts.append(Text(f"{head}: no stop", style=pal.error))
            lines += 1 + len(protective)

        # Protection locks.
        locks = extra.get("locks") or []
        if locks:
            parts.append(_section("Locks", pal))
            for lock in locks:
                until = str(lock.get("until", ""))[11:16]
                parts.append(
                    Text(
                        f"{lock.get('pair') or 'all'} {lock.get('side') or ''} until {until} "
                        f"{lock.get('method', '')}: {lock.get('reason', '')}".replace("  ", " "),
                        style=pal.warning,
                    )
                )
            lines += 1 + len(locks)

        # Anything else the risk engine publishes.
        other = [
            (name.replace("_", " ").capitalize(), describe_value(name, value))
            for name, value in extra.items()
            if name not in SHOWN_ABOVE and value is not None
        ]
        emulated = extra.get("emulated") or []
        if emulated:
            other.append(("Emulated orders", str(len(emulated))))
        if other:
            parts.append(_section("Other", pal))
            ot = Table.grid(padding=(0, 1))
            ot.add_column(style="bold", no_wrap=True)
            ot.add_column(overflow="fold")
            for label, text in other:
                ot.add_row(label, text)
            parts.append(ot)
            lines += 1 + len(other)
        return Group(*parts), lines

    def action_reset_breakers(self) -> None:
        self.post_message(self.ResetRequested())
