"""The Webull adapter against the loopback fake Webull OpenAPI (every request's HMAC signature
checked by the fake): market, limit, stop, cancel, fills polled (partial fills from Webull's
cumulative quantities), lost answers, rate limits, refused signatures, a stale clock, a
polling gap with a fill in it, a restart with a partly filled order, and market hours."""

from __future__ import annotations

import random
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui_trader.config import Settings
from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import SystemClock
from tui_trader.core.enums import ConnectionState, OrderStatus, OrderType, Side
from tui_trader.core.events import ConnectionEvent, Event
from tui_trader.core.hours import Phase
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.home import Home
from tui_trader.secrets import Credentials
from tui_trader.venues.resilience import Backoff
from tui_trader.venues.webull.venue import WebullVenue

from fakes.polled_broker import FixedHours, keyring_reads, venue_reconnect
from fakes.venue_harness import wait_for
from fakes.webull_exchange import FakeWebull


@pytest.fixture
async def wb() -> AsyncIterator[FakeWebull]:
    fake = await FakeWebull().start()
    yield fake
    await fake.stop()


def make_venue(fake: FakeWebull, tmp: Path | None = None, *, secret: str | None = None,
               hours: FixedHours | None = None, **kw: Any) -> WebullVenue:  # fmt: skip
    vs = VenueSettings(kind="webull", symbols=["AAPL", "MSFT"], url_override=fake.url, poll_interval_s=0.1,
                       stall_after_s=1.5, backoff_base_s=0.05, backoff_cap_s=0.2, **kw.pop("settings", {}))  # fmt: skip
    venue = WebullVenue(
        "wb", vs, SystemClock(), credentials=Credentials(fake.app_key, secret or fake.app_secret),
        ids_path=None if tmp is None else tmp / "wb_ids.jsonl", backoff=Backoff(0.05, 0.2, rng=random.Random(1)),
        order_rate=50, rest_timeout_s=kw.pop("timeout", 1.0), hours=hours or FixedHours(),
    )  # fmt: skip
    venue.min_poll_s = 0.0  # the fake keeps no rate limit; Webull's real one is honoured at 3.5 s
    return venue


async def started(fake: FakeWebull, tmp: Path | None = None, events: list[Event] | None = None, **kw: Any) -> Engine:
    engine = Engine(Settings(), None, in_memory=True, venues={"wb": make_venue(fake, tmp, **kw)})
    if events is not None:
        engine.bus.on(events.append, name="test-events")
    await engine.start()
    await engine.venues["wb"].subscribe(["AAPL", "MSFT"])
    await wait_for(lambda: engine.ticker("AAPL") is not None)  # market orders need a quote
    return engine


def buy(qty: str = "10", symbol: str = "AAPL", **kw: Any) -> OrderRequest:
    return OrderRequest(symbol, Side.BUY, Decimal(qty), venue="wb", **kw)


def status(engine: Engine, cid: str) -> OrderStatus:
    return engine.oms.orders[cid].status  # type: ignore[union-attr]


async def ledgers_agree(engine: Engine, fake: FakeWebull) -> None:
    """Each order's filled quantity and average price here are Webull's; positions match."""
    assert engine.oms is not None and engine.store is not None
    await wait_for(lambda: all(
        (o := engine.oms.orders.get(cid)) is not None and o.filled_quantity == f.filled  # type: ignore[union-attr]
        for cid, f in fake.orders.items()), 10)  # fmt: skip
    await engine.oms.flush()
    for cid, f in fake.orders.items():
        mine = engine.oms.orders[cid]
        if f.filled:
            assert mine.average_price == (f.notional / f.filled), (cid, mine.average_price)
    stored = await engine.store.load_fills(limit=10_000)
    assert len({f.fill_id for f in stored}) == len(stored)
    for symbol, qty in fake.holdings.items():
        assert engine.portfolio.position("wb", symbol).quantity == qty


async def test_market_order_fills_and_ledgers_agree_every_request_signed(wb: FakeWebull) -> None:
    engine = await started(wb)
    try:
        placed = await engine.place(buy("10"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        theirs = wb.orders[placed.client_order_id]
        assert engine.oms.orders[placed.client_order_id].venue_order_id == theirs.order_id  # type: ignore[union-attr]
        assert wb.posts() == 1 and wb.unauthorized == []
        await ledgers_agree(engine, wb)
        balances = await engine.venues["wb"].fetch_balances()
        value = 10 * wb.prices["AAPL"]  # the holding at Webull's market value, in the account's value
        assert balances["USD"].total == wb.cash + value and balances["USD"].valued == (("AAPL", 10, value),)
        assert await engine.venues["wb"].fetch_positions() == {"AAPL": Decimal(10)}  # type: ignore[attr-defined]
    finally:
        await engine.stop()


async def test_partial_fills_from_cumulative_quantities_limit_cancel_and_stop(wb: FakeWebull) -> None:
    engine = await started(wb)
    try:
        resting = await engine.place(buy("30", type=OrderType.LIMIT, price=Decimal("185")))
        other = await engine.place(buy("5", type=OrderType.LIMIT, price=Decimal("180")))
        stop = await engine.place(buy("3", "MSFT", type=OrderType.STOP, stop_price=Decimal("420")))
        for o in (resting, other, stop):
            await wait_for(lambda o=o: status(engine, o.client_order_id) is OrderStatus.ACCEPTED)
        order = wb.orders[resting.client_order_id]
        wb.fill(order, Decimal(10), Decimal("185"))
        await wait_for(lambda: engine.oms.orders[resting.client_order_id].filled_quantity == 10)  # type: ignore[union-attr]
        wb.fill(order, Decimal(20), Decimal("184"))
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED)
        fills = sorted(
            (f.fill_id, f.quantity, f.price) for f in engine.fills if f.client_order_id == resting.client_order_id
        )
        assert fills == [(f"{order.order_id}:10", 10, 185), (f"{order.order_id}:30", 20, 184)]
        await engine.cancel(other.client_order_id)
        await wait_for(lambda: status(engine, other.client_order_id) is OrderStatus.CANCELLED)
        assert wb.orders[other.client_order_id].status == "CANCELLED"
        wb.set_price("MSFT", "421")
        await wait_for(lambda: status(engine, stop.client_order_id) is OrderStatus.FILLED)
        assert wb.posts() == 3
        await ledgers_agree(engine, wb)
    finally:
        await engine.stop()


async def test_lost_answer_is_found_by_client_id_and_never_sent_again(wb: FakeWebull) -> None:
    engine = await started(wb)
    try:
        wb.lose_next_answer()
        placed = await engine.place(buy("10", type=OrderType.LIMIT, price=Decimal("185")))
        assert placed.status is not OrderStatus.REJECTED, placed.reason
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.ACCEPTED)
        assert engine.venues["wb"].counters["found_by_client_id"] == 1  # type: ignore[attr-defined]
        wb.set_price("AAPL", "184")
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        assert wb.posts() == 1 and len(wb.orders) == 1
        await ledgers_agree(engine, wb)
    finally:
        await engine.stop()


async def test_an_order_webull_never_made_settles_as_never_sent(wb: FakeWebull) -> None:
    venue = make_venue(wb)
    venue.not_found_final_after_s = 1.0
    engine = Engine(Settings(), None, in_memory=True, venues={"wb": venue})
    await engine.start()
    try:
        wb.fail_next(503, path="/trade/order/place")
        placed = await engine.place(buy("10", type=OrderType.LIMIT, price=Decimal("185")))
        assert placed.status is OrderStatus.UNKNOWN, placed
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.REJECTED, 20)
        assert wb.posts() == 1 and not wb.orders
    finally:
        await engine.stop()


async def test_rate_limited_order_waits_as_asked_and_is_made_once(wb: FakeWebull) -> None:
    engine = await started(wb)
    try:
        wb.fail_next(429, path="/trade/order/place", retry_after=0.3)
        placed = await engine.place(buy("10"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        assert wb.posts() == 2 and len(wb.orders) == 1
    finally:
        await engine.stop()


async def test_a_wrong_app_secret_is_refused_at_connect_in_one_line(wb: FakeWebull) -> None:
    venue = make_venue(wb, secret="not-the-secret-0000")
    with pytest.raises(Exception) as info:
        await venue.connect(lambda e: None)
    text = str(info.value)
    assert "refused our signature (HTTP 401" in text and "INVALID_SIGNATURE" in text and "keys set wb" in text
    assert "not-the-secret" not in text and "\n" not in text
    await venue.close()


async def test_a_stale_clock_refuses_orders_and_makes_nothing(wb: FakeWebull) -> None:
    engine = await started(wb)
    try:
        wb.skew_clock(300)
        placed = await engine.place(buy("10"))
        assert placed.status is OrderStatus.REJECTED and "INVALID_TIMESTAMP" in (placed.reason or "")
        assert "clock" in (placed.reason or "") and not wb.orders
        wb.skew_clock(0)
        again = await engine.place(buy("10"))
        await wait_for(lambda: status(engine, again.client_order_id) is OrderStatus.FILLED)
    finally:
        await engine.stop()


async def test_polling_gap_with_a_partial_fill_in_it_reconnects_and_reconciles(wb: FakeWebull) -> None:
    events: list[Event] = []
    engine = await started(wb, events=events, timeout=0.3)
    try:
        placed = await engine.place(buy("20", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.ACCEPTED)
        wb.hang(True)
        await wait_for(lambda: engine.venues["wb"].state is ConnectionState.RECONNECTING)
        wb.fill(wb.orders[placed.client_order_id], Decimal(5), Decimal("185"))
        wb.hang(False)
        await wait_for(lambda: engine.oms.orders[placed.client_order_id].filled_quantity == 5)  # type: ignore[union-attr]
        assert any(isinstance(e, ConnectionEvent) and e.state is ConnectionState.CONNECTED and e.attempt > 0
                   for e in events)  # fmt: skip
        wb.fill(wb.orders[placed.client_order_id], Decimal(15), Decimal("184"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        await ledgers_agree(engine, wb)
    finally:
        await engine.stop()


async def test_a_restart_counts_on_from_the_fills_already_recorded(wb: FakeWebull, tmp_path: Path) -> None:
    """Webull shows only cumulative quantities: 10 of 30 filled before the stop, 30 while we
    were down; the next start records one fill of 20 (at the price that makes Webull's
    average), not 30."""
    home = Home(tmp_path).ensure()
    engine = Engine(Settings(), home, venues={"wb": make_venue(wb, tmp_path)})
    await engine.start()
    placed = await engine.place(buy("30", type=OrderType.LIMIT, price=Decimal("185")))
    cid = placed.client_order_id
    await wait_for(lambda: status(engine, cid) is OrderStatus.ACCEPTED)
    wb.fill(wb.orders[cid], Decimal(10), Decimal("185"))
    await wait_for(lambda: engine.oms.orders[cid].filled_quantity == 10)  # type: ignore[union-attr]
    await engine.stop()
    wb.fill(wb.orders[cid], Decimal(20), Decimal("183.5"))
    engine = Engine(Settings(), home, venues={"wb": make_venue(wb, tmp_path)})
    await engine.start()
    try:
        await wait_for(lambda: status(engine, cid) is OrderStatus.FILLED)
        assert engine.store is not None and engine.oms is not None
        await engine.oms.flush()
        stored = sorted((f.fill_id, f.quantity, f.price) for f in await engine.store.load_fills(limit=100))
        vid = wb.orders[cid].order_id
        assert stored == [(f"{vid}:10", 10, 185), (f"{vid}:30", 20, Decimal("183.5"))]
        assert engine.oms.orders[cid].filled_quantity == 30 and wb.posts() == 1
    finally:
        await engine.stop()


async def test_market_hours_closed_refuses_without_sending_extended_takes_limits(wb: FakeWebull) -> None:
    hours = FixedHours(Phase.CLOSED)
    engine = await started(wb, hours=hours, settings={"extended_hours": True})
    try:
        refused = await engine.place(buy("10", type=OrderType.LIMIT, price=Decimal("191")))
        assert refused.status is OrderStatus.REJECTED and "closed" in (refused.reason or "") and not wb.orders
        hours.phase = Phase.POST
        market = await engine.place(buy("10"))
        assert market.status is OrderStatus.REJECTED and "limit orders only" in (market.reason or "")
        limit = await engine.place(buy("10", type=OrderType.LIMIT, price=Decimal("191")))  # marketable
        await wait_for(lambda: status(engine, limit.client_order_id) is OrderStatus.FILLED)
        assert wb.orders[limit.client_order_id].extended and wb.posts() == 1
    finally:
        await engine.stop()


async def test_without_a_market_data_subscription_limit_orders_still_go(wb: FakeWebull) -> None:
    """Webull's snapshot needs a market-data subscription: refused (403), the quotes are marked
    down with one notice, orders still poll and limit orders fill; market orders wait for a quote."""
    from tui_trader.core.events import NoticeEvent

    wb.no_market_data = True
    events: list[Event] = []
    engine = Engine(Settings(), None, in_memory=True, venues={"wb": make_venue(wb)})
    engine.bus.on(events.append, name="test-events")
    await engine.start()
    try:
        await engine.venues["wb"].subscribe(["AAPL"])
        await wait_for(lambda: any(isinstance(e, NoticeEvent) and "no quotes from Webull" in e.message
                                   for e in events), 5)  # fmt: skip
        refused = await engine.place(buy("10"))
        assert refused.status is OrderStatus.REJECTED and "no market price" in (refused.reason or "")
        limit = await engine.place(buy("10", type=OrderType.LIMIT, price=Decimal("191")))
        await wait_for(lambda: status(engine, limit.client_order_id) is OrderStatus.FILLED)
        assert engine.venues["wb"].state is ConnectionState.CONNECTED
        assert sum(isinstance(e, NoticeEvent) and "no quotes" in e.message for e in events) == 1
    finally:
        await engine.stop()


async def test_a_hung_poll_restarted_by_the_watchdog_reads_back_the_partial_fill_made_meanwhile_once(
    wb: FakeWebull,
) -> None:
    """Webull holds a poll unanswered past `stall_after_s` (no timeout yet): the watchdog restarts
    the poll loop, which asks for the orders changed since the last poll that completed; the
    partial fill made during the hang is one fill of its increase, once, then the rest."""
    engine = await started(wb, timeout=5.0)
    venue: Any = engine.venues["wb"]
    try:
        placed = await engine.place(buy("20", type=OrderType.LIMIT, price=Decimal("185")))
        cid = placed.client_order_id
        await wait_for(lambda: status(engine, cid) is OrderStatus.ACCEPTED)
        wb.hang(True)
        await wait_for(lambda: venue.counters["restarts"] >= 1)
        wb.fill(wb.orders[cid], Decimal(5), Decimal("185"))  # while no poll is answered
        wb.hang(False)
        await wait_for(lambda: engine.oms.orders[cid].filled_quantity == 5)  # type: ignore[union-attr]
        wb.fill(wb.orders[cid], Decimal(15), Decimal("184"))
        await wait_for(lambda: status(engine, cid) is OrderStatus.FILLED)
        await ledgers_agree(engine, wb)
        assert len(engine.fills) == 2
    finally:
        await engine.stop()


async def test_stocks_held_from_before_are_in_the_cash_read_and_ours_once(wb: FakeWebull) -> None:
    """5 AAPL held at Webull before tui_trader: the cash read is the cash and the holdings at
    Webull's market value, less the value of what the engine holds itself. Before, the cash
    alone: the 5 were not in the equity."""
    price = wb.prices["AAPL"]
    wb.holdings["AAPL"] = Decimal(5)
    engine = await started(wb)
    try:
        assert engine.portfolio.venue_cash["wb"]["USD"] == wb.cash + 5 * price
        placed = await engine.place(buy("10"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        before = len(wb.requests)
        assert await engine.reconciler.cash.reread("wb", "a test") == {}
        assert engine.portfolio.venue_cash["wb"]["USD"] == wb.cash + 5 * price
        assert engine.portfolio.position("wb", "AAPL").quantity == 10
        # the holdings are read once for the balances' value and the positions compared (Webull
        # allows 10 reads in 30 s): they were read twice
        assert wb.requests[before:].count(("GET", "/account/positions")) == 1, wb.requests[before:]
        assert engine.reconciler.cash.positions.rows("wb") == []
    finally:
        await engine.stop()


async def test_holdings_are_read_page_after_page(wb: FakeWebull) -> None:
    """Webull lists the holdings in pages (`has_next`, the next after `last_instrument_id`):
    every page is read, for the cash read's value and the positions compared with ours. Before,
    the first page alone (100 holdings): the rest were missing from the equity, and a holding
    past it looked sold."""
    wb.page_size_cap = 1
    wb.holdings.update({"AAPL": Decimal(5), "MSFT": Decimal(3)})
    engine = await started(wb)
    try:
        venue = engine.venues["wb"]
        assert await venue.fetch_positions() == {"AAPL": 5, "MSFT": 3}  # type: ignore[attr-defined]
        value = 5 * wb.prices["AAPL"] + 3 * wb.prices["MSFT"]
        assert engine.portfolio.venue_cash["wb"]["USD"] == wb.cash + value
    finally:
        await engine.stop()


async def test_new_keys_are_taken_while_running_checked_first_and_the_fill_meanwhile_read_back_once(
    wb: FakeWebull, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's keys replaced at Webull while an order rests: the polls are refused (the venue
    says to `keys set`, then `venue reconnect`) and the order fills unseen. `venue reconnect`
    with the old keys still stored says Webull refuses them, nothing changed; with the new ones
    the poll goes on with them at once (not after its backoff), the fill read back once, an
    order trades. New keys needed a restart of the daemon."""
    from tui_trader.core.errors import UserError

    stored = {"wb": Credentials(wb.app_key, wb.app_secret)}
    keyring_reads(monkeypatch, stored)
    engine = await started(wb)
    venue = engine.venues["wb"]
    try:
        resting = await engine.place(buy("20", type=OrderType.LIMIT, price=Decimal("185")))
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.ACCEPTED)
        wb.app_key, wb.app_secret = "wb-app-key-new1", "wb-app-secret-new-77b1"
        await wait_for(lambda: venue.state is ConnectionState.RECONNECTING)
        wb.fill(wb.orders[resting.client_order_id], Decimal(20), Decimal("185"))  # nobody hears of it
        assert "then `tui-trader venue reconnect wb`" in venue.streams.summary()
        with pytest.raises(UserError, match=r"wb: Webull refused our signature .*nothing changed: wb runs on as it"):
            await venue_reconnect(engine, "wb")
        assert venue._credentials.api_key == "wb-app-key-7c1d"  # type: ignore[attr-defined]
        assert status(engine, resting.client_order_id) is OrderStatus.ACCEPTED
        stored["wb"] = Credentials(wb.app_key, wb.app_secret)
        answer = await venue_reconnect(engine, "wb")
        assert answer["state"] == "connected", answer
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED)
        placed = await engine.place(buy("5"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        await ledgers_agree(engine, wb)
    finally:
        await engine.stop()


async def test_new_keys_for_another_account_are_refused_changing_nothing(
    wb: FakeWebull, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys Webull takes but for another account than the one traded here: one line, the old
    keys poll on."""
    from tui_trader.core.errors import UserError

    keyring_reads(monkeypatch, {"wb": Credentials(wb.app_key, wb.app_secret)})
    engine = await started(wb)
    venue = engine.venues["wb"]
    try:
        wb.account_id, wb.account_number = "OTHERACCOUNT0001", "9XX00001"  # what the keys now see
        with pytest.raises(UserError, match=r"wb: these keys are not for the Webull account this venue trades "
                                            r"\(theirs: 9XX00001\); nothing changed"):  # fmt: skip
            await venue_reconnect(engine, "wb")
        assert venue.state is ConnectionState.CONNECTED
    finally:
        await engine.stop()
