"""Sub-ledgers: positions and P&L per owner (a strategy, or "" for manual) and symbol.

Every fill goes to the owner of its order. A fill of an order nobody owns (manual, the kill
switch, an order imported from the venue) first closes manual's own opposite position, then the
strategies' positions it reduces (largest first); what is left is manual's. So the sub-ledgers
always sum to the account's position, and two strategies on one symbol each show their own part.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from tui_trader.core.fills import Fill
from tui_trader.core.positions import Position

MANUAL = ""  # the owner of orders no strategy placed
ZERO = Decimal(0)
FEE_STEP = Decimal("1e-12")
Key = tuple[str, str, str]  # (owner, venue, symbol)


class SubLedgers:
    def __init__(self) -> None:
        self.positions: dict[Key, Position] = {}

    def position(self, owner: str, venue: str, symbol: str) -> Position:
        key = (owner, venue, symbol)
        pos = self.positions.get(key)
        if pos is None:
            pos = self.positions[key] = Position(venue, symbol)
        return pos

    def holders(self, venue: str, symbol: str) -> dict[str, Position]:
        """Owners with a position in (venue, symbol)."""
        return {o: p for (o, v, s), p in self.positions.items() if v == venue and s == symbol and not p.is_flat}

    def apply(self, owner: str | None, fill: Fill) -> list[tuple[str, Position]]:
        """Book a fill; returns the (owner, sub-position) pairs it changed."""
        parts = [(owner, fill)] if owner else self._allocate(fill)
        changed = []
        for who, part in parts:
            pos = self.position(who, fill.venue, fill.symbol)
            pos.apply(part)
            changed.append((who, pos))
        return changed

    def _allocate(self, fill: Fill) -> list[tuple[str, Fill]]:
        sign = fill.side.sign
        opposite = [
            (o, p) for o, p in self.holders(fill.venue, fill.symbol).items() if p.quantity * sign < 0
        ]
        opposite.sort(key=lambda item: (item[0] != MANUAL, -abs(item[1].quantity), item[0]))
        left = fill.quantity
        shares: list[tuple[str, Decimal]] = []
        for who, pos in opposite:
            take = min(left, abs(pos.quantity))
            if take <= 0:
                break
            shares.append((who, take))
            left -= take
        if left > 0:
            shares.append((MANUAL, left))
        merged: dict[str, Decimal] = {}
        for who, qty in shares:
            merged[who] = merged.get(who, ZERO) + qty
        if len(merged) == 1:
            return [(next(iter(merged)), fill)]
        out: list[tuple[str, Fill]] = []
        fee_left = fill.fee
        items = list(merged.items())
        for i, (who, qty) in enumerate(items):
            # Parts on a fixed grid and the remainder to the last: the parts sum to the fee exactly.
            fee = fee_left if i == len(items) - 1 else (fill.fee * qty / fill.quantity).quantize(FEE_STEP)
            fee_left -= fee
            out.append((who, replace(fill, quantity=qty, fee=fee)))
        return out

    def seed(self, owner: str, position: Position) -> None:
        """Put a position the sub-ledgers do not account for under `owner` (start-up, upgrades)."""
        key = (owner, position.venue, position.symbol)
        held = self.positions.get(key)
        if held is None or held.is_flat:
            self.positions[key] = Position(
                position.venue, position.symbol, position.quantity, position.average_price
            )
            return
        held.quantity += position.quantity
        if held.quantity == 0:
            held.average_price = ZERO

    def unaccounted(self, account: dict[tuple[str, str], Position]) -> list[Position]:
        """What each account position holds beyond the sum of its sub-positions."""
        out = []
        keys = set(account) | {(v, s) for (_, v, s) in self.positions}
        for venue, symbol in keys:
            acct = account.get((venue, symbol))
            total = sum((p.quantity for (_, v, s), p in self.positions.items() if (v, s) == (venue, symbol)), ZERO)
            diff = (acct.quantity if acct is not None else ZERO) - total
            if diff != 0:
                price = acct.average_price if acct is not None and not acct.is_flat else ZERO
                out.append(Position(venue, symbol, diff, price))
        return out

    def rows(self, marks: dict[tuple[str, str], float]) -> list[dict[str, Any]]:
        """Every owner's part, for the strategies pane and `positions --by-strategy`."""
        out = []
        for (owner, venue, symbol), pos in sorted(self.positions.items()):
            if pos.is_flat and pos.realized_pnl == 0:
                continue
            mark = marks.get((venue, symbol), 0.0)
            unreal = float(pos.quantity) * (mark - float(pos.average_price)) if mark and not pos.is_flat else 0.0
            out.append(
                {
                    "owner": owner or "manual",
                    "venue": venue,
                    "symbol": symbol,
                    "quantity": str(pos.quantity),
                    "average_price": str(pos.average_price),
                    "realized_pnl": float(pos.realized_pnl),
                    "unrealized_pnl": unreal,
                    "fees": float(pos.fees),
                    "pnl": float(pos.realized_pnl) - float(pos.fees) + unreal,
                }
            )
        return out

    def owners(self, venue: str, symbol: str) -> list[str]:
        """Who holds a part of (venue, symbol): strategies by name, then manual."""
        return [o or "manual" for o in sorted(self.holders(venue, symbol), key=lambda o: (o == MANUAL, o))]
