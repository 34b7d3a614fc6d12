"""The trading database. Orders are written before they are sent; fills are idempotent.

One module on purpose (about 700 lines): every write goes through `Store._in_thread` and its
one transaction discipline (order before send, fill + order + position in one trip, a failed
write halts trading); splitting the writers apart would split that discipline.
Row types are in store/records.py, the schema in store/migrations.py.

Where a write runs: a file database has a second connection owned by the event loop's thread,
and a write is made there, synchronously, when it can start at once (no lock to wait for, no
earlier write still queued for the database thread): no hand-off to another thread, whose
wake-up waits for a core on a busy machine. It commits exactly as the thread's connection
does (WAL, synchronous=NORMAL: in the operating system's hands when it returns, so it
survives a killed process) and never waits for a lock on the loop (busy_timeout 0): a write
that would wait goes to the database thread instead, and writes after it follow it there
until it is done, so writes still commit in the order they were made. Reads stay on the
database thread.

A new order is written ahead of the database (store/order_journal.py): one append to a file
before it is sent, its row then written here with the next write, a moment later. Reads of
orders write it first; opening the database writes in whatever a killed process left there.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from tui_trader.core.enums import OrderStatus
from tui_trader.core.errors import UserError
from tui_trader.core.fills import Fill
from tui_trader.core.isotime import iso
from tui_trader.core.orders import Order
from tui_trader.core.positions import Position
from tui_trader.core.signals import Signal
from tui_trader.home import HomeLock
from tui_trader.store.flows import CashFlowStore
from tui_trader.store.json_text import json_text
from tui_trader.store.migrations import MIGRATIONS
from tui_trader.store.order_journal import Entry, OrderJournal, journal_path, read_entries
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
# the statuses of orders still working or still to be settled (an `unknown` one included)
OPEN_STATUSES = ",".join(f"'{s.value}'" for s in OrderStatus if s.is_open)


class StoreError(UserError):
    """The database is unreadable, corrupt, or from a newer version."""


class StoreWriteError(StoreError):
    """A write failed (read-only, disk full, I/O error); nothing of that write was kept."""


class DuplicateOrderId(UserError):
    """A client order id that an order already has (ids are unique forever)."""


Row = tuple[str, tuple[Any, ...]]  # (sql, params): a write staged for the next trip


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
_INSERT_ORDER = f"INSERT INTO orders ({','.join(ORDER_COLUMNS)}) VALUES ({_placeholders(len(ORDER_COLUMNS))})"
# a new order written ahead (its id checked then): never over a later state of it already written
_INSERT_AHEAD = _INSERT_ORDER + " ON CONFLICT(client_order_id) DO NOTHING"
_ORDER_THERE = "SELECT 1 FROM orders WHERE client_order_id=?"
_UPSERT_RISK = "INSERT OR REPLACE INTO risk_state (key, state, updated_at) VALUES (?,?,?)"
_INSERT_TRADE = "INSERT OR IGNORE INTO closed_trades (key, exit_ns, trade) VALUES (?,?,?)"
_UPSERT_LEDGER = (
    "INSERT OR REPLACE INTO ledger (owner, venue, symbol, quantity, average_price, realized_pnl, fees, "
    "updated_at) VALUES (?,?,?,?,?,?,?,?)"
)


class Store(CashFlowStore):
    def __init__(self, conn: aiosqlite.Connection, path: Path | None) -> None:
        self._db = conn
        self.path = path
        self._checkpointer: asyncio.Task[None] | None = None
        self._audit_rows: list[tuple[str, str, str, str]] = []
        self._audit_flush: asyncio.Task[None] | None = None
        self._audit_due: asyncio.Handle | None = None
        self._staged: list[Row] = []
        # orders' new states stored with the next order written, or a moment later (defer_order)
        self._deferred: dict[str, tuple[Any, ...]] = {}
        self.fault: str | None = None  # why the last write failed; None once a write succeeds
        self._home_lock: HomeLock | None = None
        # the loop thread's own connection (file databases; module docstring) and its thread
        self._now: sqlite3.Connection | None = None
        self._now_thread = 0
        self._queued_writes = 0  # writes handed to the database thread and not yet done
        self.last_write = 0.0  # time.monotonic() of the last write begun (the checkpointer waits for a lull)
        self._ahead: OrderJournal | None = None  # new orders written ahead (file databases)
        self._ahead_ids: set[str] = set()  # ... whose rows are still to be written here

    @classmethod
    async def open(cls, path: Path | None) -> Store:
        """Open (creating and migrating) the database. `None` keeps it in memory."""
        target = ":memory:" if path is None else str(path)
        # Every writer of the home's database holds the home lock (HomeBusy if another
        # process does): two engines on one database would each believe their own books.
        lock = None if path is None else HomeLock.for_file(path, "engine").acquire()
        try:
            store = await cls._open(path, target)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        store._home_lock = lock
        return store

    @classmethod
    async def _open(cls, path: Path | None, target: str) -> Store:
        if path is not None and path.exists():
            _check_header(path)
        if path is not None:
            _private(path)
        conn: aiosqlite.Connection | None = None
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
            await _write_probe(conn)
            if path is not None:
                store._now, store._now_thread = _loop_connection(path), threading.get_ident()
                await store._open_ahead(path)
        except BaseException as exc:
            if conn is not None:  # its thread would keep the process alive (a hang, not an exit)
                with contextlib.suppress(Exception):
                    await conn.close()
            if not isinstance(exc, sqlite3.DatabaseError):
                raise
            why = _fault_text(exc)
            if not isinstance(exc, _NOT_A_FAULT) and why != str(exc):  # read-only, disk full
                raise StoreError(f"database {target} cannot be written ({why}); fix it or pass --home") from None
            raise StoreError(
                f"database {target} cannot be used ({exc}); it was left untouched: move it away or pass --home"
            ) from None
        if path is not None:
            _private(path)
            # Writers never pay for checkpoints: a second connection copies the WAL into the
            # database in a lull of the writes (an automatic checkpoint would fsync inside a commit).
            await conn.execute("PRAGMA wal_autocheckpoint=0")
            store._checkpointer = asyncio.create_task(_checkpoint_loop(path, store), name="db-checkpoint")
        return store

    async def _open_ahead(self, path: Path) -> None:
        """Write in the orders a killed process left written ahead, then take new ones."""
        ahead = journal_path(path)
        entries = read_entries(ahead)
        if entries:
            stored = await self._in_thread(_replay_ahead, entries)
            if stored:
                log.warning("%d orders written ahead of the database before the last stop are stored now", stored)
        try:
            self._ahead = OrderJournal(ahead)
        except OSError as exc:
            raise StoreError(f"{ahead} cannot be written ({exc.strerror}); fix it or pass --home") from None
        self._ahead.empty(always=True)

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
        try:
            await self.flush()
        except StoreWriteError as exc:
            log.error(
                "closing with unwritten rows (%d audit, %d staged, %d orders): %s",
                len(self._audit_rows), len(self._staged), len(self._deferred), exc,
            )  # fmt: skip
        if self._ahead is not None:
            if not self._ahead_ids:  # kept whole while rows of it are unwritten
                self._ahead.empty(always=True)
            self._ahead.close()
            self._ahead = None
        if self._audit_due is not None:
            self._audit_due.cancel()
        if self._audit_flush is not None:
            self._audit_flush.cancel()
        if self._now is not None:
            self._now.close()
            self._now = None
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
        try:
            await self._db.close()
        finally:
            if self._home_lock is not None:
                self._home_lock.release()
                self._home_lock = None

    async def schema_version(self) -> int:
        async with self._db.execute("SELECT MAX(version) FROM schema_version") as cur:
            row = await cur.fetchone()
        assert row is not None  # an aggregate always returns one row
        return int(row[0] or 0)

    # -- orders and fills ------------------------------------------------------------------

    async def save_order(self, order: Order) -> None:
        self._deferred.pop(order.client_order_id, None)  # this state is newer
        await self._write(_UPSERT_ORDER, order_row(order))

    def defer_order(self, order: Order) -> None:
        """Store this order's new state with the next order written (in its transaction, or
        with its row written ahead), or on its own a moment later if none comes (two turns of
        the loop, as audit rows): a protective stop's cancel need not commit on its own just
        before the exit order it makes way for. A later write of the same order replaces it, and reads
        of orders write it first. Killed before either, the order is stored as it was before
        and a restart's reconciliation settles it with the venue."""
        self._deferred[order.client_order_id] = order_row(order)
        self._soon()

    def _carry_deferred(self) -> None:
        """The deferred orders' rows into the next trip's transaction."""
        if self._deferred:
            self._staged.extend((_UPSERT_ORDER, row) for row in self._deferred.values())
            self._deferred.clear()

    async def insert_order(self, order: Order, *, new: bool = False) -> None:
        """Store a new order; an id any stored order already has raises DuplicateOrderId and
        changes nothing (client order ids are unique forever). A file database takes it
        ahead, in one append (module docstring); a failed append raises StoreWriteError.
        `new`: the caller knows no stored order has its id (one the engine made this run,
        ClientOrderIds.minted), so it is not looked up before the append."""
        self._carry_deferred()
        row = order_row(order)
        if self._ahead is not None and threading.get_ident() == self._now_thread:
            self._write_ahead(row, new)
            return
        try:
            await self._write(_INSERT_ORDER, row)
        except sqlite3.IntegrityError:
            raise _duplicate(order.client_order_id) from None

    def _write_ahead(self, row: tuple[Any, ...], new: bool = False) -> None:
        """The order's row appended to the journal with the audit rows queued so far (they are
        still written here as queued: the journal gives them back only if a crash lost them);
        its row here goes with the next write. Its id is looked up first unless it is `new`
        (a read on the database, its locks and pages, that most orders need not pay)."""
        assert self._ahead is not None and self._now is not None
        cid = row[0]
        try:
            taken = cid in self._ahead_ids or (not new and bool(self._now.execute(_ORDER_THERE, (cid,)).fetchall()))
        except sqlite3.Error as exc:
            raise self._failed(exc, [], [], False, False) from None
        if taken:
            raise _duplicate(cid)
        try:
            self._ahead.append(row, self._audit_rows)
        except OSError as exc:
            self.fault = _os_fault_text(exc)
            raise StoreWriteError(f"the database cannot be written ({self.fault})") from None
        self._ahead_ids.add(cid)
        self._staged.append((_INSERT_AHEAD, row))
        self._soon()

    def _written(self, staged: list[Row]) -> None:
        """A write committed these staged rows: orders written ahead among them are here now."""
        if self._ahead_ids:
            self._ahead_ids.difference_update(params[0] for sql, params in staged if sql == _INSERT_AHEAD)
            if not self._ahead_ids and self._ahead is not None:
                self._ahead.empty()

    async def load_orders(self, *, open_only: bool = False, limit: int | None = None) -> list[Order]:
        await self._write_deferred()
        sql = "SELECT * FROM orders"
        if open_only:
            sql += f" WHERE status IN ({OPEN_STATUSES})"
        sql += " ORDER BY created_at DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        async with self._db.execute(sql) as cur:
            return [order_from_row(r) for r in await cur.fetchall()]

    async def newest_order_id(self, prefix: str) -> str | None:
        """The greatest stored client order id that starts with `prefix` (the engine's own:
        they sort by the millisecond they were made in), read from the orders' key."""
        await self._write_deferred()
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        sql = "SELECT max(client_order_id) FROM orders WHERE client_order_id >= ? AND client_order_id < ?"
        async with self._db.execute(sql, (prefix, upper)) as cur:
            row = await cur.fetchone()
        return None if row is None else row[0]

    async def get_order(self, client_order_id: str) -> Order | None:
        await self._write_deferred()
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
        if order is not None:  # this state is newer than one deferred (or carried, not yet written)
            cid = order.client_order_id
            self._deferred.pop(cid, None)
            if self._staged:  # staged rows go after the fill's own in its transaction
                self._staged = [r for r in self._staged if r[0] != _UPSERT_ORDER or r[1][0] != cid]
        return await self._in_thread(_save_fill, *rows, staged_inside=True)

    def stage(self, row: Row, *, key: int = 0) -> None:
        """Queue a write for the next trip to the database. A fill's transaction carries the
        rows staged while it was applied (risk state, sub-ledgers), so they commit with it.
        `key`: the first `key` parameters identify the row; it supersedes a staged one with the
        same statement and key (an upsert of the latest state)."""
        if key:
            self._staged = [r for r in self._staged if r[0] != row[0] or r[1][:key] != row[1][:key]]
        self._staged.append(row)

    @property
    def has_staged(self) -> bool:
        return bool(self._staged)

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        await self._in_thread(_execute, sql, params)

    async def _in_thread(self, fn: Callable[..., T], *args: Any, staged_inside: bool = False) -> T:
        """Run `fn(conn, *args)` in one trip, after any queued audit and staged rows (those go
        inside `fn`'s own transaction when `staged_inside`): on the loop's own connection when
        the write can start at once, else on the database thread (module docstring).

        A write of several statements is then one trip, not one per statement, and nothing
        from another task can slip in between its statements. A failed write raises
        StoreWriteError and sets `fault` (cleared by the next write that succeeds); staged rows
        it did not keep are queued again.
        """
        self.last_write = time.monotonic()
        if self._now is not None and not self._queued_writes and threading.get_ident() == self._now_thread:
            done, result = self._write_now(self._now, fn, args, staged_inside)
            if done:
                return cast(T, result)
        db = self._db
        audit, self._audit_rows = self._audit_rows, []
        staged, self._staged = self._staged, []
        kept = [False]

        def run() -> T:
            return cast(T, _trip(db._conn, fn, args, audit, staged, staged_inside, kept))

        self._queued_writes += 1
        try:
            result = cast(T, await db._execute(run))
        except sqlite3.Error as exc:
            raise self._failed(exc, audit, staged, kept[0], staged_inside) from None
        finally:
            self._queued_writes -= 1
        self.fault = None
        self._written(staged)
        return result

    def _write_now(
        self, conn: sqlite3.Connection, fn: Callable[..., Any], args: tuple[Any, ...], staged_inside: bool
    ) -> tuple[bool, Any]:
        """The write on the loop's connection: (True, its result), or (False, None) when it
        would have had to wait for a lock (nothing of it kept: it goes to the database thread)."""
        audit, self._audit_rows = self._audit_rows, []
        staged, self._staged = self._staged, []
        kept = [False]
        try:
            result = _trip(conn, fn, args, audit, staged, staged_inside, kept)
        except sqlite3.Error as exc:
            if _is_busy(exc):
                self._requeue(audit, staged, kept[0], staged_inside)
                return False, None
            raise self._failed(exc, audit, staged, kept[0], staged_inside) from None
        self.fault = None
        self._written(staged)
        return True, result

    def _failed(
        self, exc: sqlite3.Error, audit: list[tuple[str, str, str, str]], staged: list[Row], kept: bool,
        staged_inside: bool,
    ) -> Exception:
        """What a failed write raises: our own mistake as it is, a database fault as StoreWriteError."""
        self._requeue(audit, staged, kept, staged_inside)
        if isinstance(exc, _NOT_A_FAULT):
            return exc  # our statement was wrong (or a duplicate), not the database
        self.fault = _fault_text(exc)
        return StoreWriteError(f"the database cannot be written ({self.fault})")

    def _requeue(
        self, audit: list[tuple[str, str, str, str]], staged: list[Row], kept: bool, staged_inside: bool
    ) -> None:
        if not kept:
            self._audit_rows[:0] = audit
        if not kept or staged_inside:
            self._staged[:0] = staged

    async def probe(self) -> bool:
        """Try a tiny write: True when the database takes writes again (clears `fault`)."""
        try:
            await self._write("INSERT OR REPLACE INTO store_probe (id, ts) VALUES (1, datetime('now'))", ())
        except StoreWriteError:
            return False
        return True

    async def newest_fill_ts(self, venue: str) -> datetime | None:
        async with self._db.execute("SELECT MAX(ts) FROM fills WHERE venue=?", (venue,)) as cur:
            row = await cur.fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    async def has_orders(self, venue: str) -> bool:
        await self._write_deferred()
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

    async def fills_since(self, since: datetime, limit: int = 10_000) -> list[Fill]:
        """Stored fills at or after `since`, oldest first (at most `limit`)."""
        sql = "SELECT * FROM fills WHERE ts >= ? ORDER BY ts, rowid LIMIT ?"
        async with self._db.execute(sql, (since.astimezone(UTC).isoformat(), int(limit))) as cur:
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

    # -- risk state, closed trades, sub-ledgers ----------------------------------------------

    @staticmethod
    def risk_state_row(state: dict[str, Any], at: datetime, key: str = "risk") -> Row:
        return _UPSERT_RISK, (key, json.dumps(state, default=str), at.isoformat())

    @staticmethod
    def closed_trade_row(trade: dict[str, Any]) -> Row:
        key = f"{trade['symbol']}|{trade['exit_ns']}|{uuid.uuid4().hex}"
        return _INSERT_TRADE, (key, int(trade["exit_ns"]), json.dumps(trade, default=str))

    @staticmethod
    def ledger_row(owner: str, position: Position, at: datetime) -> Row:
        return _UPSERT_LEDGER, (
            owner,
            position.venue,
            position.symbol,
            str(position.quantity),
            str(position.average_price),
            str(position.realized_pnl),
            str(position.fees),
            at.isoformat(),
        )

    async def write_rows(self, rows: list[Row]) -> None:
        """Write rows now, in one transaction (with anything already staged)."""
        self._staged.extend(rows)
        await self._in_thread(_nothing)

    async def load_risk_state(self, key: str = "risk") -> dict[str, Any]:
        async with self._db.execute("SELECT state FROM risk_state WHERE key=?", (key,)) as cur:
            row = await cur.fetchone()
        return json.loads(row[0]) if row else {}

    async def load_closed_trades(self, limit: int) -> list[dict[str, Any]]:
        sql = "SELECT trade FROM closed_trades ORDER BY exit_ns DESC, rowid DESC LIMIT ?"
        async with self._db.execute(sql, (int(limit),)) as cur:
            rows = await cur.fetchall()
        return [json.loads(r[0]) for r in reversed(list(rows))]

    async def load_ledger(self) -> list[tuple[str, Position]]:
        async with self._db.execute("SELECT * FROM ledger") as cur:
            rows = await cur.fetchall()
        return [
            (
                r["owner"],
                Position(
                    r["venue"],
                    r["symbol"],
                    Decimal(r["quantity"]),
                    Decimal(r["average_price"]),
                    Decimal(r["realized_pnl"]),
                    Decimal(r["fees"]),
                ),
            )
            for r in rows
        ]

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
        self._audit_rows.append((iso(ts), actor, action, json_text(detail or {})))
        self._soon()

    def _soon(self) -> None:
        """Queued audit rows and deferred orders: written on their own a moment later, unless
        a write carries them first."""
        if self._audit_due is None and self._audit_flush is None:
            loop = asyncio.get_running_loop()
            self._audit_due = loop.call_soon(self._audit_next_turn, loop)

    def _audit_next_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        # Two turns of the loop, then a task only if no write carried the rows meanwhile (the
        # order that the decision placed usually does): a task per audit row cost every order.
        self._audit_due = loop.call_soon(self._audit_left, loop)

    def _audit_left(self, loop: asyncio.AbstractEventLoop) -> None:
        self._audit_due = None
        if (self._audit_rows or self._deferred or self._ahead_ids) and self._audit_flush is None:
            self._audit_flush = loop.create_task(self._flush_audit(), name="db-audit")

    async def _flush_audit(self) -> None:
        try:
            await self.flush()
        except Exception:
            log.exception("audit rows could not be written")
        finally:
            self._audit_flush = None

    async def flush(self) -> None:
        """Write queued audit rows and deferred orders now."""
        if self._audit_rows or self._deferred or self._ahead_ids:
            self._carry_deferred()
            await self._in_thread(_nothing)

    async def _write_deferred(self) -> None:
        """Before a read of orders: the deferred ones and those written ahead written here (a
        failed write leaves them queued, and the read shows what is stored)."""
        if self._deferred or self._ahead_ids:
            with contextlib.suppress(StoreWriteError):
                await self.flush()

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


CHECKPOINT_INTERVAL_S = 2.0  # at most this often while writes come and go
CHECKPOINT_QUIET_S = 0.5  # ... once they have paused this long
CHECKPOINT_MAX_S = 15.0  # through writes that never pause, this often anyway
CHECKPOINT_WAL_BYTES = 32 << 20  # ... or once the WAL has grown this big
CHECKPOINT_POLL_S = 0.25
_INSERT_AUDIT = "INSERT INTO audit (ts, actor, action, detail) VALUES (?,?,?,?)"
_AUDIT_THERE = "SELECT 1 FROM audit WHERE ts=? AND actor=? AND action=? AND detail=? LIMIT 1"


def _execute(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> None:
    conn.execute(sql, params)


def _duplicate(client_order_id: str) -> DuplicateOrderId:
    return DuplicateOrderId(f"client order id {client_order_id} is already used by another order; choose a new id")


def _replay_ahead(conn: sqlite3.Connection, entries: list[Entry]) -> int:
    """Orders written ahead and not here yet, with the audit rows appended with them that
    are not here either (order_journal.py); how many orders were missing."""
    stored = 0
    with _transaction(conn):
        for row, audit in entries:
            if conn.execute(_ORDER_THERE, (row[0],)).fetchall():
                continue  # written: it and its audit rows (they commit with it or before it)
            for entry in audit:
                if not conn.execute(_AUDIT_THERE, entry).fetchall():
                    conn.execute(_INSERT_AUDIT, entry)
            conn.execute(_INSERT_AHEAD, row)
            stored += 1
    return stored


def _nothing(conn: sqlite3.Connection) -> None:
    """A trip that only writes the queued audit (and staged) rows."""


def _trip(
    conn: sqlite3.Connection,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    audit: list[tuple[str, str, str, str]],
    staged: list[Row],
    staged_inside: bool,
    kept: list[bool],
) -> Any:
    """One write: the queued audit and staged rows, then `fn(conn, *args)`. A single statement
    (`_execute`: an order's new state, with the audit rows and an order written ahead) commits
    with the rows in one transaction; a write with a transaction of its own follows the rows'
    (or takes the staged rows inside it, `staged_inside`). `kept[0]`: the rows were committed."""
    rows = [] if staged_inside else staged
    if fn is _execute and (audit or rows):
        with _transaction(conn):
            conn.executemany(_INSERT_AUDIT, audit)
            _write_rows(conn, rows)
            conn.execute(*args)
        kept[0] = True
        return None
    kept[0] = _write_queued(conn, audit, rows)
    return fn(conn, *args, staged) if staged_inside else fn(conn, *args)


def _write_queued(conn: sqlite3.Connection, audit: list[tuple[str, str, str, str]], staged: list[Row]) -> bool:
    """Queued audit rows and staged rows in one transaction before a write; True if any."""
    if not audit and not staged:
        return False
    with _transaction(conn):
        conn.executemany(_INSERT_AUDIT, audit)
        _write_rows(conn, staged)
    return True


def _loop_connection(path: Path) -> sqlite3.Connection:
    """The loop thread's connection: the same durability as the database thread's, never a
    wait for a lock (busy: the write goes to the database thread), never a checkpoint inside
    a commit (the checkpointer does them)."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    for pragma in ("busy_timeout=0", "synchronous=NORMAL", "wal_autocheckpoint=0"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _is_busy(exc: sqlite3.Error) -> bool:
    """Another connection holds the lock (SQLITE_BUSY, SQLITE_LOCKED and their extended codes)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (the error goes on)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)
        raise


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back what is still open (SQLite already rolled back on a full disk or I/O error)."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _write_rows(conn: sqlite3.Connection, rows: list[Row]) -> None:
    for sql, params in rows:
        conn.execute(sql, params)


def _os_fault_text(exc: OSError) -> str:
    """A failed append to the orders written ahead, in the words of the database's faults."""
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "it is read-only"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    return exc.strerror or str(exc)


_NOT_A_FAULT = (
    sqlite3.IntegrityError,
    sqlite3.ProgrammingError,
    sqlite3.InterfaceError,
    sqlite3.DataError,
    sqlite3.NotSupportedError,
)


def _fault_text(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "readonly" in text:
        return "it is read-only"
    if "disk is full" in text or "database or disk is full" in text:
        return "the disk is full"
    return text


def _save_fill(
    conn: sqlite3.Connection,
    fill: tuple[Any, ...],
    order: tuple[Any, ...] | None,
    position: tuple[Any, ...] | None,
    staged: list[Row],
) -> bool:
    with _transaction(conn):
        inserted = conn.execute(_INSERT_FILL, fill).rowcount == 1
        if inserted:
            if order is not None:
                conn.execute(_UPSERT_ORDER, order)
            if position is not None:
                conn.execute(_UPSERT_POSITION, position)
        _write_rows(conn, staged)
    return inserted


async def _checkpoint_loop(path: Path, store: Store) -> None:
    """PASSIVE checkpoints from a connection of their own: they never block the writer, and
    they wait for a lull in its writes (`checkpoint_due`), so copying the WAL into the database
    does not share the cores with a burst of orders (a candle close).

    The connection opens after the first interval (a store opened and closed at once never
    makes one), shielded: cancelled mid-open, it is still closed, so its thread never calls
    back into a loop that has gone."""
    await asyncio.sleep(CHECKPOINT_INTERVAL_S)
    opening = asyncio.ensure_future(aiosqlite.connect(str(path)))
    try:
        conn = await asyncio.shield(opening)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await (await opening).close()
        raise
    wal = path.with_name(path.name + "-wal")
    last = time.monotonic() - CHECKPOINT_INTERVAL_S  # when the last checkpoint began (as if one had)
    try:
        await conn.execute("PRAGMA busy_timeout=1000")
        while True:
            now = time.monotonic()
            if checkpoint_due(now, last, store.last_write, _size(wal)):
                last = now
                try:
                    await conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.DatabaseError:
                    pass  # busy now: the next round catches up
            await asyncio.sleep(CHECKPOINT_POLL_S)
    finally:
        await conn.close()


def checkpoint_due(now: float, last: float, last_write: float, wal_bytes: int) -> bool:
    """A checkpoint is due when something was written since the last one and the writes have
    paused for CHECKPOINT_QUIET_S (at most every CHECKPOINT_INTERVAL_S), or, through writes that
    do not pause, once CHECKPOINT_MAX_S have passed or the WAL has reached CHECKPOINT_WAL_BYTES
    (it stays bounded: a restart after a kill -9 replays it)."""
    if last_write < last or wal_bytes == 0:
        return False  # nothing new to copy
    since = now - last
    if since >= CHECKPOINT_MAX_S or wal_bytes >= CHECKPOINT_WAL_BYTES:
        return True
    return since >= CHECKPOINT_INTERVAL_S and now - last_write >= CHECKPOINT_QUIET_S


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError:
        return 0


async def _write_probe(conn: aiosqlite.Connection) -> None:
    """A write that changes nothing: a read-only database is found at start, not at the first
    order (in WAL mode BEGIN IMMEDIATE alone succeeds on a read-only file)."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        await conn.execute("UPDATE schema_version SET version = version WHERE 0")
    finally:
        await conn.execute("ROLLBACK")


def _private(path: Path) -> None:
    """The database, its WAL and its shared-memory file readable by the owner only. SQLite
    gives the WAL and SHM files the database's mode, so the database is created 0600 first."""
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StoreError(f"cannot create database {path}: {exc.strerror}; pass --home") from None
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):  # not ours to change (read-only): the write probe says so
            if file.exists():
                file.chmod(0o600)


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
