"""Paper trading on live data: the paper matching engine fills at the fake exchange's prices."""

from __future__ import annotations

from decimal import Decimal

from tui_trader.config import Settings
from tui_trader.config.venues import VenueSettings
from tui_trader.core.enums import OrderStatus, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine

from fakes.venue_harness import venue_settings, wait_for


async def test_paper_venue_trades_on_another_venues_stream(fake, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tui_trader.core.clock import SystemClock
    from tui_trader.venues.registry import build_venues

    monkeypatch.setenv("TUI_TRADER_KEYRING", "file")  # no keys stored: public data only
    settings = Settings(
        venues={
            "binance": venue_settings(fake),
            "dry": VenueSettings(kind="paper", data_from="binance", symbols=["BTC/USDT"]),
        }
    )
    venues = build_venues(settings, SystemClock(), None)
    dry = venues["dry"]
    engine = Engine(settings, None, in_memory=True, venues={"dry": dry})
    await engine.start()
    try:
        await wait_for(
            lambda: engine.book("BTC/USDT") is not None
            and getattr(engine.ticker("BTC/USDT"), "venue", None) == "dry"  # the book may come first
        )
        assert dry.instruments["BTC/USDT"].tick_size == Decimal("0.01")  # the real market's tick
        order = await engine.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.1"), venue="dry"))
        assert order.status is not OrderStatus.REJECTED, order.reason
        await wait_for(
            lambda: engine.oms.orders[order.client_order_id].status is OrderStatus.FILLED
        )  # type: ignore[union-attr]
        price = engine.oms.orders[order.client_order_id].average_price  # type: ignore[union-attr]
        assert price is not None and abs(price - Decimal("100")) < Decimal(
            "5"
        )  # the fake's ~100 market
        assert not fake.orders  # the live venue never saw the paper order
    finally:
        await engine.stop()
        await venues["binance"].close()
