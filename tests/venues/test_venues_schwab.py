"""The Schwab adapter against the loopback fake Schwab (real schwab-py clients): market, limit,
stop, cancel, fills streamed, a reconnect with a fill in the gap, and the ledgers agreeing."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("schwab", reason="schwab-py is an optional extra (tui-trader[brokers])")

from tui_trader.config import Settings
from tui_trader.core.clock import SystemClock
from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, Side
from tui_trader.core.events import ConnectionEvent, Event
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.secrets import Credentials
from tui_trader.venues.resilience import Backoff
from tui_trader.venues.schwab.venue import SchwabVenue

from fakes.schwab_exchange import FakeSchwab
from fakes.venue_harness import wait_for

KEY, SECRET = "fake-app-key", "fake-app-secret"


def make_venue(fake: FakeSchwab, tmp: Path | None = None, **kw: Any) -> SchwabVenue:
    saved: list[str] = kw.pop("saved", [])
    return SchwabVenue(
        "schwab", fake.venue_settings(**kw.pop("settings", {})), SystemClock(),
        credentials=Credentials(KEY, SECRET, token=fake.issue_token()),
        save_token=saved.append,
        ids_path=None if tmp is None else tmp / "schwab_ids.jsonl",
        backoff=Backoff(0.05, 0.2, rng=random.Random(1)), order_rate=50,
        rest_timeout_s=kw.pop("timeout", 10.0), heartbeat_grace_s=kw.pop("heartbeat_grace_s", 1.0), **kw,
    )  # fmt: skip  # the venue's own 10 s unless a test loses answers (a loaded machine took 2 s to answer)


async def started(fake: FakeSchwab, tmp: Path | None = None, events: list[Event] | None = None, **kw: Any) -> Engine:
    venue = make_venue(fake, tmp, **kw)
    engine = Engine(Settings(), None, in_memory=True, venues={"schwab": venue})
    if events is not None:
        engine.bus.on(events.append, name="test-events")
    await engine.start()
    engine.live_armed = True  # Schwab is always real money: the trader armed it
    await wait_for(lambda: engine.ticker("AAPL") is not None)
    return engine


def buy(qty: str = "2", **kw: Any) -> OrderRequest:
    return OrderRequest("AAPL", Side.BUY, Decimal(qty), venue="schwab", **kw)


def status(engine: Engine, cid: str) -> OrderStatus:
    return engine.oms.orders[cid].status  # type: ignore[union-attr]


def posts(fake: FakeSchwab) -> int:
    return sum(1 for m, p in fake.requests if m == "POST" and p.endswith("/orders"))


async def ledgers_agree(engine: Engine, fake: FakeSchwab) -> None:
    """Every execution at Schwab is one of our fills, once; quantities and positions match."""
    assert engine.store is not None and engine.oms is not None
    theirs = {f"{t.order.order_id}:{i}" for o in fake.orders.values() for i, t in enumerate(o.executions)}  # type: ignore[attr-defined]
    await wait_for(lambda: {f.fill_id for f in engine.fills} >= theirs)
    await engine.oms.flush()
    stored = await engine.store.load_fills(limit=10_000)
    assert sorted(f.fill_id for f in stored) == sorted(theirs)
    ours = {o.venue_order_id: o for o in engine.oms.orders.values()}
    for o in fake.orders.values():
        mine = ours.get(str(o.order_id))
        assert mine is not None and mine.filled_quantity == o.executed, (o.order_id, mine, o.executed)
    for symbol in fake.symbols:
        assert engine.portfolio.position("schwab", symbol).quantity == fake.position(symbol)


async def test_market_order_fills_streamed_and_ledgers_agree(schwab: FakeSchwab) -> None:
    engine = await started(schwab)
    try:
        placed = await engine.place(buy("2"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        order = engine.oms.orders[placed.client_order_id]  # type: ignore[union-attr]
        assert order.venue_order_id == str(next(iter(schwab.orders.values())).order_id)
        assert len([f for f in engine.fills if f.client_order_id == placed.client_order_id]) == 2  # two executions
        assert posts(schwab) == 1
        await ledgers_agree(engine, schwab)
    finally:
        await engine.stop()


async def test_limit_rests_then_fills_and_a_cancel_ends_another(schwab: FakeSchwab) -> None:
    engine = await started(schwab)
    try:
        resting = await engine.place(buy("3", type=OrderType.LIMIT, price=Decimal("185")))
        other = await engine.place(buy("1", type=OrderType.LIMIT, price=Decimal("175")))
        assert other.status is not OrderStatus.REJECTED, other.reason
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.ACCEPTED)
        schwab.set_price("AAPL", "184.50")  # the ask reaches 185: the first fills
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED)
        assert status(engine, other.client_order_id) is OrderStatus.ACCEPTED
        await engine.cancel(other.client_order_id)
        await wait_for(lambda: status(engine, other.client_order_id) is OrderStatus.CANCELLED)
        assert next(o for o in schwab.orders.values() if o.quantity == 1).status == "canceled"
        await ledgers_agree(engine, schwab)
    finally:
        await engine.stop()


async def test_stop_order_triggers_and_fills(schwab: FakeSchwab) -> None:
    engine = await started(schwab)
    try:
        stop = await engine.place(buy("2", type=OrderType.STOP, stop_price=Decimal("195")))
        await wait_for(lambda: status(engine, stop.client_order_id) is OrderStatus.ACCEPTED)
        assert next(iter(schwab.orders.values())).to_json()["status"] == "PENDING_ACTIVATION"  # type: ignore[attr-defined]
        schwab.set_price("AAPL", "195.50")
        await wait_for(lambda: status(engine, stop.client_order_id) is OrderStatus.FILLED)
        await ledgers_agree(engine, schwab)
    finally:
        await engine.stop()


async def test_reconnect_with_a_fill_in_the_gap(schwab: FakeSchwab) -> None:
    """The socket dies silently (no heartbeat, no account activity); a resting order fills
    meanwhile: the watchdog reconnects and the reconcile brings the fill."""
    events: list[Event] = []
    engine = await started(schwab, events=events)
    try:
        resting = await engine.place(buy("2", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.ACCEPTED)
        await asyncio.sleep(0.3)
        schwab.stall()
        schwab.fill(next(iter(schwab.orders)))  # filled at Schwab; nobody tells us
        await wait_for(lambda: any(isinstance(e, ConnectionEvent) and e.state is ConnectionState.RECONNECTING
                                   for e in events))  # fmt: skip
        schwab.stall(False)
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED)
        assert schwab.faults_injected == ["stall"]
        await ledgers_agree(engine, schwab)
    finally:
        await engine.stop()


async def test_dropped_socket_and_a_fill_before_it_is_back(schwab: FakeSchwab) -> None:
    engine = await started(schwab)
    try:
        resting = await engine.place(buy("4", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.ACCEPTED)
        await schwab.drop_connections()
        schwab.fill(next(iter(schwab.orders)), Decimal(1))  # a partial fill while we are away
        await wait_for(lambda: engine.oms.orders[resting.client_order_id].filled_quantity == 1)  # type: ignore[union-attr]
        schwab.fill(next(iter(schwab.orders)))  # and the rest, streamed after the reconnect
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED)
        await ledgers_agree(engine, schwab)
    finally:
        await engine.stop()


async def test_the_stocks_count_once_in_the_cash_read_with_the_liquidation_value(schwab: FakeSchwab) -> None:
    """Schwab's liquidationValue is the cash and the stocks at Schwab's value; the positions in
    the same answer give that value, and the part the portfolio holds itself is taken out.
    Stocks bought elsewhere stay in, at their value at the read. Before, the 3 AAPL bought here
    counted twice in the equity after every read (at start, each re-read)."""
    from fakes.fake_market import FakeOrder, FakeTrade

    schwab.price_step = lambda symbol: Decimal(0)  # type: ignore[method-assign]  # prices still: exact values
    price = schwab.prices["AAPL"]
    elsewhere = FakeOrder(1, "bought-on-schwab.com", "AAPL", "buy", "market", Decimal(2), None, 0)
    schwab.trades.append(FakeTrade(1, elsewhere, Decimal(2), price, 0))
    schwab.cash -= 2 * price
    engine = await started(schwab)
    try:
        def cash() -> Decimal:
            return engine.portfolio.venue_cash["schwab"]["USD"]

        assert cash() == schwab.cash + 2 * price  # the 2 bought elsewhere: their value, beside the cash
        placed = await engine.place(buy("3"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        assert cash() == schwab.cash + 2 * price  # the fills paid for the 3
        assert await engine.reconciler.cash.reread("schwab", "a test") == {}
        assert cash() == schwab.cash + 2 * price and engine.portfolio.position("schwab", "AAPL").quantity == 3
    finally:
        await engine.stop()
