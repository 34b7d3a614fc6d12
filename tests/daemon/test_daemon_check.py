"""`order.check` (the dry-run pre-trade check) reached through a RemoteClient attached to a daemon."""

from __future__ import annotations

from decimal import Decimal as D

from tui_trader.core.enums import OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.daemon.remote_client import RemoteClient


async def test_the_dry_run_over_the_daemon(served) -> None:  # type: ignore[no-untyped-def]
    engine, _, home = served
    mid = engine.mid("BTC/USDT")
    async with RemoteClient.for_home(home, refresh_hz=20) as client:
        ok = await client.call("order.check", request=OrderRequest("BTC/USDT", Side.BUY, D("0.01")))
        assert ok["ok"] is True and ok["request"]["symbol"] == "BTC/USDT"
        wrong = OrderRequest("BTC/USDT", Side.SELL, D("0.01"), OrderType.STOP, stop_price=D(round(mid * 1.05)))
        answer = await client.call("order.check", request=wrong)
        assert answer["ok"] is False and answer["code"] == "stop_wrong_side"
        assert "must be below the market" in answer["message"]
    assert engine.recent_orders == {}
