"""A started paper engine (manual clock, three price steps) for the order tests here, and a
store opened on a fresh database file for the store's own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tui_trader.engine import Engine
from tui_trader.engine.testing import manual_engine, step
from tui_trader.store.db import Store


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    eng = manual_engine()
    await eng.start()
    await step(eng, 3)
    yield eng
    await eng.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "t.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    """A store on `db_path`, closed at the end (a test that closes it itself opens its own)."""
    opened = await Store.open(db_path)
    yield opened
    await opened.close()
