"""Two venues quoting the same symbol: each keeps, shows and values its own price.

The paper venue quotes BTC/USDT near 60,000; the fake Binance near 100. Before market state
was keyed by (venue, symbol) the last quote to arrive overwrote the other: a Binance limit 1 %
under Binance's market was refused as far from paper's mid, and positions were marked at the
wrong venue's price.
"""

from __future__ import annotations

from decimal import Decimal

from tui_trader.config import Settings
from tui_trader.core.clock import SystemClock
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.venues.paper import PaperVenue

from fakes.venue_harness import make_venue, wait_for, wait_status


async def test_each_venue_keeps_shows_and_values_its_own_price(fake) -> None:  # type: ignore[no-untyped-def]
    settings = Settings()
    paper = PaperVenue(settings.paper, SystemClock())
    engine = Engine(settings, None, in_memory=True, venues={"paper": paper, "binance": make_venue(fake)})
    await engine.start()
    try:
        await wait_for(lambda: None not in (engine.ticker("BTC/USDT", "binance"), engine.ticker("BTC/USDT", "paper")))
        binance_mid, paper_mid = engine.mid("BTC/USDT", "binance"), engine.mid("BTC/USDT", "paper")
        assert 50 < binance_mid < 200 and paper_mid > 1_000  # the fake's ~100 against paper's simulator
        assert engine.mid("BTC/USDT") == paper_mid  # no venue named: the default venue's quote

        # the price band is measured against the venue the order goes to
        below = Decimal(str(round(binance_mid * 0.99, 2)))
        def limit_buy(qty: str, venue: str) -> OrderRequest:
            return OrderRequest("BTC/USDT", Side.BUY, Decimal(qty), OrderType.LIMIT, below, venue=venue)

        limit = await engine.place(limit_buy("0.1", "binance"))
        assert limit.status is not OrderStatus.REJECTED, limit.reason
        far = await engine.place(limit_buy("1", "paper"))
        assert far.status is OrderStatus.REJECTED and "from the mid" in (far.reason or "")

        # positions are marked by their own venue's quotes
        on_binance = await engine.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.2"), venue="binance"))
        on_paper = await engine.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.001"), venue="paper"))
        await wait_status(engine, on_binance.client_order_id, OrderStatus.FILLED)
        await wait_status(engine, on_paper.client_order_id, OrderStatus.FILLED)
        await wait_for(lambda: engine.portfolio.position("binance", "BTC/USDT").mark > 0)
        for _ in range(3):  # quotes keep arriving from both venues: neither mark jumps to the other's
            await wait_for(lambda: engine.ticker("BTC/USDT", "paper") is not None)
            b = engine.portfolio.position("binance", "BTC/USDT")
            p = engine.portfolio.position("paper", "BTC/USDT")
            assert 50 < b.mark < 200 and p.mark > 1_000, (b.mark, p.mark)
            assert abs(b.unrealized_pnl) < 1.0  # 0.2 BTC at ~100 moved by cents, not by 60,000
        snap = engine.snapshot()
        assert snap.shared() == {"BTC/USDT"}
        assert snap.ticker("BTC/USDT", "binance").venue == "binance"  # type: ignore[union-attr]
        assert snap.ticker("BTC/USDT", "paper").venue == "paper"  # type: ignore[union-attr]
        assert snap.instrument("BTC/USDT", "binance").tick_size == Decimal("0.01")  # type: ignore[union-attr]
        assert {("binance", "BTC/USDT"), ("paper", "BTC/USDT")} <= set(snap.markets())
    finally:
        await engine.stop()
