"""Exchange hours on the paper exchange: stocks trade in NYSE sessions (holidays and early closes
from exchange_calendars), crypto 24/7, forex Sunday to Friday; orders outside the session are
refused with the time the market opens, or queued as day orders, or trade in extended hours."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.hours import FOREX, NYSE, Phase
from tui_trader.core.orders import OrderRequest
from tui_trader.engine.testing import manual_engine, paper_venue, step

SUNDAY = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
MONDAY_OPEN = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)  # 09:30 New York (EST)
MONDAY_PRE = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # 07:00 New York


def test_the_calendar_knows_holidays_early_closes_and_extended_hours() -> None:
    thanksgiving = NYSE.state(datetime(2026, 11, 26, 16, tzinfo=UTC))
    assert thanksgiving.phase is Phase.CLOSED and thanksgiving.next_open == datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
    assert NYSE.state(datetime(2026, 11, 27, 17, 59, tzinfo=UTC)).phase is Phase.OPEN
    assert NYSE.state(datetime(2026, 11, 27, 18, 30, tzinfo=UTC)).phase is Phase.POST  # closed at 13:00
    assert NYSE.state(datetime(2026, 11, 27, 22, 30, tzinfo=UTC)).phase is Phase.CLOSED  # after-hours end at 17:00
    assert NYSE.state(MONDAY_PRE).phase is Phase.PRE
    assert NYSE.state(datetime(2026, 12, 7, 21, 30, tzinfo=UTC)).phase is Phase.POST
    sunday = NYSE.state(SUNDAY)
    assert sunday.phase is Phase.CLOSED and sunday.next_open == MONDAY_OPEN
    assert sunday.describe(SUNDAY) == "NYSE closed, opens Mon 14:30 UTC (in 23h 30m)"
    assert FOREX.state(datetime(2026, 12, 5, 12, tzinfo=UTC)).phase is Phase.CLOSED  # Saturday
    assert FOREX.state(datetime(2026, 12, 6, 21, 59, tzinfo=UTC)).phase is Phase.CLOSED  # Sunday 16:59 NY
    assert FOREX.state(datetime(2026, 12, 6, 22, 0, tzinfo=UTC)).phase is Phase.OPEN
    assert FOREX.state(datetime(2026, 12, 4, 21, 59, tzinfo=UTC)).phase is Phase.OPEN  # Friday 16:59 NY


async def test_a_stock_market_order_outside_the_session_is_not_filled_and_says_why() -> None:
    eng = manual_engine(clock=FrozenClock(SUNDAY))
    await eng.start()
    try:
        await step(eng, 2)
        order = await eng.place(OrderRequest("AAPL", Side.BUY, D("10")))
        assert order.status is OrderStatus.REJECTED
        assert order.reason is not None
        assert "market closed: AAPL NYSE closed, opens Mon 14:30 UTC (in 23h 29m)" in order.reason
        assert "--tif day" in order.reason and "--ext-hours" in order.reason
        assert eng.portfolio.position("paper", "AAPL").quantity == 0
        crypto = await eng.place(OrderRequest("BTC/USDT", Side.BUY, D("0.01")))  # crypto trades on Sundays
        assert crypto.status is OrderStatus.FILLED
        fx = await eng.place(OrderRequest("EUR/USD", Side.BUY, D("1000")))  # Sunday before 17:00 New York
        assert fx.status is OrderStatus.REJECTED and "FX closed, opens Sun 22:00 UTC" in (fx.reason or "")
        assert "--ext-hours" not in (fx.reason or "")
    finally:
        await eng.stop()


async def test_a_day_market_order_waits_for_the_open_and_fills_there() -> None:
    clock = FrozenClock(SUNDAY)
    eng = manual_engine(clock=clock)
    await eng.start()
    try:
        await step(eng)
        order = await eng.place(OrderRequest("AAPL", Side.BUY, D("10"), time_in_force=TimeInForce.DAY))
        assert order.status is OrderStatus.ACCEPTED and "waiting for the open" in (order.reason or "")
        await step(eng, 8)
        assert eng.oms.orders[order.client_order_id].status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
        clock.set(MONDAY_OPEN)
        await step(eng)
        done = eng.oms.orders[order.client_order_id]  # type: ignore[union-attr]
        assert done.status is OrderStatus.FILLED
        open_price = paper_venue(eng).path("AAPL").price(MONDAY_OPEN.timestamp() + 0.25)
        assert done.average_price is not None and abs(float(done.average_price) / open_price - 1) < 0.001
    finally:
        await eng.stop()


async def test_extended_hours_limit_orders_trade_pre_market_others_wait() -> None:
    clock = FrozenClock(MONDAY_PRE)
    eng = manual_engine(clock=clock)
    await eng.start()
    try:
        await step(eng)
        ask = eng.tickers[("paper", "AAPL")].ask
        price = D(str(round(ask * 1.001, 2)))  # marketable
        ext = await eng.place(
            OrderRequest("AAPL", Side.BUY, D("5"), OrderType.LIMIT, price=price, extended_hours=True)
        )
        plain = await eng.place(OrderRequest("AAPL", Side.BUY, D("5"), OrderType.LIMIT, price=price))
        assert ext.status is OrderStatus.FILLED
        assert plain.status is OrderStatus.ACCEPTED and "waiting for the open" in (plain.reason or "")
        market = await eng.place(
            OrderRequest("AAPL", Side.BUY, D("5"), extended_hours=True, time_in_force=TimeInForce.DAY)
        )
        assert market.status is OrderStatus.REJECTED and "limit orders only" in (market.reason or "")
        clock.set(MONDAY_OPEN)
        await step(eng)
        assert eng.oms.orders[plain.client_order_id].status is OrderStatus.FILLED  # type: ignore[union-attr]
    finally:
        await eng.stop()


@pytest.mark.parametrize("extended", [False, True])
async def test_a_day_limit_order_ends_when_its_session_closes(extended: bool) -> None:
    clock = FrozenClock(datetime(2026, 12, 7, 20, 59, 50, tzinfo=UTC))  # ten seconds before the close
    eng = manual_engine(clock=clock)
    await eng.start()
    try:
        await step(eng)
        low = D(str(round(eng.tickers[("paper", "AAPL")].bid * 0.97, 2)))
        order = await eng.place(
            OrderRequest(
                "AAPL", Side.BUY, D("1"), OrderType.LIMIT, price=low, time_in_force=TimeInForce.DAY,
                extended_hours=extended,
            )
        )
        await step(eng, 60)  # past 16:00 New York
        status = eng.oms.orders[order.client_order_id].status  # type: ignore[union-attr]
        assert status is (OrderStatus.ACCEPTED if extended else OrderStatus.EXPIRED)
        clock.set(datetime(2026, 12, 8, 1, 0, 1, tzinfo=UTC))  # 20:00 New York: after-hours are over
        await step(eng)
        assert eng.oms.orders[order.client_order_id].status is OrderStatus.EXPIRED  # type: ignore[union-attr]
    finally:
        await eng.stop()


def test_the_session_table_is_cached_so_pandas_stays_out_of_the_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    import numpy as np

    from tui_trader.core.hours import compute_sessions

    env = {**os.environ, "TUI_TRADER_CACHE_DIR": str(tmp_path)}
    probe = "import sys; from tui_trader.core.hours import NYSE; NYSE.preload(); print('pandas' in sys.modules)"
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
        assert out.stdout.strip() == "False", out.stderr
    [cached] = list(tmp_path.glob("sessions-XNYS-*.npy"))
    opens, closes = compute_sessions("XNYS")  # straight from exchange_calendars
    table = np.load(cached)
    assert np.array_equal(table[0], opens) and np.array_equal(table[1], closes)
