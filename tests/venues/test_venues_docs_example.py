"""docs/venues.md's loopback example keeps ccxt local: its own TOML block, pointed at the fake
Binance, starts a venue, streams, places and fills an order, and every HTTP and websocket
request ccxt makes goes to 127.0.0.1. Without the block's `fetchMarkets` / `fetchCurrencies`
lines ccxt's binance reaches for other hosts on start (the issue's finding), so the guard that
records requests is shown to catch that too."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from tui_trader.core.enums import OrderStatus, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.secrets import Credentials

from fakes.binance_exchange import FakeBinanceExchange
from fakes.venue_harness import API_KEY, SECRET, ccxt_settings, ccxt_venue, fills_match, trading, wait_status

DOCS = Path(__file__).resolve().parents[2] / "docs" / "venues.md"
DOCS_HOST = "127.0.0.1:8080"


def docs_options() -> dict[str, Any]:
    """The `[venues.binance.options]` table of the docs' loopback example, as written there."""
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    block = next(b for b in blocks if "[venues.binance.options.urls.api]" in b)
    return dict(tomllib.loads(block)["venues"]["binance"]["options"])


def pointed_at(fake: FakeBinanceExchange, value: Any) -> Any:
    """The docs' table with its example host replaced by the fake's (http and ws ports differ)."""
    if isinstance(value, dict):
        return {k: pointed_at(fake, v) for k, v in value.items()}
    if isinstance(value, str):
        return value.replace(f"http://{DOCS_HOST}", fake.url).replace(f"ws://{DOCS_HOST}", fake.ws_url)
    return value


@pytest.fixture
def requests_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL aiohttp is asked for (ccxt's REST and its websockets both go through it); a
    request to anywhere but loopback is recorded and refused before it leaves the machine."""
    seen: list[str] = []
    original = aiohttp.ClientSession._request

    async def guarded(self: aiohttp.ClientSession, method: str, str_or_url: Any, **kw: Any) -> Any:
        url = str(str_or_url)
        seen.append(url)
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            raise aiohttp.ClientConnectionError(f"test: refused a request off this machine: {url}")
        return await original(self, method, str_or_url, **kw)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", guarded)
    return seen


def off_machine(urls: list[str]) -> list[str]:
    return [u for u in urls if urlsplit(u).hostname != "127.0.0.1"]


async def test_the_docs_loopback_example_keeps_ccxt_local(fake: FakeBinanceExchange, requests_made: list[str]) -> None:
    options = pointed_at(fake, docs_options())
    assert options["options"]["fetchCurrencies"] is False  # the example still says what keeps it local
    venue = ccxt_venue(ccxt_settings("binance", options, ["BTC/USDT"]), Credentials(API_KEY, SECRET))
    async with trading(venue) as engine:
        order = await engine.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.1"), venue="binance"))
        await wait_status(engine, order.client_order_id, OrderStatus.FILLED)
        await fills_match(engine, fake)
    assert any("/ws" in u for u in requests_made) and any("/api/v3/order" in u for u in requests_made)
    assert off_machine(requests_made) == []


async def test_without_its_two_options_ccxt_reaches_other_hosts(
    fake: FakeBinanceExchange, requests_made: list[str]
) -> None:
    """Why the example carries `fetchMarkets` and `fetchCurrencies`: the URLs alone do not keep
    ccxt's binance on them (its other products and the currencies live on other hosts)."""
    options = pointed_at(fake, docs_options())
    del options["options"]
    venue = ccxt_venue(ccxt_settings("binance", options, ["BTC/USDT"]), Credentials(API_KEY, SECRET))
    with pytest.raises(Exception):  # noqa: B017 - whichever way the start fails, it must not pass
        await venue.connect(lambda _event: None)
    await venue.close()
    assert off_machine(requests_made), requests_made
