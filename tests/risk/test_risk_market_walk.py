"""A market order is checked at where it will fill (walking the book), not at the mid."""

from __future__ import annotations

from decimal import Decimal as D

from tui_trader.config import Settings
from tui_trader.core.enums import OrderStatus, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine.testing import manual_engine, paper_settings, step
from tui_trader.risk.checks import CheckContext, PreTradeChecks


async def test_position_limit_uses_the_expected_fill_of_a_market_order() -> None:
    probe = manual_engine()
    await probe.start()
    await step(probe, 3)
    req = OrderRequest("BTC/USDT", Side.BUY, D("5"))
    mid = probe.mid("BTC/USDT")
    ctx = CheckContext(probe.instrument("paper", "BTC/USDT"), mid, "paper", book=probe.book("BTC/USDT"))
    expected = PreTradeChecks._expected_fill(req, ctx)
    await probe.stop()
    assert expected > mid  # 5 BTC walks several ask levels

    limit = float(req.quantity) * (mid + expected) / 2  # above qty x mid, below qty x expected fill
    base = paper_settings().model_dump()
    base["risk"]["max_position_notional"] = limit
    eng = manual_engine(Settings(**base))
    await eng.start()
    try:
        await step(eng, 3)
        order = await eng.place(req)
        assert order.status is OrderStatus.REJECTED
        assert order.meta["reject_code"] == "max_position_notional"
        assert eng.portfolio.open_positions() == []
    finally:
        await eng.stop()
