"""Persistence: SQLite through aiosqlite, WAL, versioned migrations."""

from tui_trader.store.db import Store, StoreError

__all__ = ["Store", "StoreError"]
