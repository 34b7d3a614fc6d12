"""Time and sales for the active symbol: the latest prints, newest on top, coloured by the
side that took liquidity, with an arrow for the tick direction; large prints (five times the
median size shown) are bold.

It asks the engine (`market.trades`) a few times a second while visible, for as many prints as
fit, so a hidden tape costs nothing and a busy market never floods the screen."""

from __future__ import annotations

import contextlib
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.widgets import Static

from tui_trader.ui import format as fmt
from tui_trader.ui.panes.base import Pane
from tui_trader.ui.theme import Palette
from tui_trader.ui.view import View

POLL_S = 0.25
BIG = 5.0  # a print this many times the median size is bold


class TapePane(Pane):
    KEY = "tape"
    TITLE = "Time & sales"
    TAB = "Tape"

    def __init__(self) -> None:
        super().__init__()
        self.prints: list[dict[str, Any]] = []
        self._next = 0.0
        self._busy = False
        self._shown: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static("", id="tape-body")

    def update_view(self, view: View) -> None:
        self.set_title(f"Time & sales · {view.symbol}")
        if view.now >= self._next and not self._busy:
            self._next = view.now + POLL_S
            self._busy = True
            self.run_worker(self._fetch(view), group="tape", exclusive=True)

    async def _fetch(self, view: View) -> None:
        try:
            rows = max(1, self.query_one("#tape-body").size.height or 20)
            client: Any = getattr(self.app, "client", None)
            prints = await client.call("market.trades", symbol=view.symbol, venue=view.venue, limit=rows)
        except Exception as exc:  # a daemon without the command, a venue without prints
            with contextlib.suppress(NoMatches):  # or the workstation closed meanwhile
                self._body().update(Text(f"no prints: {exc}", style="dim"), layout=False)
            return
        finally:
            self._busy = False
        self.prints = list(prints or [])
        inst = view.snapshot.instrument(view.symbol, view.venue)
        key = (tuple((p.get("ts"), p.get("price"), p.get("size")) for p in self.prints[:3]), view.palette)
        if key != self._shown:
            self._shown = key
            nd, qd = (inst.price_decimals, inst.qty_decimals) if inst else (2, 4)
            with contextlib.suppress(NoMatches):  # the workstation closed while the engine answered
                self._body().update(render_tape(self.prints, view.palette, nd, qd), layout=False)

    def _body(self) -> Static:
        """The prints' panel: its size is the pane's (1fr), never its text's, so a new print
        repaints it without laying the whole screen out again (that cost ~0.1 s a time)."""
        return self.query_one("#tape-body", Static)


def render_tape(rows: list[dict[str, Any]], pal: Palette, nd: int, qd: int) -> Text:
    prints = [p for p in rows if not p.get("gap")]
    if not prints:
        return Text("no prints yet", style="dim")
    import statistics  # with the first prints: not before the first paint

    sizes = [float(p.get("size") or 0) for p in prints]
    median = statistics.median(sizes) or 0.0
    text = Text(no_wrap=True, overflow="crop")
    text.append(f"{'time':<12} {'price':>12} {'size':>11}", style="bold")
    i = -1  # the print's index among the prints
    for p in rows:
        text.append("\n")
        if p.get("gap"):  # an outage's span the venue's history could not give back
            since, until = str(p.get("from", ""))[11:19], str(p.get("to", ""))[11:19]
            text.append(f"── no prints {since}-{until}: not in the venue's history ──", style=pal.warning)
            continue
        i += 1
        price, size = float(p.get("price") or 0), float(p.get("size") or 0)
        older = float(prints[i + 1].get("price") or 0) if i + 1 < len(prints) else price
        arrow = "▲" if price > older else "▼" if price < older else " "
        buy = str(p.get("aggressor", "")).lower() == "buy"
        style = pal.up if buy else pal.down
        if median and size >= BIG * median:
            style = f"bold {style}"
        ts = str(p.get("ts", ""))
        clock = ts[11:23] if len(ts) >= 23 else ts[11:19]
        text.append(f"{clock:<12} ", style=pal.muted)
        text.append(f"{fmt.price(price, nd):>11}{arrow} {size:>11,.{min(qd, 6)}f}", style=style)
    return text
