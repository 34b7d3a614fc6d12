"""A restart finds the paper market where the clock says it is: no rewind to a seed price, no
equity jump without a trade, no stop filled at a price the market never had."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal as D

from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine.testing import manual_engine, paper_venue, step
from tui_trader.home import Home

START = datetime(2026, 4, 14, 9, 15, 3, tzinfo=UTC)


async def test_first_quote_after_a_restart_is_within_a_minutes_movement(tmp_path) -> None:  # type: ignore[no-untyped-def]
    home = Home.resolve(tmp_path)
    clock = FrozenClock(START)
    eng = manual_engine(home=home, clock=clock)
    await eng.start()
    await step(eng, 40)  # ten seconds of market
    await eng.place(OrderRequest("BTC/USDT", Side.BUY, D("0.5")))
    await step(eng, 4)
    before = {s: eng.tickers[("paper", s)].mid for s in ("BTC/USDT", "ETH/USDT", "SOL/USDT")}
    equity_before = eng.account().equity
    await eng.stop()

    clock.advance(20.0)  # the restart takes twenty seconds
    again = manual_engine(home=home, clock=clock)
    await again.start()  # connect() quotes once before any step
    try:
        venue = paper_venue(again)
        for symbol, mid in before.items():
            after = again.tickers[("paper", symbol)].mid
            sigma = venue.path(symbol).minute_sigma(clock.now().timestamp())  # one minute's log move
            assert abs(math.log(after / mid)) < 5 * sigma + 3e-4, (symbol, mid, after)
        position = again.portfolio.position("paper", "BTC/USDT")
        assert position.quantity == D("0.5")
        move = abs(again.account().equity - equity_before)
        assert move < 0.5 * float(before["BTC/USDT"]) * 0.01  # a 1 % BTC move would be 0.5 % of the position
    finally:
        await again.stop()


async def test_a_stop_after_a_restart_fills_near_the_market_not_the_seed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    home = Home.resolve(tmp_path)
    clock = FrozenClock(START)
    eng = manual_engine(home=home, clock=clock)
    await eng.start()
    await step(eng, 8)
    await eng.place(OrderRequest("ETH/USDT", Side.BUY, D("1")))
    mid = eng.mid("ETH/USDT")
    # The market is a function of time, so the test can look ahead: put the stop where the
    # next ten minutes trade through it.
    path = paper_venue(eng).path("ETH/USDT")
    low = min(path.price(clock.now().timestamp() + k) for k in range(5, 600))
    assert low < mid * 0.9995
    stop_price = D(str(round(mid - 0.6 * (mid - low), 2)))
    stop = await eng.place(
        OrderRequest("ETH/USDT", Side.SELL, D("1"), OrderType.STOP, stop_price=stop_price)
    )
    assert stop.status is OrderStatus.ACCEPTED
    await eng.stop()

    clock.advance(5.0)
    again = manual_engine(home=home, clock=clock)
    await again.start()
    try:
        for _ in range(2400):  # up to ten minutes until the market trades through the stop
            await step(again)
            order = again.oms.orders[stop.client_order_id]  # type: ignore[union-attr]
            if order.status is OrderStatus.FILLED:
                break
        assert order.status is OrderStatus.FILLED
        assert order.average_price is not None
        assert abs(order.average_price / stop_price - 1) < D("0.003")  # at the stop, give or take slippage
    finally:
        await again.stop()
