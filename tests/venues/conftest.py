"""Fixtures for venue tests: a fake Binance and a fake Alpaca on 127.0.0.1 (random ports)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared fakes

from fakes.alpaca_exchange import FakeAlpaca
from fakes.binance_exchange import FakeBinanceExchange
from fakes.ib_gateway import FakeIBGateway
from fakes.schwab_exchange import FakeSchwab
from fakes.venue_harness import API_KEY, SECRET


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinanceExchange]:
    ex = await FakeBinanceExchange(api_key=API_KEY).start(tick_interval_s=0.02)
    yield ex
    await ex.stop()


@pytest.fixture
async def alpaca() -> AsyncIterator[FakeAlpaca]:
    fake = await FakeAlpaca(api_key=API_KEY, secret=SECRET).start(tick_interval_s=0.02)
    yield fake
    await fake.stop()


@pytest.fixture
async def schwab() -> AsyncIterator[FakeSchwab]:
    fake = await FakeSchwab(app_key="fake-app-key", app_secret="fake-app-secret").start(tick_interval_s=0.05)
    yield fake
    await fake.stop()


@pytest.fixture
async def ibg() -> AsyncIterator[FakeIBGateway]:
    fake = await FakeIBGateway().start(tick_interval_s=0.05)
    yield fake
    await fake.stop()
