"""Fixtures for venue tests: a fake Binance exchange on 127.0.0.1 (random port)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared fakes

from fakes.binance_exchange import FakeBinanceExchange
from fakes.venue_harness import API_KEY


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinanceExchange]:
    ex = await FakeBinanceExchange(api_key=API_KEY).start(tick_interval_s=0.02)
    yield ex
    await ex.stop()
