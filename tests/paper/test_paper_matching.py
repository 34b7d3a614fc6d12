"""The paper matching engine: priority, partial fills, slippage, fees, stop triggers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderStatus, OrderType, Side, TimeInForce
from tui_trader.core.events import ExecutionReport
from tui_trader.core.market import OrderBook, TradePrint
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.venues.paper.account import PaperAccount
from tui_trader.venues.paper.instruments import paper_instrument
from tui_trader.venues.paper.matching import MatchingEngine

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)


@pytest.fixture
def env():
    clock = FrozenClock(T0)
    reports: list[ExecutionReport] = []
    inst = paper_instrument("BTC/USDT")
    account = PaperAccount({"USDT": D(1_000_000)}, allow_short=True)
    me = MatchingEngine(
        "paper", {"BTC/USDT": inst}, account, maker_fee=0.0002, taker_fee=0.001, emit=reports.append, clock=clock
    )
    me.on_book(
        OrderBook(
            "paper",
            "BTC/USDT",
            T0,
            bids=((99.0, 1.0), (98.0, 2.0), (97.0, 3.0)),
            asks=((101.0, 1.0), (102.0, 2.0), (103.0, 3.0)),
        )
    )
    return me, reports, account


_n = 0


def order(
    side: Side,
    qty: str,
    type_: OrderType = OrderType.MARKET,
    price: str | None = None,
    stop: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    **kw,
) -> Order:
    global _n
    _n += 1
    req = OrderRequest(
        "BTC/USDT",
        side,
        D(qty),
        type_,
        price=D(price) if price else None,
        stop_price=D(stop) if stop else None,
        time_in_force=tif,
        **kw,
    )
    return Order.from_request(req, f"c{_n}", "paper", T0)


def fills(reports, cid=None):
    return [
        (r.fill.quantity, r.fill.price, r.fill.liquidity.value)
        for r in reports
        if r.fill and (cid is None or r.client_order_id == cid)
    ]


def test_market_order_walks_the_book_with_real_slippage(env) -> None:
    me, reports, _ = env
    o = order(Side.BUY, "2.5")
    me.submit(o)
    assert fills(reports) == [(D("1"), D("101"), "taker"), (D("1.5"), D("102"), "taker")]
    assert o.status is OrderStatus.FILLED
    assert o.average_price == (D(101) + D("1.5") * 102) / D("2.5")
    # fee: taker 0.1 % of each fill's notional
    assert o.fees == D("0.101") + D("0.153")


def test_market_order_beyond_depth_is_partially_filled_and_rest_cancelled(env) -> None:
    me, reports, _ = env
    o = order(Side.SELL, "10")
    me.submit(o)
    assert sum(q for q, _, _ in fills(reports)) == D(6)
    assert o.status is OrderStatus.CANCELLED
    assert "depth exhausted" in (o.reason or "")


def test_marketable_limit_takes_up_to_its_price_then_rests(env) -> None:
    me, reports, _ = env
    o = order(Side.BUY, "2", OrderType.LIMIT, "101")
    me.submit(o)
    assert fills(reports) == [(D("1"), D("101"), "taker")]
    assert o.status is OrderStatus.PARTIALLY_FILLED
    assert [w.client_order_id for w in me.open_orders()] == [o.client_order_id]


def test_resting_orders_fill_by_price_then_time_priority_behind_the_queue(env) -> None:
    me, reports, _ = env
    first = order(Side.BUY, "1", OrderType.LIMIT, "98")  # joins behind the 2.0 displayed at 98
    better = order(Side.BUY, "1", OrderType.LIMIT, "98.5")  # alone at its price
    second = order(Side.BUY, "1", OrderType.LIMIT, "98")
    for o in (first, better, second):
        me.submit(o)
    # A seller prints 2.5 down to 98: the 99 bid (1.0) goes first, then the better price, and the
    # last 0.5 only eats into the queue ahead at 98.
    me.on_trade(TradePrint("paper", "BTC/USDT", T0, 98.0, 2.5, Side.SELL))
    assert fills(reports, better.client_order_id) == [(D("1"), D("98.5"), "maker")]
    assert fills(reports, first.client_order_id) == [] and fills(reports, second.client_order_id) == []
    # Another 4.0: 1.0 at 99, the 1.5 still queued ahead at 98, then the earlier order, then 0.5 of
    # the later one.
    me.on_trade(TradePrint("paper", "BTC/USDT", T0, 98.0, 4.0, Side.SELL))
    assert fills(reports, first.client_order_id) == [(D("1"), D("98"), "maker")]
    assert fills(reports, second.client_order_id) == [(D("0.5"), D("98"), "maker")]
    assert second.status is OrderStatus.PARTIALLY_FILLED


def test_maker_fee_on_resting_fill(env) -> None:
    me, _reports, _ = env
    o = order(Side.SELL, "1", OrderType.LIMIT, "105")
    me.submit(o)
    # A buyer sweeping to 105.5 takes the 6.0 offered below 105 first, then the order.
    me.on_trade(TradePrint("paper", "BTC/USDT", T0, 105.5, 7.0, Side.BUY))
    assert o.fees == D("105") * D("0.0002")


def test_stop_triggers_on_trade_price_then_walks_the_book(env) -> None:
    me, reports, _ = env
    o = order(Side.SELL, "1", OrderType.STOP, stop="95")
    me.submit(o)
    me.on_trade(TradePrint("paper", "BTC/USDT", T0, 96.0, 1.0, Side.SELL))
    assert o.status is OrderStatus.ACCEPTED  # not yet
    me.on_book(OrderBook("paper", "BTC/USDT", T0, bids=((94.0, 0.4), (93.0, 5.0)), asks=((96.0, 1.0),)))
    me.on_trade(TradePrint("paper", "BTC/USDT", T0, 95.0, 1.0, Side.SELL))
    assert fills(reports, o.client_order_id) == [(D("0.4"), D("94"), "taker"), (D("0.6"), D("93"), "taker")]
    assert o.status is OrderStatus.FILLED


def test_stop_limit_rests_as_limit_after_trigger(env) -> None:
    me, reports, _ = env
    o = order(Side.BUY, "1", OrderType.STOP_LIMIT, price="104", stop="103")
    me.submit(o)
    me.on_book(OrderBook("paper", "BTC/USDT", T0, bids=((104.0, 1.0),), asks=((105.0, 1.0),)))
    me.on_trade(TradePrint("paper", "BTC/USDT", T0, 103.5, 0.1, Side.BUY))
    assert fills(reports, o.client_order_id) == []  # triggered, limit 104 below the ask
    me.on_trade(TradePrint("paper", "BTC/USDT", T0, 104.0, 5.0, Side.SELL))
    assert fills(reports, o.client_order_id) == [(D("1"), D("104"), "maker")]


@pytest.mark.parametrize(("side", "stop", "word"), [(Side.BUY, "99", "below"), (Side.SELL, "101", "above")])
def test_stop_on_the_wrong_side_is_rejected(env, side, stop, word) -> None:
    me, _reports, _ = env
    me.on_trade(TradePrint("paper", "BTC/USDT", T0, 100.0, 1.0, Side.BUY))
    o = order(side, "1", OrderType.STOP, stop=stop)
    me.submit(o)
    assert o.status is OrderStatus.REJECTED and word in (o.reason or "")


def test_fok_and_ioc_and_post_only(env) -> None:
    me, reports, _ = env
    fok = order(Side.BUY, "5", OrderType.LIMIT, "102", tif=TimeInForce.FOK)
    me.submit(fok)
    assert fok.status is OrderStatus.EXPIRED and fills(reports) == []
    ioc = order(Side.BUY, "5", OrderType.LIMIT, "102", tif=TimeInForce.IOC)
    me.submit(ioc)
    assert ioc.status is OrderStatus.CANCELLED and ioc.filled_quantity == D(3)
    post = order(Side.SELL, "1", OrderType.LIMIT, "99", post_only=True)
    me.submit(post)
    assert post.status is OrderStatus.REJECTED


def test_insufficient_balance_is_rejected_and_changes_nothing(env) -> None:
    me, _reports, account = env
    before = dict(account.cash)
    o = order(Side.BUY, "1", OrderType.LIMIT, "1000000")
    me.submit(o)
    assert o.status is OrderStatus.REJECTED and "insufficient balance" in (o.reason or "")
    assert account.cash == before and me.open_orders() == []


def test_resting_orders_reserve_buying_power(env) -> None:
    me, _reports, _account = env
    big = order(Side.BUY, "9000", OrderType.LIMIT, "100")
    me.submit(big)
    assert big.status is OrderStatus.ACCEPTED
    o = order(Side.BUY, "1000", OrderType.LIMIT, "100")
    me.submit(o)
    assert o.status is OrderStatus.REJECTED
    me.cancel(big.client_order_id)
    o2 = order(Side.BUY, "1000", OrderType.LIMIT, "100")
    me.submit(o2)
    assert o2.status is OrderStatus.ACCEPTED


def test_unknown_symbol_and_off_tick_rejected(env) -> None:
    me, _reports, _ = env
    o = order(Side.BUY, "1", OrderType.LIMIT, "100.001")
    me.submit(o)
    assert o.status is OrderStatus.REJECTED and "tick" in (o.reason or "")
    bad = Order.from_request(OrderRequest("NOPE/USDT", Side.BUY, D(1)), "x", "paper", T0)
    me.submit(bad)
    assert bad.status is OrderStatus.REJECTED and "unknown symbol" in (bad.reason or "")
