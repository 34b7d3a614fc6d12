"""The Robinhood Crypto adapter against the loopback fake Robinhood (signatures verified by the
fake with the public key): market, limit, stop, cancel, fills polled, lost answers, rate
limits, refused signatures, a stale clock, a poll gap with a fill in it, and a restart."""

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
from tui_trader.core.errors import ConfigError
from tui_trader.core.events import ConnectionEvent, Event
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.secrets import Credentials
from tui_trader.venues.resilience import Backoff
from tui_trader.venues.robinhood.venue import RobinhoodVenue

from fakes.polled_broker import keyring_reads, venue_reconnect
from fakes.robinhood_exchange import FakeRobinhood, keypair
from fakes.venue_harness import wait_for


@pytest.fixture
async def rh() -> AsyncIterator[FakeRobinhood]:
    fake = await FakeRobinhood().start()
    yield fake
    await fake.stop()


def make_venue(fake: FakeRobinhood, tmp: Path | None = None, *, secret: str | None = None, **kw: Any) -> RobinhoodVenue:
    vs = VenueSettings(kind="robinhood", symbols=["BTC/USD", "ETH/USD"], url_override=fake.url, poll_interval_s=0.1,
                       stall_after_s=kw.pop("stall_after_s", 1.5), backoff_base_s=0.05, backoff_cap_s=0.2)  # fmt: skip
    return RobinhoodVenue(
        "rh", vs, SystemClock(), credentials=Credentials(fake.api_key, secret or fake.private_b64),
        ids_path=None if tmp is None else tmp / "rh_ids.jsonl", backoff=Backoff(0.05, 0.2, rng=random.Random(1)),
        order_rate=50, rest_timeout_s=kw.pop("timeout", 1.0),
    )  # fmt: skip


async def started(fake: FakeRobinhood, tmp: Path | None = None, events: list[Event] | None = None, **kw: Any) -> Engine:
    engine = Engine(Settings(), None, in_memory=True, venues={"rh": make_venue(fake, tmp, **kw)})
    if events is not None:
        engine.bus.on(events.append, name="test-events")
    await engine.start()
    engine.live_armed = True  # Robinhood has no paper account: the trader armed it
    return engine


def buy(qty: str = "0.01", symbol: str = "BTC/USD", **kw: Any) -> OrderRequest:
    return OrderRequest(symbol, Side.BUY, Decimal(qty), venue="rh", **kw)


def status(engine: Engine, cid: str) -> OrderStatus:
    return engine.oms.orders[cid].status  # type: ignore[union-attr]


async def ledgers_agree(engine: Engine, fake: FakeRobinhood) -> None:
    """Every execution at Robinhood is one of our fills, once; positions match its holdings."""
    assert engine.store is not None and engine.oms is not None
    theirs = {f"{o.id}:{n}" for o in fake.orders.values() for n in range(len(o.executions))}
    await wait_for(lambda: {f.fill_id for f in engine.fills} >= theirs)
    await engine.oms.flush()
    stored = await engine.store.load_fills(limit=10_000)
    assert sorted(f.fill_id for f in stored) == sorted(theirs)
    for base, qty in fake.holdings.items():
        assert engine.portfolio.position("rh", f"{base}/USD").quantity == qty


async def test_market_order_fills_polled_and_ledgers_agree(rh: FakeRobinhood, tmp_path: Path) -> None:
    engine = await started(rh, tmp_path)
    try:
        await engine.venues["rh"].subscribe(["BTC/USD"])
        await wait_for(lambda: engine.ticker("BTC/USD") is not None)
        placed = await engine.place(buy("0.01"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        order = next(iter(rh.orders.values()))
        assert engine.oms.orders[placed.client_order_id].venue_order_id == order.id  # type: ignore[union-attr]
        assert len([f for f in engine.fills if f.client_order_id == placed.client_order_id]) == 2
        assert order.client_order_id in (tmp_path / "rh_ids.jsonl").read_text()  # the UUID bound before sending
        assert rh.posts() == 1 and rh.unauthorized == 0  # every request was signed as Robinhood checks
        await ledgers_agree(engine, rh)
    finally:
        await engine.stop()


async def test_limit_rests_then_fills_a_cancel_ends_another_and_a_stop_triggers(rh: FakeRobinhood) -> None:
    engine = await started(rh)
    try:
        resting = await engine.place(buy("0.02", type=OrderType.LIMIT, price=Decimal("59000")))
        other = await engine.place(buy("0.03", type=OrderType.LIMIT, price=Decimal("58000")))
        stop = await engine.place(buy("0.01", type=OrderType.STOP, stop_price=Decimal("61000")))
        for o in (resting, other, stop):
            await wait_for(lambda o=o: status(engine, o.client_order_id) is OrderStatus.ACCEPTED)
        await engine.cancel(other.client_order_id)
        await wait_for(lambda: status(engine, other.client_order_id) is OrderStatus.CANCELLED)
        rh.set_price("BTC-USD", "58990", "58999")
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED)
        assert engine.oms.orders[resting.client_order_id].average_price == Decimal("59000")  # type: ignore[union-attr]
        assert status(engine, stop.client_order_id) is OrderStatus.ACCEPTED
        rh.set_price("BTC-USD", "61000", "61005")
        await wait_for(lambda: status(engine, stop.client_order_id) is OrderStatus.FILLED)
        assert rh.posts() == 3
        await ledgers_agree(engine, rh)
    finally:
        await engine.stop()


async def test_lost_answer_is_found_by_client_id_and_never_sent_again(rh: FakeRobinhood, tmp_path: Path) -> None:
    engine = await started(rh, tmp_path)
    try:
        rh.lose_next_answer()
        placed = await engine.place(buy("0.01", type=OrderType.LIMIT, price=Decimal("59000")))
        assert placed.status is not OrderStatus.REJECTED, placed.reason
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.ACCEPTED)
        assert engine.venues["rh"].counters["found_by_client_id"] == 1  # type: ignore[attr-defined]
        rh.set_price("BTC-USD", "58990", "58999")
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        assert rh.posts() == 1 and len(rh.orders) == 1
        await ledgers_agree(engine, rh)
    finally:
        await engine.stop()


async def test_an_order_robinhood_never_made_stays_unknown_then_settles_unsent(rh: FakeRobinhood) -> None:
    """503 on the POST: the order may exist; looked for, not there; after the final delay it
    is settled as never sent, and it was sent once."""
    venue = make_venue(rh)
    venue.not_found_final_after_s = 1.0
    engine = Engine(Settings(), None, in_memory=True, venues={"rh": venue})
    await engine.start()
    engine.live_armed = True
    try:
        rh.fail_next(503, method="POST", path="/trading/orders/")
        placed = await engine.place(buy("0.01", type=OrderType.LIMIT, price=Decimal("59000")))
        assert placed.status is OrderStatus.UNKNOWN, placed
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.REJECTED, 20)
        assert rh.posts() == 1 and not rh.orders
    finally:
        await engine.stop()


async def test_rate_limited_order_waits_as_asked_and_is_made_once(rh: FakeRobinhood) -> None:
    engine = await started(rh)
    try:
        rh.fail_next(429, method="POST", path="/trading/orders/", retry_after=0.3)
        placed = await engine.place(buy("0.01"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        assert rh.posts() == 2 and len(rh.orders) == 1  # the 429 made nothing; the second made it
        assert engine.venues["rh"].counters["rate_limited"] == 1  # type: ignore[attr-defined]
    finally:
        await engine.stop()


async def test_a_wrong_private_key_is_refused_at_connect_in_one_line(rh: FakeRobinhood) -> None:
    other, _ = keypair(b"\x09" * 32)
    venue = make_venue(rh, secret=other)
    with pytest.raises(Exception) as info:
        await venue.connect(lambda e: None)
    text = str(info.value)
    assert "refused our signature (HTTP 401" in text and "keys set rh" in text and "\n" not in text
    assert other not in text and rh.unauthorized >= 1
    await venue.close()
    with pytest.raises(ConfigError, match="not base64"):
        await make_venue(rh, secret="not a key!").connect(lambda e: None)


async def test_a_stale_clock_refuses_orders_with_the_reason_and_makes_nothing(rh: FakeRobinhood) -> None:
    engine = await started(rh)
    try:
        rh.skew_clock(120)  # Robinhood's clock is 2 minutes ahead: our timestamps are too old
        placed = await engine.place(buy("0.01"))
        assert placed.status is OrderStatus.REJECTED
        assert "Timestamp is invalid" in (placed.reason or "") and "clock" in (placed.reason or "")
        assert not rh.orders
        rh.skew_clock(0)
        again = await engine.place(buy("0.01"))
        await wait_for(lambda: status(engine, again.client_order_id) is OrderStatus.FILLED)
    finally:
        await engine.stop()


async def test_polling_gap_with_a_fill_in_it_reconnects_and_reconciles(rh: FakeRobinhood) -> None:
    events: list[Event] = []
    engine = await started(rh, events=events, timeout=0.3)
    try:
        placed = await engine.place(buy("0.02", type=OrderType.LIMIT, price=Decimal("59000")))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.ACCEPTED)
        rh.hang(True)  # Robinhood stops answering: polls time out
        await wait_for(lambda: engine.venues["rh"].state is ConnectionState.RECONNECTING)
        order = next(iter(rh.orders.values()))
        rh.fill(order, Decimal("0.02"), Decimal("59000"))  # filled while we cannot see
        rh.hang(False)
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        assert any(isinstance(e, ConnectionEvent) and e.state is ConnectionState.CONNECTED and e.attempt > 0
                   for e in events)  # fmt: skip
        await ledgers_agree(engine, rh)
    finally:
        await engine.stop()


async def test_a_restart_finds_an_order_made_while_we_crashed(rh: FakeRobinhood, tmp_path: Path) -> None:
    """The order reached Robinhood, the answer was lost and the engine stopped before it heard;
    the next start maps Robinhood's order back to ours (the UUID bound on disk) and settles it."""
    from tui_trader.home import Home

    home = Home(tmp_path).ensure()
    engine = Engine(Settings(), home, venues={"rh": make_venue(rh, tmp_path)})
    await engine.start()
    engine.live_armed = True
    rh.lose_next_answer()
    rh.stall_fills()
    for _ in range(20):  # every look for it fails too, until the "crash"
        rh.fail_next(503, method="GET", path="/trading/orders/")
    placed = await engine.place(buy("0.01", type=OrderType.LIMIT, price=Decimal("59000")))
    assert placed.status is OrderStatus.UNKNOWN, placed
    await engine.stop()
    rh.clear_faults()
    assert len(rh.orders) == 1
    rh.stall_fills(False)
    rh.set_price("BTC-USD", "58990", "58999")
    engine = Engine(Settings(), home, venues={"rh": make_venue(rh, tmp_path)})
    await engine.start()
    try:
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        assert rh.posts() == 1
        assert engine.store is not None and engine.oms is not None
        await engine.oms.flush()
        stored = await engine.store.load_fills(limit=100)  # applied by the start's reconciliation
        assert [(f.fill_id, f.client_order_id) for f in stored] == [
            (f"{next(iter(rh.orders))}:0", placed.client_order_id)
        ]
    finally:
        await engine.stop()


async def test_a_stock_symbol_is_refused_at_start_with_the_reason(rh: FakeRobinhood) -> None:
    """Robinhood equities have no public API: a stock in the symbols stops the venue in one line."""
    venue = make_venue(rh)
    venue.settings = venue.settings.model_copy(update={"symbols": ["AAPL"]})
    with pytest.raises(ConfigError) as info:
        await venue.connect(lambda e: None)
    assert "AAPL not a crypto pair Robinhood trades" in str(info.value)
    assert "no API for stocks" in str(info.value)
    await venue.close()


async def test_an_order_working_across_a_restart_is_polled_and_its_fill_arrives(
    rh: FakeRobinhood, tmp_path: Path
) -> None:
    """The next start learns the working orders from Robinhood (its reconciliation) and polls
    them: a fill after the restart arrives without waiting for a reconnect."""
    from tui_trader.home import Home

    home = Home(tmp_path).ensure()
    engine = Engine(Settings(), home, venues={"rh": make_venue(rh, tmp_path)})
    await engine.start()
    engine.live_armed = True
    placed = await engine.place(buy("0.01", type=OrderType.LIMIT, price=Decimal("59000")))
    await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.ACCEPTED)
    await engine.stop()
    engine = Engine(Settings(), home, venues={"rh": make_venue(rh, tmp_path)})
    await engine.start()
    try:
        assert status(engine, placed.client_order_id) is OrderStatus.ACCEPTED
        rh.set_price("BTC-USD", "58990", "58999")
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        assert rh.posts() == 1
    finally:
        await engine.stop()


async def test_a_hung_poll_restarted_by_the_watchdog_reads_back_the_fill_made_meanwhile_once(rh: FakeRobinhood) -> None:
    """Robinhood holds a poll unanswered (no timeout within `stall_after_s`): the watchdog
    restarts the poll loop; the restarted poll asks for the orders changed since the last poll
    that completed (less an overlap), so the fill made during the hang is applied once, the
    order filled, the ledgers agreeing."""
    engine = await started(rh, timeout=5.0, stall_after_s=0.5)
    venue: Any = engine.venues["rh"]
    try:
        placed = await engine.place(buy("0.02", type=OrderType.LIMIT, price=Decimal("59000")))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.ACCEPTED)
        rh.hang(True)
        await wait_for(lambda: venue.counters["restarts"] >= 1)
        rh.fill(next(iter(rh.orders.values())), Decimal("0.02"), Decimal("59000"))  # while no poll is answered
        rh.hang(False)
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        await ledgers_agree(engine, rh)
        assert len(engine.fills) == 1 and venue.counters["duplicate_fills"] == 0
    finally:
        await engine.stop()


async def test_coins_bought_here_count_once_after_a_balances_read(rh: FakeRobinhood) -> None:
    """Robinhood's holdings list the coins, the ones bought here among them; the portfolio keeps
    those in the position. Before, a read after a reconnect put the 0.01 BTC bought here in the
    cash as well: the equity counted it twice (100,600 on an account worth 100,000)."""
    engine = await started(rh)
    try:
        placed = await engine.place(buy("0.01"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        worth = engine.portfolio.equity(engine.clock.now())
        assert await engine.reconciler.cash.reread("rh", "a test") == {}
        assert engine.portfolio.venue_cash["rh"].get("BTC", 0) == 0  # in the position, not again as cash
        assert engine.portfolio.position("rh", "BTC/USD").quantity == Decimal("0.01")
        assert engine.portfolio.equity(engine.clock.now()) == worth
    finally:
        await engine.stop()


async def test_new_keys_are_taken_while_running_checked_first_and_the_fill_meanwhile_read_back_once(
    rh: FakeRobinhood, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new API key and key pair made at Robinhood, the old one deleted, while an order rests:
    the polls are refused and the order fills unseen. `venue reconnect` with the old key still
    stored says Robinhood refuses it, nothing changed; with the new one the poll goes on with
    it at once, the fill read back once, an order trades. New keys needed a restart."""
    from tui_trader.core.errors import UserError

    stored = {"rh": Credentials(rh.api_key, rh.private_b64)}
    keyring_reads(monkeypatch, stored)
    engine = await started(rh)
    venue = engine.venues["rh"]
    try:
        resting = await engine.place(buy("0.02", type=OrderType.LIMIT, price=Decimal("59000")))
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.ACCEPTED)
        rh.api_key = "rh-api-0f0f0f0f-new0-4e00-9000-000000000001"
        rh.private_b64, rh.public_key = keypair()
        await wait_for(lambda: venue.state is ConnectionState.RECONNECTING)
        rh.fill(next(iter(rh.orders.values())), Decimal("0.02"), Decimal("59000"))  # nobody hears of it
        with pytest.raises(UserError, match=r"rh: Robinhood refused our signature .*nothing changed: rh runs on as"):
            await venue_reconnect(engine, "rh")
        stored["rh"] = Credentials(rh.api_key, rh.private_b64)
        answer = await venue_reconnect(engine, "rh")
        assert answer["state"] == "connected", answer
        await wait_for(lambda: status(engine, resting.client_order_id) is OrderStatus.FILLED)
        await engine.venues["rh"].subscribe(["BTC/USD"])
        await wait_for(lambda: engine.ticker("BTC/USD") is not None)
        placed = await engine.place(buy("0.01"))
        await wait_for(lambda: status(engine, placed.client_order_id) is OrderStatus.FILLED)
        await ledgers_agree(engine, rh)
    finally:
        await engine.stop()
