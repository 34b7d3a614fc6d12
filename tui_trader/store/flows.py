"""Funding and swap payments in the database: each stored once (venue, flow id), with the
position it changed in the same transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import aiosqlite

from tui_trader.core.cashflows import CashFlow
from tui_trader.core.positions import Position
from tui_trader.store.records import POSITION_COLUMNS, position_row

T = TypeVar("T")
Row = tuple[str, tuple[Any, ...]]

FLOW_COLUMNS = ("venue", "flow_id", "symbol", "kind", "amount", "currency", "rate", "ts")
_INSERT_FLOW = (
    f"INSERT OR IGNORE INTO cash_flows ({','.join(FLOW_COLUMNS)}) VALUES ({','.join('?' * len(FLOW_COLUMNS))})"
)
_UPSERT_POSITION = (
    f"INSERT OR REPLACE INTO positions ({','.join(POSITION_COLUMNS)}) VALUES ({','.join('?' * len(POSITION_COLUMNS))})"
)


def flow_row(f: CashFlow) -> tuple[Any, ...]:
    return (
        f.venue,
        f.flow_id,
        f.symbol,
        f.kind,
        str(f.amount),
        f.currency,
        None if f.rate is None else str(f.rate),
        f.ts.isoformat(),
    )


def flow_from_row(r: Any) -> CashFlow:
    return CashFlow(
        flow_id=r["flow_id"],
        venue=r["venue"],
        symbol=r["symbol"],
        kind=r["kind"],
        amount=Decimal(r["amount"]),
        currency=r["currency"],
        ts=datetime.fromisoformat(r["ts"]),
        rate=None if r["rate"] is None else Decimal(r["rate"]),
    )


def _save_flow(
    conn: sqlite3.Connection, flow: tuple[Any, ...], position: tuple[Any, ...] | None, staged: list[Row]
) -> bool:
    conn.execute("BEGIN IMMEDIATE")
    try:
        inserted = conn.execute(_INSERT_FLOW, flow).rowcount == 1
        if inserted and position is not None:
            conn.execute(_UPSERT_POSITION, position)
        for sql, params in staged:
            conn.execute(sql, params)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return inserted


class CashFlowStore:
    """The Store's part for cash flows (mixed into `Store`)."""

    _db: aiosqlite.Connection

    async def _in_thread(self, fn: Callable[..., T], *args: Any, staged_inside: bool = False) -> T:
        raise NotImplementedError

    async def save_cash_flow(self, flow: CashFlow, position: Position | None, at: datetime) -> bool:
        """Store a payment and the position it changed, in one transaction. False (and nothing
        changed) when the payment was already stored."""
        pos = None if position is None else position_row(position, at)
        return await self._in_thread(_save_flow, flow_row(flow), pos, staged_inside=True)

    async def cash_flow_ids(self) -> set[tuple[str, str]]:
        async with self._db.execute("SELECT venue, flow_id FROM cash_flows") as cur:
            return {(r[0], r[1]) for r in await cur.fetchall()}

    async def load_cash_flows(
        self, *, venue: str | None = None, symbol: str | None = None, limit: int | None = None
    ) -> list[CashFlow]:
        """Newest first."""
        where, args = [], []
        if venue is not None:
            where.append("venue=?")
            args.append(venue)
        if symbol is not None:
            where.append("symbol=?")
            args.append(symbol)
        sql = "SELECT * FROM cash_flows" + (f" WHERE {' AND '.join(where)}" if where else "")
        sql += " ORDER BY ts DESC, rowid DESC" + (f" LIMIT {int(limit)}" if limit else "")
        async with self._db.execute(sql, tuple(args)) as cur:
            return [flow_from_row(r) for r in await cur.fetchall()]

    async def newest_cash_flow_ts(self, venue: str) -> datetime | None:
        async with self._db.execute("SELECT MAX(ts) FROM cash_flows WHERE venue=?", (venue,)) as cur:
            row = await cur.fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None
