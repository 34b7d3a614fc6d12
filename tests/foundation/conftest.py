"""A started paper engine (manual clock, three price steps) for the order tests here."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tui_trader.engine import Engine
from tui_trader.engine.testing import manual_engine, step


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    eng = manual_engine()
    await eng.start()
    await step(eng, 3)
    yield eng
    await eng.stop()
