"""The Interactive Brokers adapter against a loopback fake IB Gateway (real ib_async clients
on the TWS API socket protocol): market, limit, stop, cancel, fills streamed, a reconnect with
a fill in the gap, a hung Gateway, market hours from the contract details, and the ledgers
agreeing (every execution at IB one fill here, once)."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("ib_async", reason="ib_async is an optional extra (tui-trader[brokers])")

from tui_trader.config import Settings
from tui_trader.core.clock import SystemClock
from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, Side
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import ConnectionEvent, Event, NoticeEvent
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.home import Home
from tui_trader.venues.base import VenueError
from tui_trader.venues.ib.venue import IBVenue
from tui_trader.venues.resilience import Backoff

from fakes.ib_gateway import FakeIBGateway
from fakes.venue_harness import wait_for


def make_venue(fake: FakeIBGateway, **kw: Any) -> IBVenue:
    return IBVenue(
        "ib", fake.venue_settings(**kw.pop("settings", {})), SystemClock(),
        backoff=Backoff(0.05, 0.2, rng=random.Random(1)), order_rate=50,
        request_timeout_s=kw.pop("timeout", 2.0), ack_timeout_s=kw.pop("ack_timeout_s", 1.0), **kw,
    )  # fmt: skip


async def started(fake: FakeIBGateway, events: list[Event] | None = None, home: Home | None = None,
                  **kw: Any) -> Engine:  # fmt: skip
    venue = make_venue(fake, **kw)
    engine = Engine(Settings(), home, in_memory=home is None, venues={"ib": venue})
    if events is not None:
        engine.bus.on(events.append, name="test-events")
    await engine.start()
    await wait_for(lambda: engine.ticker("AAPL") is not None, 20)
    return engine


def buy(qty: str = "2", **kw: Any) -> OrderRequest:
    return OrderRequest("AAPL", Side.BUY, Decimal(qty), venue="ib", **kw)


def status(engine: Engine, cid: str) -> OrderStatus:
    return engine.oms.orders[cid].status  # type: ignore[union-attr]


def placed_orders(fake: FakeIBGateway) -> int:
    """PLACE_ORDER messages the Gateway received: an order sent twice would count twice."""
    return sum(1 for _, f in fake.messages if f[0] == "3")


async def ledgers_agree(engine: Engine, fake: FakeIBGateway) -> None:
    """Every execution at IB is one of our fills, once; quantities and positions match."""
    assert engine.store is not None and engine.oms is not None
    theirs = {str(t.trade_id) for t in fake.trades}
    await wait_for(lambda: {f.fill_id for f in engine.fills} >= theirs, 20)
    await engine.oms.flush()
    stored = await engine.store.load_fills(limit=10_000)
    assert sorted(f.fill_id for f in stored) == sorted(theirs)
    ours = {o.client_order_id: o for o in engine.oms.orders.values()}
    for o in fake.orders.values():
        mine = ours.get(o.client_order_id)
        assert mine is not None and mine.filled_quantity == o.executed, (o.client_order_id, mine, o.executed)
    for symbol in fake.symbols:
        assert engine.portfolio.position("ib", symbol).quantity == fake.position(symbol)


async def test_market_order_fills_streamed_and_ledgers_agree(ibg: FakeIBGateway) -> None:
    engine = await started(ibg)
    try:
        placed = await engine.place(buy("2"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED, 20)
        made = next(iter(ibg.orders.values()))
        assert made.client_order_id == placed.client_order_id  # IB keeps our id as orderRef
        fills = [f for f in engine.fills if f.client_order_id == placed.client_order_id]
        assert len(fills) == 2 and all(f.fee == Decimal("1.00") for f in fills)  # two executions, commissions
        assert placed_orders(ibg) == 1
        await ledgers_agree(engine, ibg)
    finally:
        await engine.stop()


async def test_limit_rests_then_fills_and_a_cancel_ends_another(ibg: FakeIBGateway) -> None:
    engine = await started(ibg)
    try:
        resting = await engine.place(buy("3", type=OrderType.LIMIT, price=Decimal("185")))
        other = await engine.place(buy("1", type=OrderType.LIMIT, price=Decimal("175")))
        assert other.status is not OrderStatus.REJECTED, other.reason
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.ACCEPTED, 20)
        ibg.set_price("AAPL", "184.50")  # the ask reaches 185: the first fills
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED, 20)
        assert status(engine, other.client_order_id) is OrderStatus.ACCEPTED
        await engine.cancel(other.client_order_id)
        await wait_for(lambda: status(engine, other.client_order_id) is OrderStatus.CANCELLED, 20)
        assert ibg.orders[f"17:{engine.oms.orders[other.client_order_id].venue_order_id}"].status == "canceled"  # type: ignore[union-attr]
        await ledgers_agree(engine, ibg)
    finally:
        await engine.stop()


async def test_stop_order_triggers_and_fills(ibg: FakeIBGateway) -> None:
    engine = await started(ibg)
    try:
        stop = await engine.place(buy("2", type=OrderType.STOP, stop_price=Decimal("195")))
        await wait_for(lambda: status(engine, stop.client_order_id) is OrderStatus.ACCEPTED, 20)
        made = next(iter(ibg.orders.values()))
        assert made.ib_type == "STP" and made.stop_price == Decimal("195") and made.is_open  # type: ignore[attr-defined]
        ibg.set_price("AAPL", "195.50")
        await wait_for(lambda: status(engine, stop.client_order_id) is OrderStatus.FILLED, 20)
        await ledgers_agree(engine, ibg)
    finally:
        await engine.stop()


async def test_reconnect_with_a_fill_in_the_gap(ibg: FakeIBGateway) -> None:
    """The Gateway restarts (it does, daily); a resting order fills while we are away: the
    reconnect's reconciliation brings the fill, once."""
    events: list[Event] = []
    engine = await started(ibg, events=events)
    try:
        resting = await engine.place(buy("4", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.ACCEPTED, 20)
        await ibg.drop_connections()
        key = next(iter(ibg.orders))
        ibg.fill(key, Decimal(1))  # a partial fill nobody is connected to hear
        await wait_for(lambda: engine.oms.orders[resting.client_order_id].filled_quantity == 1, 20)  # type: ignore[union-attr]
        assert any(isinstance(e, ConnectionEvent) and e.state is ConnectionState.RECONNECTING for e in events)
        ibg.fill(key)  # the rest, streamed on the new socket
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED, 20)
        assert placed_orders(ibg) == 1
        await ledgers_agree(engine, ibg)
    finally:
        await engine.stop()


async def test_a_hung_gateway_is_noticed_and_the_fill_in_the_silence_reconciled(ibg: FakeIBGateway) -> None:
    """The socket stays open and nothing comes (no quotes, no answer to reqCurrentTime): the
    watchdog reconnects; the order that filled meanwhile is reconciled."""
    events: list[Event] = []
    engine = await started(ibg, events=events)
    try:
        resting = await engine.place(buy("2", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.ACCEPTED, 20)
        ibg.hang()
        ibg.fill(next(iter(ibg.orders)))
        await wait_for(lambda: any(isinstance(e, ConnectionEvent) and e.state is ConnectionState.RECONNECTING
                                   for e in events), 5)  # fmt: skip
        ibg.hang(False)
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED, 20)
        await ledgers_agree(engine, ibg)
    finally:
        await engine.stop()


async def test_market_hours_come_from_ib_and_closed_refuses_without_sending(ibg: FakeIBGateway) -> None:
    ibg.set_market(False)
    engine = await started(ibg)
    try:
        refused = await engine.place(buy("1"))
        assert refused.status is OrderStatus.REJECTED and "closed" in (refused.reason or ""), refused
        assert placed_orders(ibg) == 0
    finally:
        await engine.stop()
    ibg.set_market(False, extended=True)  # the after-market: limit orders with outsideRth
    engine = await started(ibg, settings={"extended_hours": True})
    try:
        market = await engine.place(buy("1"))
        assert market.status is OrderStatus.REJECTED and "limit orders only" in (market.reason or ""), market
        limit = await engine.place(buy("1", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, limit.client_order_id) is OrderStatus.ACCEPTED, 20)
        assert next(iter(ibg.orders.values())).outside_rth  # type: ignore[attr-defined]
        assert placed_orders(ibg) == 1
    finally:
        await engine.stop()


async def test_paper_setting_must_match_the_logged_in_account(ibg: FakeIBGateway) -> None:
    venue = make_venue(ibg, settings={"paper": False})
    with pytest.raises(ConfigError, match="paper = false, but TWS / IB Gateway is logged in to a paper account"):
        await venue.connect(lambda e: None)
    await venue.close()


async def test_crash_mid_send_the_next_start_finds_the_order_by_its_ref(ibg: FakeIBGateway, tmp_path: Any) -> None:
    """The order reached IB; the socket died before any answer and we stopped. The next start
    finds it by orderRef and never sends it again."""
    home = Home(tmp_path).ensure()
    engine = await started(ibg, home=home, ack_timeout_s=0.5)
    ibg.swallow_next_order()
    placed = await engine.place(buy("2", type=OrderType.LIMIT, price=Decimal("185")))
    cid = placed.client_order_id
    assert placed.status in (OrderStatus.UNKNOWN, OrderStatus.ACCEPTED), placed
    await engine.stop()
    assert len(ibg.orders) == 1
    engine2 = await started(ibg, home=home)
    try:
        await wait_for(lambda: status(engine2, cid) is OrderStatus.ACCEPTED, 20)
        ibg.set_price("AAPL", "184.50")
        await wait_for(lambda: status(engine2, cid) is OrderStatus.FILLED, 20)
        assert placed_orders(ibg) == 1
        await ledgers_agree(engine2, ibg)
    finally:
        await engine2.stop()


async def test_a_second_session_with_the_same_client_id_is_refused_in_one_line(ibg: FakeIBGateway) -> None:
    first = make_venue(ibg)
    await first.connect(lambda e: None)
    try:
        second = make_venue(ibg, timeout=1.0)
        with pytest.raises(VenueError, match=r"refused client id 17: another session uses it \(IB 326\)") as caught:
            await second.connect(lambda e: None)
        await second.close()
        assert "\n" not in str(caught.value)
    finally:
        await first.close()
    await asyncio.sleep(0)


async def test_a_market_order_filled_at_once_owes_nothing_and_the_next_order_goes(ibg: FakeIBGateway) -> None:
    """IB fills a market order before its acknowledgement is read: nothing is left working, so
    the order stream owes nothing, stays connected, and the next order is sent (found by a
    daemon run: a stale working entry made the stream 'silent' and refused the next order)."""
    engine = await started(ibg)
    try:
        first = await engine.place(buy("3"))
        await wait_for(lambda: status(engine, first.client_order_id) is OrderStatus.FILLED, 20)
        venue = engine.venues["ib"]
        assert not venue._working  # type: ignore[attr-defined]
        await asyncio.sleep(3 * venue.monitor.stall_after_s)  # type: ignore[attr-defined]
        assert venue.counters["reconnects"] == 0  # type: ignore[attr-defined]
        second = await engine.place(buy("2", type=OrderType.LIMIT, price=Decimal("185")))
        assert second.status is OrderStatus.ACCEPTED, second.reason
        assert placed_orders(ibg) == 2
    finally:
        await engine.stop()


async def test_executions_read_back_carry_their_commissions(ibg: FakeIBGateway) -> None:
    """Reconciliation reads IB's executions again (reqExecutions). For an execution ib_async
    already knows, its answer is a new Fill whose commission report stays empty (IB's report
    goes to the one ib_async kept): a fill first learned from such a read, after an outage,
    was booked with a fee of 0. Each execution read back carries IB's commission, as the
    streamed one does."""
    engine = await started(ibg)
    venue = engine.venues["ib"]
    try:
        placed = await engine.place(buy("2"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED, 20)
        streamed = sorted((f.fill_id, f.fee) for f in engine.fills if f.client_order_id == placed.client_order_id)
        assert len(streamed) == 2 and all(fee == Decimal("1.00") for _, fee in streamed)
        read_back = await venue.fetch_fills()
        assert sorted((f.fill_id, f.fee) for f in read_back) == streamed
        await venue.fetch_order(placed.client_order_id, "AAPL")  # the lookup of an order whose answer was lost
        looked_up = venue._looked_up_fills[placed.client_order_id]  # type: ignore[attr-defined]
        assert sorted((f.fill_id, f.fee) for f in looked_up) == streamed
    finally:
        await engine.stop()


async def test_the_stocks_count_once_in_the_cash_read_with_the_liquidation_value(ibg: FakeIBGateway) -> None:
    """IB's NetLiquidation is the cash and the stocks at IB's value; the portfolio counts the
    stocks it holds itself, so their value is taken out of the read (with IB's own valuation,
    sent with it). Stocks bought elsewhere stay in, at their value at the read. Before, the
    3 AAPL bought here counted twice in the equity after every read (at start, each re-read)."""
    from fakes.fake_market import FakeTrade
    from fakes.ib_gateway import IBOrder

    ibg.price_step = lambda symbol: Decimal(0)  # type: ignore[method-assign]  # prices still: exact values
    price = ibg.prices["AAPL"]
    elsewhere = IBOrder(1, "bought-in-tws", "AAPL", "buy", "market", Decimal(2), None, 0)
    ibg.trades.append(FakeTrade(1, elsewhere, Decimal(2), price, 0))
    ibg.cash -= 2 * price
    engine = await started(ibg)
    try:
        def cash() -> Decimal:
            return engine.portfolio.venue_cash["ib"]["USD"]

        assert cash() == ibg.cash + 2 * price  # the 2 bought in TWS: their value, beside the cash
        placed = await engine.place(buy("3"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED, 20)
        assert cash() == ibg.cash + 2 * price  # the fills paid for the 3
        assert await engine.reconciler.cash.reread("ib", "a test") == {}  # IB sent its values at the change
        assert cash() == ibg.cash + 2 * price and engine.portfolio.position("ib", "AAPL").quantity == 3
    finally:
        await engine.stop()


async def test_balances_asked_while_not_connected_are_an_error_not_zero(ibg: FakeIBGateway) -> None:
    """Disconnected, ib_async answers the account values from an empty cache: that read 0 USD,
    and a re-read believed it (the equity fell to the positions alone)."""
    with pytest.raises(VenueError, match="not connected to TWS / IB Gateway: its balances are not known"):
        await make_venue(ibg).fetch_balances()


async def test_shares_sold_elsewhere_are_said_after_the_reconnect_until_they_agree_again(ibg: FakeIBGateway) -> None:
    """IB's positions are read with its balances and compared with ours: 3 AAPL bought here,
    then sold in TWS while we were away (a sale we never hear of as ours) is said after the
    reconnect, in a warning and in status, until a read agrees again. Before, `fetch_positions`
    was never asked: the engine went on counting 3 AAPL, its stops ready to sell shares the
    account no longer held. Stocks bought elsewhere (IB holding more) are no disagreement."""
    from fakes.fake_market import FakeTrade
    from fakes.ib_gateway import IBOrder

    events: list[Event] = []
    engine = await started(ibg, events=events)

    def said(text: str) -> bool:
        return any(isinstance(e, NoticeEvent) and text in e.message for e in events)

    def elsewhere(side: str, qty: str) -> None:
        order = IBOrder(len(ibg.trades) + 100, f"{side}-in-tws", "AAPL", side, "market", Decimal(qty), None, 0)
        ibg.trades.append(FakeTrade(f"tws-{len(ibg.trades)}", order, Decimal(qty), ibg.prices["AAPL"], 0))

    try:
        elsewhere("buy", "5")  # held from before: IB holds more than we do, always
        placed = await engine.place(buy("3"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED, 20)
        await engine.reconciler.cash.reread("ib", "a test")
        assert engine.snapshot().venues[0].positions_disagree == []
        elsewhere("sell", "7")  # 1 AAPL left at IB, 3 counted here
        await ibg.drop_connections()
        await wait_for(lambda: said("ib: positions disagree: AAPL 3 here, 1 at the venue"), 20)
        assert engine.snapshot().venues[0].positions_disagree == [{"symbol": "AAPL", "ours": "3", "at_venue": "1"}]
        assert engine.portfolio.position("ib", "AAPL").quantity == 3  # nothing adopted: a fill is the venue's fill
        elsewhere("buy", "2")
        await engine.reconciler.cash.reread("ib", "a test")
        assert said("ib: positions agree with the venue again")
        assert engine.snapshot().venues[0].positions_disagree == []
    finally:
        await engine.stop()
