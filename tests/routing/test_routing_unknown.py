"""A child whose fate is unknown mid-route (the venue took it, or not, and its answer was lost;
then the venue cannot be asked for a while): the router neither guesses nor sends the part
again. The part stays the venue's until reconciliation hears what the venue did; only then is
the order finished (the fill found) or its rest routed elsewhere (the venue never had it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any

import pytest

from tui_trader.config import Settings
from tui_trader.core import OrderRequest, Side
from tui_trader.core.enums import OrderStatus
from tui_trader.core.events import Event, ExecutionReport
from tui_trader.core.orders import Order
from tui_trader.engine import Engine
from tui_trader.engine.testing import paper_engine, step
from tui_trader.venues.base import VenueError
from tui_trader.venues.paper import PaperVenue

pytestmark = pytest.mark.asyncio

# `rich` quotes the market 20 bp above `paper` (no noise): `paper` is the cheaper place to buy.
TWO = {"rich": {"kind": "paper", "seed": 11, "basis_bps": 20, "basis_noise_bps": 0}}


@pytest.fixture
async def eng() -> AsyncIterator[Engine]:
    engine = paper_engine(Settings(venues=TWO))  # type: ignore[arg-type]
    await engine.start()
    await step(engine, 4)
    yield engine
    await engine.stop()


class LostAnswer:
    """`paper` loses the answer to the next order (its stream says nothing about it and the
    request times out), and then cannot be read (every lookup fails) until `back()`. With
    `arrives` the venue did take the order (and filled it); without, it never reached it."""

    def __init__(self, engine: Engine, *, arrives: bool) -> None:
        venue = engine.venues["paper"]
        assert isinstance(venue, PaperVenue)
        self.venue = venue
        self.unreachable = True
        self.sent: list[str] = []
        create, emit = venue.create_order, venue._emit
        reads = {n: getattr(venue, n) for n in ("fetch_open_orders", "fetch_order", "fetch_fills")}

        async def lost(order: Order) -> None:
            venue.create_order = create  # type: ignore[method-assign]  # only this one is lost
            self.sent.append(order.client_order_id)
            if arrives:
                def silent(event: Event) -> None:
                    if not (isinstance(event, ExecutionReport) and event.client_order_id == order.client_order_id):
                        emit(event)

                venue._emit = silent
                try:
                    await create(order)
                finally:
                    venue._emit = emit
            raise TimeoutError("no answer within 10 s")

        def unreachable(real: Any) -> Any:
            async def read(*args: Any, **kw: Any) -> Any:
                if self.unreachable:
                    raise VenueError("paper: connection reset")
                return await real(*args, **kw)

            return read

        venue.create_order = lost  # type: ignore[method-assign]
        for name, real in reads.items():
            setattr(venue, name, unreachable(real))

    def back(self) -> None:
        self.unreachable = False


def sent_to(engine: Engine, venue: str) -> list[Order]:
    assert engine.oms is not None
    return [o for o in engine.oms.orders.values() if o.venue == venue]


async def wait_while_unknown(eng: Engine, parent: Order) -> Order:
    """Time passes (past child_timeout_s, lookups failing): the parent keeps its one child."""
    assert eng.oms is not None
    for _ in range(3):
        await step(eng, 40)  # 10 s
        await eng.router._time_out_children()
        await eng.oms.flush()
        await eng.router._refresh(parent.client_order_id, False)
        with pytest.raises(VenueError):
            await eng.reconciler.run("paper")
    now = eng.oms.orders[parent.client_order_id]
    assert now.is_open and len(now.meta["route"]["children"]) == 1
    [child] = [eng.oms.orders[c] for c in now.meta["route"]["children"]]
    assert child.status is OrderStatus.UNKNOWN and child.meta.get("cancel_requested")  # timed out: cancel asked
    assert sent_to(eng, "rich") == []  # nothing sent elsewhere while its fate is unknown
    return now


async def settle(eng: Engine, parent: Order) -> Order:
    assert eng.oms is not None
    await eng.reconciler.run("paper")
    await eng.oms.flush()
    await eng.router._refresh(parent.client_order_id, False)
    return eng.oms.orders.get(parent.client_order_id) or parent


async def test_a_child_the_venue_filled_but_never_confirmed_is_found_and_not_sent_again(eng: Engine) -> None:
    lost = LostAnswer(eng, arrives=True)
    parent = await eng.place(OrderRequest("BTC/USDT", Side.BUY, D("0.1"), venue="auto", source="cli"), "cli")
    assert parent.is_open and len(lost.sent) == 1
    parent = await wait_while_unknown(eng, parent)
    lost.back()
    final = await settle(eng, parent)
    assert final.status is OrderStatus.FILLED and final.filled_quantity == D("0.1"), final.reason
    assert final.meta["venues"] == ["paper"] and len(final.meta["route"]["children"]) == 1
    assert sent_to(eng, "rich") == []
    rich = eng.venues["rich"]
    assert isinstance(rich, PaperVenue)
    assert lost.venue.account.position("BTC/USDT") == D("0.1") and rich.account.position("BTC/USDT") == 0


async def test_a_child_that_never_reached_the_venue_moves_on_only_once_the_venue_says_so(eng: Engine) -> None:
    lost = LostAnswer(eng, arrives=False)
    parent = await eng.place(OrderRequest("BTC/USDT", Side.BUY, D("0.1"), venue="auto", source="cli"), "cli")
    parent = await wait_while_unknown(eng, parent)
    lost.back()
    final = await settle(eng, parent)
    assert final.status is OrderStatus.FILLED, final.reason
    first, second = (eng.oms.orders[c] for c in final.meta["route"]["children"])  # type: ignore[union-attr]
    assert first.venue == "paper" and first.status is OrderStatus.CANCELLED and first.filled_quantity == 0
    assert "never reached the venue" in (first.reason or "")
    assert (second.venue, second.quantity, second.status) == ("rich", D("0.1"), OrderStatus.FILLED)
    assert "0.1 on rich" in (final.reason or "")
    rich = eng.venues["rich"]
    assert isinstance(rich, PaperVenue)
    assert lost.venue.account.position("BTC/USDT") == 0 and rich.account.position("BTC/USDT") == D("0.1")
