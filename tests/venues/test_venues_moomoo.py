"""The moomoo adapter against a loopback OpenD speaking moomoo's TCP protocol, through the real
moomoo-api client: paper market, limit and cancel with fills from the cumulative quantities,
a live account unlocked with the trade password whose deals are the fills, a lost answer found
by remark, a dropped OpenD with a fill in the gap, pushes lost, a wrong trade password, and
OpenD not running."""

from __future__ import annotations

import random
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("moomoo", reason="moomoo-api is an optional extra (tui-trader[brokers])")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui_trader.config import Settings
from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import SystemClock
from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, Side
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import ConnectionEvent, Event
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.secrets import Credentials
from tui_trader.venues.moomoo.venue import MoomooVenue
from tui_trader.venues.resilience import Backoff

from fakes.moomoo_opend import FILLED, REAL, SIM, FakeOpenD
from fakes.polled_broker import FixedHours, keyring_reads, venue_reconnect
from fakes.venue_harness import wait_for


@pytest.fixture
async def opend() -> AsyncIterator[FakeOpenD]:
    fake = await FakeOpenD().start()
    yield fake
    await fake.stop()


def make_venue(fake: FakeOpenD, *, live: bool = False, password: str = "135790", **kw: Any) -> MoomooVenue:
    vs = VenueSettings(kind="moomoo", symbols=["AAPL", "MSFT"], paper=not live, port=fake.port, poll_interval_s=0.2,
                       stall_after_s=3.0, backoff_base_s=0.25, backoff_cap_s=0.5)  # fmt: skip
    return MoomooVenue(
        "mm", vs, SystemClock(), credentials=Credentials(passphrase=password if live else ""),
        backoff=Backoff(0.05, 0.2, rng=random.Random(1)), order_rate=50, rest_timeout_s=kw.pop("timeout", 2.0),
        hours=FixedHours(), **kw,
    )  # fmt: skip


async def started(fake: FakeOpenD, events: list[Event] | None = None, **kw: Any) -> Engine:
    live = kw.get("live", False)
    engine = Engine(Settings(), None, in_memory=True, venues={"mm": make_venue(fake, **kw)})
    if events is not None:
        engine.bus.on(events.append, name="test-events")
    await engine.start()
    if live:
        engine.live_armed = True
    await engine.venues["mm"].subscribe(["AAPL", "MSFT"])
    await wait_for(lambda: engine.ticker("AAPL") is not None)
    return engine


def buy(qty: str = "10", symbol: str = "AAPL", **kw: Any) -> OrderRequest:
    return OrderRequest(symbol, Side.BUY, Decimal(qty), venue="mm", **kw)


def status(engine: Engine, cid: str) -> OrderStatus:
    return engine.oms.orders[cid].status  # type: ignore[union-attr]


def theirs(fake: FakeOpenD, cid: str) -> Any:
    return next(o for o in fake.orders.values() if o.remark == cid)


async def ledgers_agree(engine: Engine, fake: FakeOpenD, env: int) -> None:
    assert engine.oms is not None
    mine = [o for o in fake.orders.values() if o.env == env]
    await wait_for(lambda: all(engine.oms.orders[o.remark].filled_quantity == o.filled for o in mine))  # type: ignore[union-attr]
    for o in mine:
        if o.filled:
            assert engine.oms.orders[o.remark].average_price == o.avg  # type: ignore[union-attr]
    for code, qty in fake.holdings(env).items():
        assert engine.portfolio.position("mm", code).quantity == qty


async def test_paper_market_limit_cancel_fills_from_cumulative_quantities(opend: FakeOpenD) -> None:
    engine = await started(opend)
    try:
        market = await engine.place(buy("10"))
        await wait_for(lambda: status(engine, market.client_order_id) is OrderStatus.FILLED)
        order = theirs(opend, market.client_order_id)
        assert order.env == SIM and order.status == FILLED
        assert engine.oms.orders[market.client_order_id].venue_order_id == f"EX{order.order_id}"  # type: ignore[union-attr]
        resting = await engine.place(buy("30", type=OrderType.LIMIT, price=Decimal("185")))
        other = await engine.place(buy("5", type=OrderType.LIMIT, price=Decimal("180")))
        for o in (resting, other):
            await wait_for(lambda o=o: status(engine, o.client_order_id) is OrderStatus.ACCEPTED)
        opend.fill(theirs(opend, resting.client_order_id), Decimal(10), Decimal("185"))
        await wait_for(lambda: engine.oms.orders[resting.client_order_id].filled_quantity == 10)  # type: ignore[union-attr]
        opend.fill(theirs(opend, resting.client_order_id), Decimal(20), Decimal("184"))
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED)
        await engine.cancel(other.client_order_id)
        await wait_for(lambda: status(engine, other.client_order_id) is OrderStatus.CANCELLED)
        assert opend.placed() == 3
        await ledgers_agree(engine, opend, SIM)
        stop = await engine.place(buy("5", type=OrderType.STOP, stop_price=Decimal("200")))
        assert stop.status is OrderStatus.REJECTED and "market and limit orders only" in (stop.reason or "")
        assert opend.placed() == 3  # refused here, never sent
        balances = await engine.venues["mm"].fetch_balances()
        assert balances["USD"].total > 0
    finally:
        await engine.stop()


async def test_live_account_unlocks_and_its_deals_are_the_fills(opend: FakeOpenD) -> None:
    engine = await started(opend, live=True)
    try:
        market = await engine.place(buy("10"))
        await wait_for(lambda: status(engine, market.client_order_id) is OrderStatus.FILLED)
        order = theirs(opend, market.client_order_id)
        assert order.env == REAL and len(order.deals) == 2
        ids = sorted(f.fill_id for f in engine.fills if f.client_order_id == market.client_order_id)
        assert ids == sorted(str(d[0]) for d in order.deals)  # moomoo's deal ids, each once
        await ledgers_agree(engine, opend, REAL)
    finally:
        await engine.stop()


async def test_a_wrong_trade_password_is_refused_in_one_line(opend: FakeOpenD) -> None:
    venue = make_venue(opend, live=True, password="000000")
    with pytest.raises(ConfigError) as info:
        await venue.connect(lambda e: None)
    text = str(info.value)
    assert "refused to unlock trading" in text and "keys set mm" in text and "000000" not in text
    await venue.close()


async def test_opend_not_running_is_one_line() -> None:
    fake = await FakeOpenD().start()
    port = fake.port
    await fake.stop()
    venue = make_venue(fake)
    venue.settings = venue.settings.model_copy(update={"port": port})
    with pytest.raises(ConfigError, match=r"OpenD is not running at 127\.0\.0\.1"):
        await venue.connect(lambda e: None)


async def test_lost_answer_is_found_by_remark_and_never_sent_again(opend: FakeOpenD) -> None:
    engine = await started(opend)
    try:
        opend.lose_next_answer()  # the order is made, then OpenD's connection drops before the answer
        placed = await engine.place(buy("10", type=OrderType.LIMIT, price=Decimal("185")))
        assert placed.status is not OrderStatus.REJECTED, placed.reason
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.ACCEPTED, 20)
        opend.set_price("AAPL", "184")
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED, 20)
        assert opend.placed() == 1 and len(opend.orders) == 1
        await ledgers_agree(engine, opend, SIM)
    finally:
        await engine.stop()


async def test_dropped_opend_with_a_fill_in_the_gap_reconnects_and_reconciles(opend: FakeOpenD) -> None:
    events: list[Event] = []
    engine = await started(opend, events=events)
    try:
        placed = await engine.place(buy("20", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.ACCEPTED)
        opend.mute_pushes()
        opend.fill(theirs(opend, placed.client_order_id), Decimal(20), Decimal("185"))  # no push: lost
        await opend.drop_connections()
        opend.mute_pushes(False)
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED, 30)
        assert any(isinstance(e, ConnectionEvent) and e.state is ConnectionState.RECONNECTING for e in events)
        await ledgers_agree(engine, opend, SIM)
    finally:
        await engine.stop()


async def test_silent_pushes_are_covered_by_polling(opend: FakeOpenD) -> None:
    engine = await started(opend)
    try:
        opend.mute_pushes()
        placed = await engine.place(buy("10", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.ACCEPTED)
        opend.fill(theirs(opend, placed.client_order_id), Decimal(4), Decimal("185"))
        await wait_for(lambda: engine.oms.orders[placed.client_order_id].filled_quantity == 4)  # type: ignore[union-attr]
        assert engine.venues["mm"].state is ConnectionState.CONNECTED
    finally:
        await engine.stop()


async def test_a_refusal_is_moomoos_words_and_nothing_else_changes(opend: FakeOpenD) -> None:
    engine = await started(opend)
    try:
        opend.refuse_next("Order frequency too high: at most 15 orders every 30 seconds")
        refused = await engine.place(buy("10", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, refused.client_order_id) is OrderStatus.REJECTED)
        reason = engine.oms.orders[refused.client_order_id].reason or ""  # type: ignore[union-attr]
        assert "moomoo: Order frequency too high" in reason and not opend.orders
        again = await engine.place(buy("10", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, again.client_order_id) is OrderStatus.ACCEPTED)
        assert len(opend.orders) == 1
    finally:
        await engine.stop()


async def test_a_new_trade_password_is_taken_while_running_and_a_wrong_one_changes_nothing(
    opend: FakeOpenD, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live account's trade password changed in moomoo: `venue reconnect` unlocks trading
    with the one stored again, without a restart. A password OpenD refuses is one line,
    nothing changed (trading stays unlocked, an order trades); the new one is taken (OpenD
    unlocks with it), the venue back and reconciled. The account is OpenD's login: nothing
    else is read again. A paper account has no password: reconnected without reading one."""
    import hashlib

    from tui_trader.core.errors import UserError

    stored = {"mm": Credentials(passphrase="000000")}
    keyring_reads(monkeypatch, stored)
    engine = await started(opend, live=True)
    venue = engine.venues["mm"]
    try:
        assert venue.takes_keys  # type: ignore[attr-defined]
        refused = r"mm: OpenD refused to unlock trading with the trade password read again .*; nothing changed"
        with pytest.raises(UserError, match=refused + r": mm runs on as it was \(connected\)"):
            await venue_reconnect(engine, "mm")
        first = await engine.place(buy("2"))
        await wait_for(lambda: status(engine, first.client_order_id) is OrderStatus.FILLED)
        opend.pwd_md5 = hashlib.md5(b"246802").hexdigest()
        stored["mm"] = Credentials(passphrase="246802")
        answer = await venue_reconnect(engine, "mm")
        assert answer["state"] == "connected" and venue._credentials.passphrase == "246802", answer  # type: ignore[attr-defined]
        second = await engine.place(buy("3"))
        await wait_for(lambda: status(engine, second.client_order_id) is OrderStatus.FILLED)
        await ledgers_agree(engine, opend, REAL)
    finally:
        await engine.stop()
    assert not make_venue(opend).takes_keys


async def test_stocks_held_from_before_are_in_the_cash_read_and_positions_compared(opend: FakeOpenD) -> None:
    """5 AAPL held at moomoo before tui_trader: the cash read is the cash and the positions at
    moomoo's market value (Trd_GetPositionList), less the value of what the engine holds itself;
    what it holds is compared with ours. Before, the cash alone (the 5 missing from the equity)
    and no comparison: a position sold in moomoo's app went unnoticed."""
    opend.held_before[(SIM, "AAPL")] = Decimal(5)
    price = opend.prices["AAPL"]
    engine = await started(opend)
    try:
        cash = engine.portfolio.venue_cash["mm"]["USD"]
        assert cash == 100_000 + 5 * price
        placed = await engine.place(buy("10"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        assert await engine.reconciler.cash.reread("mm", "a test") == {}
        assert engine.portfolio.position("mm", "AAPL").quantity == 10
        assert await engine.venues["mm"].fetch_positions() == {"AAPL": 15}  # type: ignore[attr-defined]
        assert engine.reconciler.cash.positions.rows("mm") == []
        opend.held_before[(SIM, "AAPL")] = Decimal(-7)  # those 5 and 7 of ours sold in moomoo's app: 3 left
        await engine.reconciler.cash.reread("mm", "a test")
        assert engine.reconciler.cash.positions.rows("mm") == [{"symbol": "AAPL", "ours": "10", "at_venue": "3"}]
    finally:
        await engine.stop()
