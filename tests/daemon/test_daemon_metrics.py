"""The Prometheus endpoint: text format, equity, latency histogram, reconnects, message counts."""

from __future__ import annotations

from decimal import Decimal

import aiohttp

from tui_trader.core.enums import ConnectionState, Side
from tui_trader.core.events import ConnectionEvent
from tui_trader.core.orders import OrderRequest
from tui_trader.daemon.metrics import MetricsServer
from tui_trader.engine.testing import manual_engine, step


def value(text: str, name: str) -> float:
    (line,) = [ln for ln in text.splitlines() if ln.startswith(name + " ")]
    return float(line.split()[-1])


async def test_metrics_endpoint() -> None:
    engine = manual_engine()
    await engine.start()
    metrics = MetricsServer(engine, token="metrics-token", port=0)
    await metrics.start()
    try:
        await step(engine, 3)
        await engine.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.1")))
        now = engine.clock.now()
        engine.bus.publish(ConnectionEvent("paper", ConnectionState.RECONNECTING, now, "test", 1))
        engine.bus.publish(ConnectionEvent("paper", ConnectionState.RECONNECTING, now, "test", 2))
        engine.bus.publish(ConnectionEvent("paper", ConnectionState.CONNECTED, now, "back", 0))
        url = f"http://127.0.0.1:{metrics.port}/metrics"
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "metrics-token"}):
                async with session.get(url, headers=headers) as resp:
                    assert resp.status == 401  # equity and P&L are the owner's business
                    assert "equity" not in await resp.text()
            async with session.get(url, headers={"Authorization": "Bearer metrics-token"}) as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                text = await resp.text()
    finally:
        await metrics.stop()
        await engine.stop()
    assert abs(value(text, "tui_trader_equity") - engine.account().equity) < 0.01
    assert value(text, "tui_trader_open_positions") == 1
    assert value(text, "tui_trader_order_ack_seconds_count") == 1
    assert 'tui_trader_order_ack_seconds_bucket{le="+Inf"} 1' in text
    assert 'tui_trader_reconnects_total{venue="paper"} 1' in text
    assert 'tui_trader_bus_messages_total{kind="fill"} 1' in text
    assert value(text, "tui_trader_messages_per_second") > 0
    assert "# TYPE tui_trader_order_ack_seconds histogram" in text
