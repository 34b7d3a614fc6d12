"""What Alpaca can do to an order, against the fake Alpaca (real alpaca-py clients): each fault
ends with Alpaca's ledger and ours agreeing, and no order sent twice.

Alpaca's rules the fake follows (its trading API docs): orders are found by client_order_id
(GET /v2/orders:by_client_order_id, 404 when unknown); a second order with a used
client_order_id is refused (422 "client_order_id must be unique"); 429 with X-RateLimit-Reset
(unix seconds); trade_updates on the /stream socket for every change.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tui_trader.config import Settings
from tui_trader.core.clock import SystemClock
from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, Side
from tui_trader.core.events import ConnectionEvent, Event, OrderEvent
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.secrets import Credentials
from tui_trader.venues.alpaca.venue import AlpacaVenue
from tui_trader.venues.resilience import Backoff

from fakes.alpaca_exchange import FakeAlpaca, alpaca_order
from fakes.venue_harness import wait_for

KEY, SECRET = "test-key", "test-secret-value"


async def started(fake: FakeAlpaca, *, timeout: float = 2.0, final_s: float = 60.0) -> Engine:
    venue = AlpacaVenue(
        "alpaca", fake.venue_settings(), SystemClock(), credentials=Credentials(KEY, SECRET),
        backoff=Backoff(0.05, 0.2, rng=random.Random(1)), order_rate=50, rest_timeout_s=timeout,
        not_found_final_after_s=final_s,
    )  # fmt: skip
    engine = Engine(Settings(), None, in_memory=True, venues={"alpaca": venue})
    await engine.start()
    await wait_for(lambda: None not in (engine.ticker("AAPL"), engine.ticker("BTC/USD")))
    return engine


def buy(qty: str = "2", **kw: Any) -> OrderRequest:
    return OrderRequest("AAPL", Side.BUY, Decimal(qty), venue="alpaca", **kw)


def resting(qty: str = "2", **kw: Any) -> OrderRequest:
    return buy(qty, type=OrderType.LIMIT, price=Decimal("180"), **kw)  # under the ~190 market


def status(engine: Engine, cid: str) -> OrderStatus:
    return engine.oms.orders[cid].status  # type: ignore[union-attr]


def posts(fake: FakeAlpaca) -> int:
    return sum(1 for m, p in fake.requests if m == "POST" and p == "/v2/orders")


async def ledgers_agree(engine: Engine, fake: FakeAlpaca) -> None:
    """Every execution at Alpaca is one of our fills, once; filled quantities and positions match."""
    assert engine.store is not None and engine.oms is not None
    await wait_for(lambda: {f.fill_id for f in engine.fills} >= {f.execution_id for f in fake.fills})
    await engine.oms.flush()
    stored = await engine.store.load_fills(limit=10_000)
    assert sorted(f.fill_id for f in stored) == sorted(f.execution_id for f in fake.fills)
    for cid, o in fake.orders.items():
        ours = await engine.store.get_order(cid)
        assert ours is not None and ours.filled_quantity == o.filled_qty, (cid, ours, o.filled_qty)
    for symbol in fake.assets:
        assert engine.portfolio.position("alpaca", symbol).quantity == fake.position(symbol)
    assert fake.duplicate_submissions == 0


@pytest.mark.parametrize("lookup_fault", ["503", "429", "timeout"])
async def test_lost_answer_and_a_failing_lookup_never_send_the_order_twice(
    alpaca: FakeAlpaca, lookup_fault: str
) -> None:
    """The answer to a market order is lost, then looking it up by client id fails (every retry
    of that lookup): it stays unknown, is never sent again, and is settled once Alpaca answers."""
    engine = await started(alpaca, timeout=0.4)
    by_cid = "/v2/orders:by_client_order_id"
    try:
        alpaca.stall_private()  # trade_updates loses the news too: only REST can tell
        alpaca.delay_next_ack(1.0)
        for _ in range(5):  # the lookup's own retries fail too
            if lookup_fault == "timeout":
                alpaca.hang_next(0.6, method="GET", path=by_cid)
            else:
                alpaca.fail_next(1, int(lookup_fault), method="GET", path=by_cid, retry_after=0.1)
        seen: list[Event] = []
        engine.bus.on(seen.append, kinds=["order"])
        placed = await engine.place(buy())
        # unknown, never rejected; with 429's Retry-After the lookups can outlast `place`, so
        # the order may be settled by the time it returns: what it went through says it
        cid = placed.client_order_id
        went = [e.order.status for e in seen if isinstance(e, OrderEvent) and e.order.client_order_id == cid]
        assert OrderStatus.UNKNOWN in went and OrderStatus.REJECTED not in went, (went, placed)
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        alpaca.stall_private(False)
        assert posts(alpaca) == 1 and len(alpaca.orders) == 1
        await ledgers_agree(engine, alpaca)
    finally:
        await engine.stop()


async def test_an_order_alpaca_never_got_is_settled_when_not_found_is_final(alpaca: FakeAlpaca) -> None:
    engine = await started(alpaca, final_s=1.0)
    try:
        alpaca.fail_next(1, 503, method="POST", path="/v2/orders")
        placed = await engine.place(resting())
        assert placed.status is OrderStatus.UNKNOWN
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.REJECTED, 20)
        assert "never reached the venue (alpaca)" in (engine.oms.orders[placed.client_order_id].reason or "")  # type: ignore[union-attr]
        assert posts(alpaca) == 1 and not alpaca.orders
    finally:
        await engine.stop()


async def test_client_id_must_be_unique_with_a_failing_lookup_is_never_rejected(alpaca: FakeAlpaca) -> None:
    """Alpaca already has our client id (422) and the lookup fails once: the working order is
    found later, never marked rejected, and cancel all reaches it."""
    engine = await started(alpaca)
    try:
        alpaca.orders["mine-1"] = alpaca_order(
            "7b0c2f5e-0000-4000-8000-0000000000aa", "mine-1", "AAPL", "buy", "limit", Decimal("2"),
            Decimal("180"), None, "gtc", False, False, datetime.now(UTC),
        )  # fmt: skip
        alpaca.fail_next(1, 503, method="GET", path="/v2/orders:by_client_order_id")
        placed = await engine.place(resting(client_order_id="mine-1"))
        assert placed.status is not OrderStatus.REJECTED, placed.reason
        await wait_for(lambda: status(engine, "mine-1") is OrderStatus.ACCEPTED)
        await engine.cancel_all()
        await wait_for(lambda: status(engine, "mine-1") is OrderStatus.CANCELLED)
        assert alpaca.orders["mine-1"].status == "canceled"
    finally:
        await engine.stop()


async def test_silent_trade_updates_are_noticed_and_their_fills_recovered(alpaca: FakeAlpaca) -> None:
    """Only trade_updates goes silent while quotes flow: its own watchdog notices (REST shows the
    order filled, the socket said nothing), the socket is reconnected, the fill reconciled."""
    engine = await started(alpaca)
    events: list[Event] = []
    engine.bus.on(events.append, kinds=["connection"])
    try:
        placed = await engine.place(resting())
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.ACCEPTED)
        alpaca.stall_private()
        alpaca.fill(placed.client_order_id)
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        assert any(
            isinstance(e, ConnectionEvent)
            and e.state is ConnectionState.DEGRADED
            and "trade_updates silent" in e.detail
            for e in events
        )
        alpaca.stall_private(False)
        await ledgers_agree(engine, alpaca)
    finally:
        await engine.stop()


async def test_429_waits_for_the_reset_alpaca_names(alpaca: FakeAlpaca) -> None:
    """A 429 on the order says when the window resets (X-RateLimit-Reset): the order, refused
    and so never made, is sent again no sooner."""
    engine = await started(alpaca)
    try:
        alpaca.fail_next(1, 429, method="POST", path="/v2/orders", retry_after=1.5)
        placed = await engine.place(buy())
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        sent = [t for t, m, p in alpaca.request_times if m == "POST" and p == "/v2/orders"]
        assert len(sent) == 2 and sent[1] - sent[0] >= 0.5  # the reset is a whole unix second
        await asyncio.sleep(0.2)
        await ledgers_agree(engine, alpaca)
    finally:
        await engine.stop()
