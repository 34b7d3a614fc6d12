"""New orders written ahead of the database: one append to a file before the order is sent.

An order must be stored before it is sent (a venue must never hold an order we could forget).
A transaction in SQLite is about fourteen system calls (locks on the WAL index, a page write
for each of the order's table, its indexes and the audit log, then the unlocks): the largest
step between a strategy's decision and the venue's acknowledgement, and the one furthest
from its median in the slowest orders. This file takes the new order's row in a single
`write` to a file opened for appending, which, like a commit with `synchronous=NORMAL`, is in
the operating system's hands when it returns: it survives a killed process. The row is then
written to the database with the next write, a moment later, and the file is emptied once
nothing in it is still to be written.

On opening the database (`Store.open`), what the file holds is written into it first:
orders not in the database yet, with the audit rows queued with them. Replaying is
idempotent: an order already stored is left as it is (a later state is never overwritten by
its first), an audit row already there is not written twice. A last line cut short by a
crash or a full disk is ignored: its order was never sent (the append failed, so placing it
failed). The file sits beside the database (`tui_trader.db-orders`), readable by its owner
only.
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)

AuditRow = tuple[str, str, str, str]
Entry = tuple[tuple[Any, ...], list[AuditRow]]
EMPTY_AFTER_BYTES = 64 << 10  # emptied once nothing is pending and it has grown this much


def journal_path(db: Path) -> Path:
    return db.with_name(db.name + "-orders")


class OrderJournal:
    """The append-only file of new orders (module docstring). One writer: the engine that
    holds the home's lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        self._size = os.fstat(self._fd).st_size

    def append(self, row: tuple[Any, ...], audit: list[AuditRow]) -> None:
        """One line, in one write: the order's row and the audit rows queued with it. Raises
        OSError (a full disk, an I/O error) with nothing of the line kept."""
        line = orjson.dumps([row, audit]) + b"\n"
        try:
            written = os.write(self._fd, line)
            if written != len(line):
                raise OSError(errno.ENOSPC, f"only {written} of {len(line)} bytes written")
        except OSError:
            self._cut(self._size)
            raise
        self._size += written

    def empty(self, *, always: bool = False) -> None:
        """Nothing in it is pending: emptied (when it has grown past EMPTY_AFTER_BYTES, or `always`)."""
        if self._size and (always or self._size >= EMPTY_AFTER_BYTES):
            self._cut(0)

    def _cut(self, size: int) -> None:
        try:
            os.ftruncate(self._fd, size)
            self._size = size
        except OSError as exc:  # replaying it is idempotent: a file left longer costs nothing wrong
            log.warning("%s could not be cut to %d bytes: %s", self.path, size, exc)

    def close(self) -> None:
        os.close(self._fd)


def read_entries(path: Path) -> list[Entry]:
    """What the file holds, oldest first; a line that cannot be read (the last one, cut short
    by a crash or a full disk) is skipped with a warning."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    entries: list[Entry] = []
    for n, line in enumerate(data.split(b"\n"), 1):
        if not line:
            continue
        try:
            row, audit = orjson.loads(line)
            entries.append((tuple(row), [tuple(a) for a in audit]))
        except (orjson.JSONDecodeError, TypeError, ValueError):
            log.warning("%s: line %d is not a whole order (cut short when it was written); skipped", path, n)
    return entries
