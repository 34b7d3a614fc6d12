"""Helpers for venue tests and the soak bench: a real ccxt venue pointed at the fake Binance."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tui_trader.config import Settings
from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import SystemClock
from tui_trader.secrets import Credentials
from tui_trader.venues.ccxt.venue import CcxtVenue
from tui_trader.venues.resilience import Backoff

from fakes.binance_exchange import FakeBinanceExchange

API_KEY = "test-key"
SECRET = "test-secret-value"


def venue_settings(fake: FakeBinanceExchange, **extra: Any) -> VenueSettings:
    return ccxt_settings("binance", fake.ccxt_options(), ["BTC/USDT"], **extra)


def ccxt_settings(
    exchange: str, options: dict[str, Any], symbols: list[str], **extra: Any
) -> VenueSettings:
    """Settings for a ccxt venue pointed at a fake: short stall and backoff, for quick tests."""
    options = {**options, "timeout": extra.pop("timeout_ms", 1500)}
    return VenueSettings(
        kind="ccxt",
        exchange=exchange,
        sandbox=extra.pop("sandbox", True),
        symbols=symbols,
        options=options,
        stall_after_s=0.6,
        backoff_base_s=0.05,
        backoff_cap_s=0.2,
        **extra,
    )


def make_venue(
    fake: FakeBinanceExchange, *, key: str = API_KEY, secret: str = SECRET, **extra: Any
) -> CcxtVenue:
    return ccxt_venue(venue_settings(fake, **extra), Credentials(key, secret))


def ccxt_venue(settings: VenueSettings, credentials: Credentials) -> CcxtVenue:
    """A real CcxtVenue (named after its exchange) with a seeded, fast backoff."""
    import random

    return CcxtVenue(
        settings.exchange or "ccxt",
        settings,
        SystemClock(),
        credentials=credentials,
        backoff=Backoff(0.05, 0.2, rng=random.Random(1)),
        order_rate=50,
    )


async def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def engine_settings() -> Settings:
    return Settings()
