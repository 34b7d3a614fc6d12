"""The trading database. Orders are written before they are sent; fills are idempotent."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from tui_trader.core.errors import UserError
from tui_trader.core.fills import Fill
from tui_trader.core.orders import Order
from tui_trader.core.positions import Position
from tui_trader.core.signals import Signal
from tui_trader.store.migrations import MIGRATIONS
from tui_trader.store.records import (
    FILL_COLUMNS,
    ORDER_COLUMNS,
    POSITION_COLUMNS,
    fill_from_row,
    fill_row,
    order_from_row,
    order_row,
    position_from_row,
    position_row,
)

T = TypeVar("T")
log = logging.getLogger(__name__)


class StoreError(UserError):
    """The database is unreadable, corrupt, or from a newer version."""


def _placeholders(n: int) -> str:
    return ",".join("?" * n)


_UPSERT_ORDER = (
    f"INSERT INTO orders ({','.join(ORDER_COLUMNS)}) VALUES ({_placeholders(len(ORDER_COLUMNS))}) "
    f"ON CONFLICT(client_order_id) DO UPDATE SET " + ",".join(f"{c}=excluded.{c}" for c in ORDER_COLUMNS[1:])
)
_INSERT_FILL = f"INSERT OR IGNORE INTO fills ({','.join(FILL_COLUMNS)}) VALUES ({_placeholders(len(FILL_COLUMNS))})"
_UPSERT_POSITION = (
    f"INSERT OR REPLACE INTO positions ({','.join(POSITION_COLUMNS)}) VALUES ({_placeholders(len(POSITION_COLUMNS))})"
)


class Store:
    def __init__(self, conn: aiosqlite.Connection, path: Path | None) -> None:
        self._db = conn
        self.path = path
        self._checkpointer: asyncio.Task[None] | None = None
        self._audit_rows: list[tuple[str, str, str, str]] = []
        self._audit_flush: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: Path | None) -> Store:
        """Open (creating and migrating) the database. `None` keeps it in memory."""
        target = ":memory:" if path is None else str(path)
        if path is not None and path.exists():
            _check_header(path)
        try:
            # Autocommit: each write is one statement and one trip to the database thread;
            # multi-statement writes use explicit BEGIN/COMMIT.
            conn = await aiosqlite.connect(target, isolation_level=None)
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA busy_timeout=5000")
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            store = cls(conn, path)
            await store._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"database {target} cannot be used ({exc}); it was left untouched: move it away or pass --home"
            ) from None
        if path is not None:
            path.chmod(0o600)
            # Writers never pay for checkpoints: a second connection copies the WAL into the
            # database on a timer (an automatic checkpoint would fsync inside a commit).
            await conn.execute("PRAGMA wal_autocheckpoint=0")
            store._checkpointer = asyncio.create_task(_checkpoint_loop(path), name="db-checkpoint")
        return store

    async def _migrate(self) -> None:
        await self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        async with self._db.execute("SELECT MAX(version) FROM schema_version") as cur:
            row = await cur.fetchone()
        assert row is not None  # an aggregate always returns one row
        current = row[0] or 0
        if current > len(MIGRATIONS):
            raise StoreError(
                f"database schema version {current} is newer than this tui-trader knows "
                f"({len(MIGRATIONS)}); upgrade tui-trader"
            )
        for version in range(current + 1, len(MIGRATIONS) + 1):
            await self._db.executescript(
                "BEGIN;" + MIGRATIONS[version - 1] + f";INSERT INTO schema_version VALUES ({version}); COMMIT;"
            )

    async def close(self) -> None:
        await self.flush()
        if self._audit_flush is not None:
            self._audit_flush.cancel()
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            try:
                await self._checkpointer
            except asyncio.CancelledError:
                pass
            self._checkpointer = None
            try:
                await self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError:
                pass
        await self._db.close()

    async def schema_version(self) -> int:
        async with self._db.execute("SELECT MAX(version) FROM schema_version") as cur:
            row = await cur.fetchone()
        assert row is not None  # an aggregate always returns one row
        return int(row[0] or 0)

    # -- orders and fills ------------------------------------------------------------------

    async def save_order(self, order: Order) -> None:
        await self._write(_UPSERT_ORDER, order_row(order))

    async def load_orders(self, *, open_only: bool = False, limit: int | None = None) -> list[Order]:
        sql = "SELECT * FROM orders"
        if open_only:
            sql += " WHERE status IN ('new','accepted','partially_filled')"
        sql += " ORDER BY created_at DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        async with self._db.execute(sql) as cur:
            return [order_from_row(r) for r in await cur.fetchall()]

    async def get_order(self, client_order_id: str) -> Order | None:
        async with self._db.execute("SELECT * FROM orders WHERE client_order_id=?", (client_order_id,)) as cur:
            row = await cur.fetchone()
        return order_from_row(row) if row else None

    async def save_fill(
        self, fill: Fill, order: Order | None = None, position: Position | None = None, at: datetime | None = None
    ) -> bool:
        """Store a fill with the order and position it changed, in one transaction.

        Returns False (and changes nothing) if the fill was already stored.
        """
        rows = (
            fill_row(fill),
            None if order is None else order_row(order),
            None if position is None else position_row(position, at or fill.ts),
        )
        return await self._in_thread(_save_fill, *rows)

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        await self._in_thread(_execute, sql, params)

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)` on the database thread in one hop, after any queued audit rows.

        A write of several statements is then one trip, not one per statement: fewer
        hand-offs between the event loop and the thread (the round-trip tail) and nothing from
        another task can slip in between its statements.
        """
        db = self._db
        audit, self._audit_rows = self._audit_rows, []

        def run() -> T:
            if audit:
                db._conn.executemany(_INSERT_AUDIT, audit)
            return fn(db._conn, *args)

        return cast(T, await db._execute(run))

    async def newest_fill_ts(self, venue: str) -> datetime | None:
        async with self._db.execute("SELECT MAX(ts) FROM fills WHERE venue=?", (venue,)) as cur:
            row = await cur.fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    async def has_orders(self, venue: str) -> bool:
        async with self._db.execute("SELECT 1 FROM orders WHERE venue=? LIMIT 1", (venue,)) as cur:
            return await cur.fetchone() is not None

    async def fill_ids(self) -> set[tuple[str, str]]:
        async with self._db.execute("SELECT venue, fill_id FROM fills") as cur:
            return {(r[0], r[1]) for r in await cur.fetchall()}

    async def load_fills(self, *, limit: int | None = None) -> list[Fill]:
        sql = "SELECT * FROM fills ORDER BY ts DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        async with self._db.execute(sql) as cur:
            return [fill_from_row(r) for r in await cur.fetchall()]

    async def has_fill(self, venue: str, fill_id: str) -> bool:
        async with self._db.execute("SELECT 1 FROM fills WHERE venue=? AND fill_id=?", (venue, fill_id)) as cur:
            return await cur.fetchone() is not None

    # -- positions and equity --------------------------------------------------------------

    async def save_position(self, position: Position, at: datetime) -> None:
        await self._write(_UPSERT_POSITION, position_row(position, at))

    async def load_positions(self) -> list[Position]:
        async with self._db.execute("SELECT * FROM positions") as cur:
            return [position_from_row(r) for r in await cur.fetchall()]

    async def record_equity(self, ts: datetime, equity: float, cash: float, gross: float, net: float) -> None:
        await self._write(
            "INSERT INTO equity (ts, equity, cash, gross_exposure, net_exposure) VALUES (?,?,?,?,?)",
            (ts.isoformat(), equity, cash, gross, net),
        )

    async def equity_history(self, since: datetime | None = None) -> list[tuple[datetime, float]]:
        sql = "SELECT ts, equity FROM equity"
        args: tuple[str, ...] = ()
        if since is not None:
            sql, args = sql + " WHERE ts >= ?", (since.isoformat(),)
        async with self._db.execute(sql + " ORDER BY ts", args) as cur:
            return [(datetime.fromisoformat(r[0]), float(r[1])) for r in await cur.fetchall()]

    # -- strategy state, signals, audit -----------------------------------------------------

    async def save_strategy_state(self, strategy: str, state: dict[str, Any], at: datetime) -> None:
        await self._write(
            "INSERT OR REPLACE INTO strategy_state (strategy, state, updated_at) VALUES (?,?,?)",
            (strategy, json.dumps(state, default=str), at.isoformat()),
        )

    async def load_strategy_state(self, strategy: str) -> dict[str, Any]:
        async with self._db.execute("SELECT state FROM strategy_state WHERE strategy=?", (strategy,)) as cur:
            row = await cur.fetchone()
        return json.loads(row[0]) if row else {}

    async def save_signal(self, signal: Signal) -> None:
        await self._write(
            "INSERT INTO signals (ts, source, symbol, direction, strength, confidence, "
            "reason, meta) VALUES (?,?,?,?,?,?,?,?)",
            (
                signal.ts.isoformat(),
                signal.source,
                signal.symbol,
                signal.direction.value,
                signal.strength,
                signal.confidence,
                signal.reason,
                json.dumps(signal.meta, default=str),
            ),
        )

    async def audit(self, ts: datetime, actor: str, action: str, detail: dict[str, Any] | None = None) -> None:
        """Queue an audit row. It is written, in order, in the same trip as the next write
        (the order that the decision placed, usually), or on its own a moment later."""
        self._audit_rows.append((ts.isoformat(), actor, action, json.dumps(detail or {}, default=str)))
        if self._audit_flush is None:
            self._audit_flush = asyncio.get_running_loop().create_task(self._flush_audit(), name="db-audit")

    async def _flush_audit(self) -> None:
        try:
            await asyncio.sleep(0)  # a write queued in this same turn carries the rows instead
            if self._audit_rows:
                await self._in_thread(_nothing)
        except Exception:
            log.exception("audit rows could not be written")
        finally:
            self._audit_flush = None

    async def flush(self) -> None:
        """Write queued audit rows now."""
        if self._audit_rows:
            await self._in_thread(_nothing)

    async def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        await self.flush()
        async with self._db.execute("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,)) as cur:
            rows = await cur.fetchall()
        return [
            {
                "id": r["id"],
                "ts": r["ts"],
                "actor": r["actor"],
                "action": r["action"],
                "detail": json.loads(r["detail"]),
            }
            for r in rows
        ]


CHECKPOINT_INTERVAL_S = 2.0
_INSERT_AUDIT = "INSERT INTO audit (ts, actor, action, detail) VALUES (?,?,?,?)"


def _execute(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> None:
    conn.execute(sql, params)


def _nothing(conn: sqlite3.Connection) -> None:
    """A trip that only writes the queued audit rows."""


def _save_fill(
    conn: sqlite3.Connection, fill: tuple[Any, ...], order: tuple[Any, ...] | None, position: tuple[Any, ...] | None
) -> bool:
    conn.execute("BEGIN IMMEDIATE")
    try:
        inserted = conn.execute(_INSERT_FILL, fill).rowcount == 1
        if inserted:
            if order is not None:
                conn.execute(_UPSERT_ORDER, order)
            if position is not None:
                conn.execute(_UPSERT_POSITION, position)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return inserted


async def _checkpoint_loop(path: Path) -> None:
    """PASSIVE checkpoints from a connection of their own: they never block the writer."""
    conn = await aiosqlite.connect(str(path))
    try:
        await conn.execute("PRAGMA busy_timeout=1000")
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL_S)
            try:
                await conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.DatabaseError:
                continue  # busy now: the next round catches up
    finally:
        await conn.close()


def _check_header(path: Path) -> None:
    """Refuse (without touching it) a file that is not SQLite."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise StoreError(f"cannot read database {path}: {exc.strerror}") from None
    if head and head != b"SQLite format 3\x00":
        raise StoreError(
            f"{path} is not a tui-trader database (not SQLite); it was left untouched: move it away or pass --home"
        )
