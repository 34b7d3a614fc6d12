"""The positions a broker holds, against the ones the engine counted from its fills.

The engine's positions are its fills added up; a broker (Alpaca, Interactive Brokers, Schwab,
Webull, Moomoo) also says what it holds. Each time a venue's account is read and believed (at start,
after each reconnect, after `venue reconnect`: engine/cash_reread.py, which reads the
positions with the balances, by the same rule), the two are compared per symbol:

- the broker holds more on our side: stocks bought elsewhere (in its own app, before
  tui_trader). Not a disagreement: they are not the engine's to trade;
- the broker holds less, nothing, or the other side: the engine would sell (or cover, or stop
  out) shares that are not there. A fill we never heard of, or shares sold elsewhere. That is
  a disagreement: a warning names the symbol and both quantities, the venue's row in `status`
  and `status --json` (`positions_disagree`) keeps it until a later read agrees, and the audit
  has a row.

Nothing is adopted by itself: the engine does not take what a broker says as its own position
(a fill is booked only from the venue's fill, with its price and fee) until the trader says so
(`venue adopt NAME SYMBOL`: engine/position_adopt.py). Meanwhile an exit there goes
no further than what the broker holds (risk/checks.py, `position_disagrees`), or it would open
the other side at the broker instead of closing ours. Margined positions are compared by the margin
figures beside them (engine/derivatives.py), not here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tui_trader.engine.ports import EnginePort
    from tui_trader.execution.portfolio import Portfolio


@dataclass(frozen=True, slots=True)
class Disagreement:
    symbol: str
    ours: Decimal  # signed, as counted from our fills
    theirs: Decimal  # signed, as the venue holds

    def as_dict(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "ours": _qty(self.ours), "at_venue": _qty(self.theirs)}

    def text(self) -> str:
        return f"{self.symbol} {_qty(self.ours)} here, {_qty(self.theirs)} at the venue"


def disagreements(ours: Mapping[str, Decimal], theirs: Mapping[str, Decimal]) -> list[Disagreement]:
    """The symbols where we count what the venue does not hold: less of it on our side, none,
    or the other side. More on our side is stocks bought elsewhere: no disagreement."""
    out = []
    for symbol, qty in sorted(ours.items()):
        held = theirs.get(symbol, Decimal(0))
        if qty and (held * qty <= 0 or abs(held) < abs(qty)):
            out.append(Disagreement(symbol, qty, held))
    return out


def ours_at(portfolio: Portfolio, venue: str) -> dict[str, Decimal]:
    """The engine's unmargined positions at `venue`, by symbol."""
    return {
        symbol: pos.quantity
        for (name, symbol), pos in portfolio.positions.items()
        if name == venue and not pos.margined and pos.quantity
    }


class PositionWatch:
    """The disagreements found at each venue's last read; said when they appear or change, and
    when they are gone."""

    def __init__(self, engine: EnginePort) -> None:
        self.engine = engine
        self.found: dict[str, list[Disagreement]] = {}

    async def compare(self, name: str, theirs: Mapping[str, Decimal]) -> list[Disagreement]:
        e = self.engine
        found = disagreements(ours_at(e.portfolio, name), theirs)
        was = self.found.pop(name, [])
        at_venue = e.portfolio.at_venue
        for key in [k for k in at_venue if k[0] == name]:
            del at_venue[key]
        at_venue.update({(name, d.symbol): d.theirs for d in found})
        if found:
            self.found[name] = found
        if found and found != was:
            said = "; ".join(d.text() for d in found)
            e.notify(
                "warning",
                f"{name}: positions disagree: {said} (a fill not heard of, or sold elsewhere); "
                "check the account at the venue: the engine trades what it counted until "
                f"`venue adopt {name} SYMBOL` takes the venue's figure",
            )
            await e.audit("engine", "positions_disagree", {"venue": name, "found": [d.as_dict() for d in found]})
        elif was and not found:
            e.notify("info", f"{name}: positions agree with the venue again")
        return found

    def rows(self, name: str) -> list[dict[str, str]]:
        """`name`'s row in `status --json`: [{symbol, ours, at_venue}] (empty: they agree)."""
        return [d.as_dict() for d in self.found.get(name, ())]


def _qty(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
