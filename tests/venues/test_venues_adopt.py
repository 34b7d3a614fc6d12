"""`venue adopt NAME SYMBOL`: a broker's position taken as the engine's, against Webull's
loopback fake (its holdings and cash move as Webull's would when shares are sold in its own
app). Before, a disagreement could only be shown: the engine's count moves by fills alone, so
it never agreed again."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from test_venues_webull import buy, make_venue, started, status

from tui_trader.config import Settings
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.errors import UsageError, UserError
from tui_trader.core.events import Event, NoticeEvent
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.engine.commands import dispatch
from tui_trader.engine.venue_answers import adopted_line
from tui_trader.home import Home

from fakes.venue_harness import wait_for
from fakes.webull_exchange import FakeWebull


@pytest.fixture
async def wb() -> FakeWebull:  # type: ignore[misc]
    fake = await FakeWebull().start()
    yield fake
    await fake.stop()


def sold_in_webulls_app(fake: FakeWebull, qty: int) -> Decimal:
    """Shares sold at Webull outside tui_trader: fewer held, the proceeds in its cash."""
    price = fake.prices["AAPL"]
    fake.holdings["AAPL"] -= qty
    fake.cash += qty * price
    return price


async def adopt(engine: Engine, symbol: str = "AAPL") -> dict:  # type: ignore[type-arg]
    return await dispatch(engine, "venue.adopt", {"name": "wb", "symbol": symbol}, "test")  # type: ignore[no-any-return]


async def test_a_position_sold_in_the_brokers_app_is_adopted_from_manual_first_then_the_strategy(
    wb: FakeWebull,
) -> None:
    """4 AAPL bought by hand, 6 by a strategy; 7 sold in Webull's app. The read shows the
    disagreement; adopting sets the engine's 10 to Webull's 3, manual's part going first
    (4 -> 0), then the strategy's (6 -> 3); the cash re-read brings the proceeds in as money
    moved, not a trade's profit; the disagreement is gone, the account's value right."""
    notices: list[Event] = []
    engine = await started(wb, events=notices)
    try:
        manual = await engine.place(buy("4"))
        owned = await engine.place(OrderRequest("AAPL", Side.BUY, Decimal(6), venue="wb"), actor="strategy:trend")
        for cid in (manual.client_order_id, owned.client_order_id):
            await wait_for(lambda cid=cid: status(engine, cid) is OrderStatus.FILLED)  # type: ignore[misc]
        price = sold_in_webulls_app(wb, 7)
        await engine.reconciler.cash.reread("wb", "a test")
        assert engine.reconciler.cash.positions.rows("wb") == [{"symbol": "AAPL", "ours": "10", "at_venue": "3"}]

        answer = await adopt(engine)
        assert answer["changed"] and (answer["was"], answer["now"]) == ("10", "3")
        assert Decimal(answer["price"]) == price  # Webull's own value of a share
        assert adopted_line(answer).startswith(f"wb: AAPL 10 -> 3 (the broker's), booked at {answer['price']}")
        assert engine.portfolio.position("wb", "AAPL").quantity == 3
        assert engine.ledger.position("", "wb", "AAPL").quantity == 0
        assert engine.ledger.position("trend", "wb", "AAPL").quantity == 3
        assert engine.reconciler.cash.positions.rows("wb") == []
        assert engine.portfolio.venue_cash["wb"]["USD"] == wb.cash  # the proceeds, as Webull holds them
        adjustment = engine.oms.orders[answer["order"]]  # type: ignore[union-attr]
        assert adjustment.source == "adopt" and adjustment.status is OrderStatus.FILLED and not wb.posts() > 2
        said = " ".join(e.message for e in notices if isinstance(e, NoticeEvent))
        assert "AAPL position set to the broker's 3 (was 10)" in said

        again = await adopt(engine)  # agrees now: nothing changed
        assert not again["changed"]
        assert adopted_line(again) == "wb: AAPL 3 already agrees with the broker; nothing changed"
    finally:
        await engine.stop()


async def test_adopting_is_refused_while_an_order_in_the_symbol_works_there_and_nothing_changes(
    wb: FakeWebull,
) -> None:
    """A working order's fill may be in Webull's figure and not yet in ours: adopting then would
    count it twice. Refused in one line naming the order; nothing booked."""
    engine = await started(wb)
    try:
        held = await engine.place(buy("10"))
        await wait_for(lambda: status(engine, held.client_order_id) is OrderStatus.FILLED)
        resting = await engine.place(buy("5", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.ACCEPTED)
        sold_in_webulls_app(wb, 7)
        working = rf"an order of ours in AAPL is working there \({resting.client_order_id}\)"
        with pytest.raises(UserError, match=working):
            await adopt(engine)
        assert engine.portfolio.position("wb", "AAPL").quantity == 10
        assert not any(o.source == "adopt" for o in engine.oms.orders.values())  # type: ignore[union-attr]
    finally:
        await engine.stop()


async def test_an_adopted_position_is_the_same_after_a_restart(wb: FakeWebull, tmp_path: Path) -> None:
    """The adjustment is stored like any fill: the restarted engine counts 3, and its first
    read of the account finds nothing to disagree about."""
    home = Home(tmp_path).ensure()
    engine = Engine(Settings(), home, venues={"wb": make_venue(wb, tmp_path)})
    await engine.start()
    try:
        placed = await engine.place(buy("10"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        sold_in_webulls_app(wb, 7)
        assert (await adopt(engine))["now"] == "3"
    finally:
        await engine.stop()
    engine = Engine(Settings(), home, venues={"wb": make_venue(wb, tmp_path)})
    await engine.start()
    try:
        assert engine.portfolio.position("wb", "AAPL").quantity == 3
        assert engine.reconciler.cash.positions.rows("wb") == []
    finally:
        await engine.stop()


async def test_a_venue_that_says_nothing_of_its_positions_has_nothing_to_adopt() -> None:
    engine = Engine(Settings(), None, in_memory=True)
    await engine.start()
    try:
        with pytest.raises(UsageError, match=r"paper \(paper\) does not say what it holds: there is no figure"):
            await dispatch(engine, "venue.adopt", {"name": "paper", "symbol": "BTC/USDT"}, "test")
        with pytest.raises(UsageError, match=r"no venue 'nope'"):
            await dispatch(engine, "venue.adopt", {"name": "nope", "symbol": "X"}, "test")
    finally:
        await engine.stop()


async def test_a_failed_read_of_the_positions_changes_nothing(wb: FakeWebull, monkeypatch: pytest.MonkeyPatch) -> None:
    from tui_trader.venues.base import VenueError

    engine = await started(wb)
    try:
        placed = await engine.place(buy("10"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        sold_in_webulls_app(wb, 7)

        async def down() -> None:
            raise VenueError("wb: positions: HTTP 503 service unavailable")

        monkeypatch.setattr(engine.venues["wb"], "fetch_account", down)
        unread = r"^wb: its orders and positions could not be read \(wb: positions: HTTP 503"
        with pytest.raises(UserError, match=unread):
            await adopt(engine)
        assert engine.portfolio.position("wb", "AAPL").quantity == 10
    finally:
        await engine.stop()


async def test_two_adopts_at_once_book_the_difference_once(wb: FakeWebull) -> None:
    """The workstation and a CLI adopt the same symbol at the same moment: one books 10 -> 3,
    the other then finds the two agree. Each booking the difference would leave -4."""
    engine = await started(wb)
    try:
        placed = await engine.place(buy("10"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        sold_in_webulls_app(wb, 7)
        venue = engine.venues["wb"]
        read = venue.fetch_account  # type: ignore[attr-defined]
        both_reading = asyncio.Event()
        reads = 0

        async def slow_read() -> Any:  # the two reads overlap when they can
            nonlocal reads
            reads += 1
            if reads == 2:
                both_reading.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(both_reading.wait(), 0.5)
            return await read()

        venue.fetch_account = slow_read  # type: ignore[attr-defined]
        first, second = await asyncio.gather(adopt(engine), adopt(engine))
        assert sorted([first["changed"], second["changed"]]) == [False, True]
        assert engine.portfolio.position("wb", "AAPL").quantity == 3
    finally:
        await engine.stop()
