"""The always-visible chrome: the PAPER/LIVE badge, the top line and the status bar (the keys
footer: key_footer.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from tui_trader.core.enums import ConnectionState
from tui_trader.ui import format as fmt
from tui_trader.ui.theme import Palette

if TYPE_CHECKING:  # the engine's snapshot module (and the venues', the portfolio's): not before the first paint
    from tui_trader.engine import EngineSnapshot
    from tui_trader.engine.snapshot import VenueStatus

_STATE_STYLE = {
    ConnectionState.CONNECTED: "up",
    ConnectionState.CONNECTING: "warning",
    ConnectionState.RECONNECTING: "warning",
    ConnectionState.DEGRADED: "warning",
    ConnectionState.DISCONNECTED: "error",
}


class ModeBadge(Static):
    """PAPER or LIVE, big and coloured; never hidden by any layout."""

    def __init__(self) -> None:
        super().__init__(" PAPER ", id="badge", classes="paper")
        self.mode = "paper"
        self.label = " PAPER "

    def show(self, mode: str, halted: bool) -> None:
        label = " LIVE " if mode == "live" else " PAPER "
        if halted:
            label += "· HALTED "
        self.set_class(mode == "live", "live")
        self.set_class(mode != "live", "paper")
        self.set_class(halted, "halted")
        if mode != self.mode or label != self.label:
            self.mode, self.label = mode, label
            self.update(label)


class AttachBadge(Static):
    """`⇄ DAEMON pid 4321` while the workstation is attached to a daemon (hidden in-process):
    quitting here leaves the engine, its orders and strategies running there."""

    def __init__(self) -> None:
        super().__init__("", id="attach-badge")
        self.display = False
        self._shown: object = None

    def show(self, attached: bool, info: dict[str, object] | None, connected: bool = True) -> None:
        key = (attached, connected, tuple(sorted((info or {}).items())) if info else None)
        if key == self._shown:
            return
        self._shown = key
        self.display = attached
        if attached:
            pid = (info or {}).get("pid")
            label = f" ⇄ DAEMON{f' pid {pid}' if pid else ''} " if connected else " ⇄ DAEMON LOST "
            self.set_class(not connected, "lost")
            self.update(label)


class TopLine(Static):
    """Active symbol and its quote, timeframe, equity and today's P&L."""

    def __init__(self) -> None:
        super().__init__("", id="topline")
        self._shown: object = None

    def show(
        self, snap: EngineSnapshot, symbol: str, timeframe: str, pal: Palette, venue: str | None = None
    ) -> None:
        t = snap.ticker(symbol, venue)
        acct = snap.account
        width = self.size.width
        key = (symbol, venue, timeframe, t, acct.equity, acct.day_pnl, pal, width)
        if key == self._shown:
            return
        self._shown = key
        inst = snap.instrument(symbol, venue)
        nd = inst.price_decimals if inst else 2
        # Parts in the order they are dropped when the line is too narrow (day P&L stays).
        where = f"@{snap.venue_of(symbol, venue)} " if symbol in snap.shared() else ""
        quote = f"{fmt.price(t.bid, nd)} / {fmt.price(t.ask, nd)} " if t is not None else ""
        change = f"{fmt.pct(t.change_pct)} " if t is not None else ""
        for level in range(4):
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(f" {symbol} ", style=f"bold {pal.accent}")
            if level < 3:
                text.append(where, style=pal.muted)
            text.append(quote if level < 2 else "")
            text.append(change if level < 3 else "", style=pal.signed(t.change_pct) if t is not None else "")
            if level < 1:
                text.append(f"· {timeframe} · ", style=pal.muted)
            text.append(f"{'equity ' if level < 1 else 'eq '}{fmt.money(acct.equity)} ")
            text.append(f"day {fmt.money(acct.day_pnl, True)}", style=pal.signed(acct.day_pnl))
            if not width or text.cell_len <= width:
                break
        self.update(text, layout=False)  # fixed size: a relayout per frame would cost the CPU budget


class StatusBar(Static):
    """Venue connection states, mode, the engine clock and the last message; on a `tui-trader serve`
    session, first the role the daemon gave it and the user (VIEWER vera)."""

    def __init__(self) -> None:
        super().__init__("starting the engine…", id="statusbar")
        self.role: tuple[str, str] | None = None  # (role, user) of a serve session
        self.message = ""
        self.message_style = ""
        self._shown: object = None

    def say(self, message: str, style: str = "") -> None:
        self.message, self.message_style = message, style

    def show(self, snap: EngineSnapshot, pal: Palette, symbol: str | None = None) -> None:
        sessions = snap.extra.get("sessions")
        market = sessions.get(symbol) if isinstance(sessions, dict) and symbol else None
        fault = (snap.extra.get("risk") or {}).get("store_fault")
        key = (
            market,
            tuple(_venue_key(v) for v in snap.venues),
            fault,
            snap.mode,
            snap.ts.replace(microsecond=0),
            self.message,
            self.message_style,
            self.role,
            pal,
        )
        if key == self._shown:
            return
        self._shown = key
        styles = {"up": pal.up, "warning": pal.warning, "error": pal.error}
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.role is not None:
            role, user = self.role
            style = pal.warning if role == "trader" else pal.muted  # a trader stands out; a viewer is calm
            text.append(f" {role.upper()} ", style=f"bold reverse {style}")
            text.append(f" {user} │ ", style=pal.muted)
        for v in snap.venues:
            text.append("● ", style=styles[_STATE_STYLE.get(v.state, "warning")])
            text.append(f"{v.name} {v.state.value}")
            trouble = _troubled(v)
            if trouble:  # a stream down or silent while others flow: say which
                text.append(f" ({trouble})", style=pal.warning)
            if v.rate_limited:
                text.append(" rate limited", style=pal.warning)
            if v.cash_unknown:  # orders adding to a position there are refused until its balances are read
                text.append(" cash not known", style=pal.warning)
            if v.positions_disagree:  # the broker holds less than we count: `status` says how much
                symbols = ", ".join(d["symbol"] for d in v.positions_disagree)
                text.append(f" positions disagree ({symbols})", style=pal.warning)
            text.append("  ")
        if fault:  # every new order is refused until the database takes writes again
            text.append(f"DATABASE NOT WRITABLE ({fault}): orders halted ", style=f"bold {pal.error}")
        text.append(f"│ {snap.mode.upper()} │ {snap.ts:%H:%M:%S} UTC │ ", style=pal.muted)
        if market:  # the active symbol's exchange is not 24/7: open until, or opens in
            text.append(f"{symbol}: {market} ", style=pal.up if market.split(",")[0].endswith(" open") else pal.warning)
            text.append("│ ", style=pal.muted)
        text.append(self.message, style=self.message_style)
        self.update(text, layout=False)


def _venue_key(v: VenueStatus) -> tuple[object, ...]:
    """What of a venue the bar shows: redrawn when it changes."""
    disagree = tuple(d["symbol"] for d in v.positions_disagree)
    return (v.name, v.state, v.detail, _troubled(v), bool(v.rate_limited), v.cash_unknown, disagree)


def _troubled(v: VenueStatus) -> str:
    """The venue's streams that are not delivering, in a few words ("orders silent")."""
    bad = [f"{s.name} {s.state}" for s in v.streams if s.state in ("silent", "down", "stopped")]
    return ", ".join(bad[:2]) + (f" +{len(bad) - 2}" if len(bad) > 2 else "")


def live_venues(snap: EngineSnapshot) -> list[str]:
    """Names of the venues that trade real money."""
    return [v.name for v in snap.venues if v.is_live]


class LiveBanner(Static):
    """A full-width red line while a live venue is connected and not armed: orders to it are
    refused until the trader arms live trading (A, with the venue's name typed)."""

    def __init__(self) -> None:
        super().__init__("", id="live-banner")
        self.display = False
        self._shown: object = None

    def show(self, snap: EngineSnapshot, armed: bool) -> None:
        live = live_venues(snap)
        wanted = (snap.mode == "live" or bool(live)) and not armed
        key = (wanted, tuple(live))
        if key == self._shown:
            return
        self._shown = key
        self.display = wanted
        if wanted:
            names = ", ".join(live) or "a live venue"
            self.update(
                Text.assemble(
                    (" ⚠ LIVE MONEY ", "bold reverse"),
                    f" {names} is live and NOT ARMED: orders to it are refused. ",
                    ("Press A to arm live trading", "bold"),
                    " (you type the venue name).",
                )
            )
