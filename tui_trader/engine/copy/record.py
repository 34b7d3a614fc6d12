"""A leader's track record at the follower: what was mirrored, skipped and why, the slippage
and delay of each mirrored fill, and the P&L of the copy beside the leader's own P&L on the
same trades at the follower's size (so the difference is what copying cost: slippage, partial
fills, fees, skipped exits)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from statistics import median
from typing import Any

from tui_trader.core.enums import Liquidity
from tui_trader.core.fills import Fill
from tui_trader.core.positions import Position
from tui_trader.store.mirrors import SENDING, Mirror

ZERO = Decimal(0)
RECENT = 20


@dataclass
class TrackRecord:
    mirrors: dict[str, Mirror] = field(default_factory=dict)  # by leader fill key
    by_order: dict[str, Mirror] = field(default_factory=dict)  # by the follower's client order id
    ours: dict[str, Position] = field(default_factory=dict)  # the copy, per symbol
    theirs: dict[str, Position] = field(default_factory=dict)  # the leader at our size, per symbol
    filled: dict[str, Decimal] = field(default_factory=dict)  # per client order id
    notional: dict[str, Decimal] = field(default_factory=dict)
    first_fill_s: dict[str, float] = field(default_factory=dict)  # delay per client order id
    duplicates: int = 0
    seen_ids: set[str] = field(default_factory=set)  # follower fill ids applied

    def add(self, mirror: Mirror) -> None:
        self.mirrors[mirror.fill_key] = mirror
        if mirror.client_order_id:
            self.by_order[mirror.client_order_id] = mirror

    def on_fill(self, fill: Fill) -> Mirror | None:
        """One of the follower's fills; the mirror it belongs to (None: not this leader's)."""
        mirror = self.by_order.get(fill.client_order_id)
        key = f"{fill.venue}:{fill.fill_id}"
        if mirror is None or key in self.seen_ids:
            return None
        self.seen_ids.add(key)
        cid = fill.client_order_id
        first = cid not in self.filled
        self.filled[cid] = self.filled.get(cid, ZERO) + fill.quantity
        self.notional[cid] = self.notional.get(cid, ZERO) + fill.quantity * fill.price
        if first:
            self.first_fill_s[cid] = (fill.ts - mirror.leader_ts).total_seconds()
            planned = Decimal(str(mirror.detail.get("order_quantity") or fill.quantity))
            share = planned / mirror.quantity if mirror.quantity > 0 else Decimal(1)
            fee = Decimal(str(mirror.detail.get("leader_fee") or 0)) * share  # the leader's fee at our size
            leader_part = Fill(mirror.fill_key, "", fill.venue, fill.symbol, mirror.side, planned, mirror.price,
                               fee, "", Liquidity.TAKER, mirror.leader_ts)  # fmt: skip
            self.theirs.setdefault(fill.symbol, Position(fill.venue, fill.symbol)).apply(leader_part)
        self.ours.setdefault(fill.symbol, Position(fill.venue, fill.symbol)).apply(fill)
        return mirror

    def on_protective_fill(self, fill: Fill, level: Decimal | None) -> None:
        """A fill of the copy's own stop or target (a chat leader's call's levels): the call is
        taken to have closed there too, at the level, for the leader's P&L at your size."""
        key = f"{fill.venue}:{fill.fill_id}"
        if key in self.seen_ids:
            return
        self.seen_ids.add(key)
        price = level if level is not None and level > 0 else fill.price
        theirs = Fill(key, "", fill.venue, fill.symbol, fill.side, fill.quantity, price, ZERO, "",
                      Liquidity.TAKER, fill.ts)  # fmt: skip
        self.theirs.setdefault(fill.symbol, Position(fill.venue, fill.symbol)).apply(theirs)
        self.ours.setdefault(fill.symbol, Position(fill.venue, fill.symbol)).apply(fill)

    def newest_leader_ts(self) -> datetime | None:
        """When the newest leader fill on record happened (None: none yet)."""
        return max((m.leader_ts for m in self.mirrors.values()), default=None)

    def held(self, symbol: str) -> Decimal:
        pos = self.ours.get(symbol)
        return pos.quantity if pos is not None else ZERO

    def summary(self, marks: dict[str, float]) -> dict[str, Any]:
        statuses = Counter(m.status for m in self.mirrors.values())
        skipped = Counter(str(m.detail.get("code") or "other") for m in self.mirrors.values() if m.status == "skipped")
        slips = [self.slippage_bps(cid) for cid in self.filled]
        delays = [self.first_fill_s[cid] for cid in self.filled]
        ours, theirs = self._pnl(self.ours, marks), self._pnl(self.theirs, marks)
        calls = Counter(str(m.detail["kind"]) for m in self.mirrors.values() if m.detail.get("kind"))
        return {
            "seen": len(self.mirrors),
            "mirrored": len(self.filled),
            "sent": statuses.get("sent", 0),
            "rejected": statuses.get("rejected", 0),
            "pending": statuses.get(SENDING, 0),
            "skipped": sum(skipped.values()),
            "skipped_by": dict(sorted(skipped.items())),
            "duplicates": self.duplicates,
            "slippage_bps": _stats(slips),
            "delay_s": _stats(delays),
            "pnl": {"mirrored": ours, "leader_at_your_size": theirs, "difference": ours - theirs},
            "positions": {s: str(p.quantity) for s, p in sorted(self.ours.items()) if not p.is_flat},
            **({"calls": dict(sorted(calls.items()))} if calls else {}),  # a chat leader's calls by kind
        }

    def slippage_bps(self, cid: str) -> float:
        """How much worse than the leader's price our average fill was, in bps (negative: better)."""
        mirror = self.by_order[cid]
        qty = self.filled[cid]
        if qty <= 0 or mirror.price <= 0:
            return 0.0
        avg = self.notional[cid] / qty
        return float((avg - mirror.price) / mirror.price * 10_000) * mirror.side.sign

    def recent(self, n: int = RECENT) -> list[dict[str, Any]]:
        out = []
        for m in sorted(self.mirrors.values(), key=lambda m: m.seen_at)[-n:]:
            cid = m.client_order_id
            doc = m.as_dict()
            if cid and cid in self.filled:
                doc["filled"] = str(self.filled[cid])
                doc["fill_price"] = str((self.notional[cid] / self.filled[cid]).normalize())
                doc["slippage_bps"] = round(self.slippage_bps(cid), 2)
                doc["delay_s"] = round(self.first_fill_s[cid], 3)
            out.append(doc)
        return out

    @staticmethod
    def _pnl(positions: dict[str, Position], marks: dict[str, float]) -> float:
        total = 0.0
        for symbol, pos in positions.items():
            pos.mark = marks.get(symbol, 0.0) or float(pos.average_price)
            total += float(pos.realized_pnl) - float(pos.fees) + pos.unrealized_pnl
        return round(total, 6)


def _stats(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"avg": None, "median": None, "max": None}
    avg = sum(values) / len(values)
    return {"avg": round(avg, 4), "median": round(median(values), 4), "max": round(max(values), 4)}
