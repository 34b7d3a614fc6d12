"""Routing across real adapters: ccxt's binance and okx clients against their loopback fakes,
beside a paper venue. `--venue auto` buys where it is cheaper; with that exchange gone, at the
other, and says why; the scanner lists the pair with its net edge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from tui_trader.config import Settings
from tui_trader.core.clock import SystemClock
from tui_trader.core.enums import ConnectionState, OrderStatus, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.secrets import Credentials
from tui_trader.venues.paper import PaperVenue

from fakes.okx_exchange import FakeOkxExchange
from fakes.venue_harness import API_KEY, ccxt_settings, ccxt_venue, make_venue, wait_for

OKX_KEY, OKX_SECRET, OKX_PASS = "okx-key", "okx-secret-value", "okx-pass-phrase"


@pytest.fixture
async def okx() -> AsyncIterator[FakeOkxExchange]:
    ex = FakeOkxExchange(api_key=OKX_KEY, secret=OKX_SECRET, passphrase=OKX_PASS)
    ex.prices["BTC/USDT"] = Decimal("103.00")  # 3 % over the fake Binance (~100)
    await ex.start(tick_interval_s=0.02)
    yield ex
    await ex.stop()


async def routed_buy(engine: Engine, symbol: str, qty: str, venue: str) -> str:
    """Buy `qty` on auto; it fills as one child at `venue`: that child's id."""
    parent = await engine.place(OrderRequest(symbol, Side.BUY, Decimal(qty), venue="auto"), "cli")
    assert parent.status is not OrderStatus.REJECTED, parent.reason
    assert engine.oms is not None
    await wait_for(lambda: engine.oms.orders[parent.client_order_id].status is OrderStatus.FILLED)
    [child] = parent.meta["route"]["children"]
    assert engine.oms.orders[child].venue == venue
    return str(child)


async def test_auto_buys_on_the_cheaper_exchange_then_the_other_when_it_is_gone(fake, okx) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(routing={"stale_after_s": 2.0, "scanner": {"alert_bps": None}})  # type: ignore[arg-type]
    paper = PaperVenue(settings.paper.model_copy(update={"symbols": ["SOL/USDT"]}), SystemClock())
    okx_venue = ccxt_venue(
        ccxt_settings("okx", okx.ccxt_options(), ["BTC/USDT"]), Credentials(OKX_KEY, OKX_SECRET, OKX_PASS)
    )
    engine = Engine(
        settings, None, in_memory=True, venues={"paper": paper, "binance": make_venue(fake), "okx": okx_venue}
    )
    await engine.start()
    try:
        await wait_for(lambda: all(engine.books.get((v, "BTC/USDT")) for v in ("binance", "okx")))
        engine.scanner.scan()
        [pair] = [s for s in engine.scanner.spreads if s.symbol == "BTC/USDT"]
        assert (pair.buy_venue, pair.sell_venue) == ("binance", "okx")
        taker = engine.scanner.fees["binance"]["BTC/USDT"][1]  # ccxt's binance market: 0.1 %
        assert taker == pytest.approx(0.001) and engine.scanner.fees["okx"]["BTC/USDT"][1] > 0
        fb = engine.scanner.fees["okx"]["BTC/USDT"][1]
        expected = (pair.bid * (1 - fb) - pair.ask * (1 + taker)) / pair.ask * 1e4
        assert pair.net_bps == pytest.approx(expected) and pair.net_bps > 200

        child = await routed_buy(engine, "BTC/USDT", "0.5", "binance")
        assert {t.order.client_order_id for t in fake.trades} == {child} and not okx.trades

        await fake.stop()  # Binance goes away
        await wait_for(lambda: engine.venues["binance"].state is not ConnectionState.CONNECTED)
        # OKX quoted lately (a stale venue is refused as it should be: on a loaded machine the
        # suite's run once saw OKX's book 4 s old here, with the fake's ticks in this process)
        okx_fresh = lambda: engine.clock.monotonic() - engine.market_seen.get(("okx", "BTC/USDT"), -1e9) < 1.0  # noqa: E731
        await wait_for(okx_fresh)
        second = await engine.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.5"), venue="auto"), "cli")
        assert second.status is not OrderStatus.REJECTED, second.reason
        assert "not used: binance" in (second.reason or "")
        await wait_for(lambda: engine.oms.orders[second.client_order_id].status is OrderStatus.FILLED)
        assert {t.order.client_order_id for t in okx.trades} == set(second.meta["route"]["children"])
        assert API_KEY  # the fake Binance was signed into with the harness key
    finally:
        await engine.stop()


async def test_alpaca_stocks_beside_paper_one_view_and_a_routed_buy(alpaca) -> None:  # type: ignore[no-untyped-def]
    """The real alpaca-py clients against the fake Alpaca, beside paper: AAPL on both in one
    view (Alpaca's stock fee 0), the spread listed, and `auto` buys where it is cheaper."""
    import random

    from tui_trader.venues.alpaca.venue import AlpacaVenue
    from tui_trader.venues.resilience import Backoff

    alpaca.prices["AAPL"] = Decimal("150.00")  # far under the paper market's AAPL
    settings = Settings(routing={"stale_after_s": 2.0, "scanner": {"alert_bps": None}})  # type: ignore[arg-type]
    paper = PaperVenue(settings.paper.model_copy(update={"symbols": ["AAPL"]}), SystemClock())
    venue = AlpacaVenue(
        "alpaca", alpaca.venue_settings(symbols=["AAPL"]), SystemClock(), credentials=Credentials("test-key",
        "test-secret-value"), backoff=Backoff(0.05, 0.2, rng=random.Random(1)), order_rate=50, rest_timeout_s=2.0,
    )
    engine = Engine(settings, None, in_memory=True, venues={"paper": paper, "alpaca": venue})
    await engine.start()
    try:
        await wait_for(lambda: all(engine.tickers.get((v, "AAPL")) for v in ("paper", "alpaca")))
        view = engine.scanner.consolidated("AAPL", 5)
        rows = {r["venue"]: r for r in view["venues"]}
        assert set(rows) == {"paper", "alpaca"} and rows["alpaca"]["taker_fee"] == 0.0
        assert rows["alpaca"]["ask"] < 151 < rows["paper"]["ask"] and view["best_ask"]["venue"] == "alpaca"
        engine.scanner.scan()
        [pair] = [s for s in engine.scanner.spreads if s.symbol == "AAPL"]
        assert (pair.buy_venue, pair.sell_venue) == ("alpaca", "paper")

        child = await routed_buy(engine, "AAPL", "2", "alpaca")
        assert {f.order.client_order_id for f in alpaca.fills} == {child}  # nothing sent twice
        assert sum(f.qty for f in alpaca.fills) == Decimal("2")
    finally:
        await engine.stop()
