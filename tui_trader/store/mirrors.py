"""Copy trading's ledger: every leader fill the follower saw, and what became of it.

A row is inserted (status `sending`, with the client order id it will use) and committed
before the mirrored order is sent; the primary key (leader, fill key) makes a second insert of
the same leader fill fail, so no fill is mirrored twice, across restarts too.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tui_trader.core.enums import Side
from tui_trader.core.fills import Fill
from tui_trader.store.records import fill_from_row

if TYPE_CHECKING:
    from tui_trader.store.db import Store

SENDING = "sending"  # written, order not yet placed (or the follower stopped in between)
STATUSES = (SENDING, "sent", "rejected", "skipped")


@dataclass
class Mirror:
    leader: str
    fill_key: str
    leader_ts: datetime
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    seen_at: datetime
    status: str
    reason: str = ""
    client_order_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def row(self) -> tuple[Any, ...]:
        return (
            self.leader, self.fill_key, self.leader_ts.isoformat(), self.symbol, self.side.value,
            str(self.quantity), str(self.price), self.seen_at.isoformat(), self.status, self.reason,
            self.client_order_id, json.dumps(self.detail, default=str),
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "leader": self.leader,
            "fill": self.fill_key,
            "leader_ts": self.leader_ts,
            "symbol": self.symbol,
            "side": self.side.value,
            "quantity": str(self.quantity),
            "price": str(self.price),
            "seen_at": self.seen_at,
            "status": self.status,
            "reason": self.reason,
            "client_order_id": self.client_order_id,
            **self.detail,
        }


class DuplicateMirror(Exception):
    """This leader fill has a row already: it was seen (and acted on) before."""


class MirrorRecords:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def insert(self, mirror: Mirror) -> None:
        """Commit the row now (DuplicateMirror if this leader fill has one)."""
        try:
            await self.store._write(
                "INSERT INTO copy_mirrors (leader, fill_key, leader_ts, symbol, side, quantity, price, seen_at,"
                " status, reason, client_order_id, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                mirror.row(),
            )
        except sqlite3.IntegrityError:
            raise DuplicateMirror(mirror.fill_key) from None

    async def update(self, mirror: Mirror) -> None:
        await self.store._write(
            "UPDATE copy_mirrors SET status=?, reason=?, client_order_id=?, detail=? WHERE leader=? AND fill_key=?",
            (
                mirror.status,
                mirror.reason,
                mirror.client_order_id,
                json.dumps(mirror.detail, default=str),
                mirror.leader,
                mirror.fill_key,
            ),
        )

    async def load(self, leader: str) -> list[Mirror]:
        sql = "SELECT * FROM copy_mirrors WHERE leader=? ORDER BY leader_ts, rowid"
        async with self.store._db.execute(sql, (leader,)) as cur:
            rows = await cur.fetchall()
        return [
            Mirror(
                r["leader"],
                r["fill_key"],
                datetime.fromisoformat(r["leader_ts"]),
                r["symbol"],
                Side(r["side"]),
                Decimal(r["quantity"]),
                Decimal(r["price"]),
                datetime.fromisoformat(r["seen_at"]),
                r["status"],
                r["reason"],
                r["client_order_id"],
                json.loads(r["detail"] or "{}"),
            )
            for r in rows
        ]

    async def fills(self, leader: str) -> list[tuple[Fill, Decimal | None]]:
        """The follower's own fills of the orders mirrored from `leader`, and of the copy's own
        stops and targets (orders tagged `copy:<leader>`), oldest first, each with the level of
        a stop or target (None for a mirrored order)."""
        sql = (
            "SELECT f.*, o.stop_price AS o_stop, o.price AS o_price, o.reduce_only AS o_reduce, "
            "m.fill_key AS m_key FROM fills f LEFT JOIN orders o ON o.client_order_id = f.client_order_id "
            "LEFT JOIN copy_mirrors m ON m.client_order_id = f.client_order_id AND m.leader = ? "
            "WHERE m.fill_key IS NOT NULL OR (o.tag = ? AND o.reduce_only = 1) ORDER BY f.ts, f.rowid"
        )
        out: list[tuple[Fill, Decimal | None]] = []
        async with self.store._db.execute(sql, (leader, f"copy:{leader}")) as cur:
            for r in await cur.fetchall():
                level = None if r["m_key"] is not None else (r["o_stop"] or r["o_price"])
                out.append((fill_from_row(r), None if level is None else Decimal(level)))
        return out
