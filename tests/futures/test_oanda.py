"""The OANDA v20 adapter through the engine against a loopback fake of OANDA's API (written from
OANDA's public v20 reference): instruments, prices, orders with their fills, brackets in pips,
daily financing, and the faults (a lost answer, 429, 401, a dropped or silent stream)."""

from __future__ import annotations

import random
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tui_trader.config import Settings
from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import SystemClock
from tui_trader.core.enums import InstrumentKind, OrderStatus, OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.secrets.credentials import Credentials
from tui_trader.venues.oanda.venue import OandaVenue
from tui_trader.venues.resilience import Backoff

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared fakes

from fakes.oanda_exchange import ACCOUNT, TOKEN, FakeOanda
from fakes.venue_harness import wait_for, what_it_says

D = Decimal


@pytest.fixture
async def oanda() -> AsyncIterator[FakeOanda]:
    fake = await FakeOanda(heartbeat_s=0.1).start()
    yield fake
    await fake.stop()


def make_venue(fake: FakeOanda, token: str = TOKEN, stall_after_s: float = 2.0) -> OandaVenue:
    vs = VenueSettings(kind="oanda", symbols=["EUR/USD", "USD/JPY"], url_override=fake.url,
                       backoff_base_s=0.05, backoff_cap_s=0.2)
    return OandaVenue("oanda", vs, SystemClock(), credentials=Credentials(token), rest_timeout_s=1.0,
                      stall_after_s=stall_after_s, backoff=Backoff(0.05, 0.2, rng=random.Random(1)))


async def started(venue: OandaVenue) -> Engine:
    engine = Engine(Settings(), None, in_memory=True, venues={"oanda": venue})
    await engine.start()
    await wait_for(lambda: engine.ticker("EUR/USD", "oanda") is not None)
    return engine


def req(qty: str = "10000", symbol: str = "EUR/USD", **kw: Any) -> OrderRequest:
    return OrderRequest(symbol, kw.pop("side", Side.BUY), D(qty), kw.pop("type", OrderType.MARKET), venue="oanda",
                        **kw)


def status(engine: Engine, cid: str) -> OrderStatus:
    return engine.oms.orders[cid].status  # type: ignore[union-attr]


async def test_instruments_prices_and_a_market_order(oanda: FakeOanda) -> None:
    venue = make_venue(oanda)
    engine = await started(venue)
    try:
        eur = engine.instrument("oanda", "EUR/USD")
        assert eur is not None and eur.kind is InstrumentKind.FX and eur.pip == D("0.0001")
        assert eur.tick_size == D("0.00001") and eur.max_leverage == 30  # marginRate 0.0333
        assert venue.account_id == ACCOUNT  # the token's first account
        order = await engine.place(req())
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.FILLED)
        (fill,) = engine.fills
        assert fill.price == D("1.08010") and fill.quantity == D(10_000)  # at the ask
        assert oanda.posts[0]["clientExtensions"]["id"] == order.client_order_id
        assert oanda.posts[0]["units"] == "10000" and oanda.posts[0]["timeInForce"] == "FOK"
        pos = engine.portfolio.positions[("oanda", "EUR/USD")]
        assert pos.quantity == D(10_000) and pos.margined
        sell = await engine.place(req("5000", side=Side.SELL))
        await wait_for(lambda: status(engine, sell.client_order_id) is OrderStatus.FILLED)
        assert oanda.posts[1]["units"] == "-5000" and oanda.positions["EUR_USD"] == D(5000)
    finally:
        await engine.stop()


async def test_a_limit_order_rests_then_fills_on_the_transactions_stream(oanda: FakeOanda) -> None:
    engine = await started(make_venue(oanda))
    try:
        order = await engine.place(req(type=OrderType.LIMIT, price=D("1.07900")))
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        assert [o.client_order_id for o in await engine.venues["oanda"].fetch_open_orders()] == [order.client_order_id]
        oanda.set_price("EUR_USD", "1.07880", "1.07890")
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.FILLED)
        assert engine.fills[-1].price == D("1.07900")
        cancel_me = await engine.place(req(type=OrderType.LIMIT, price=D("1.07000")))
        await wait_for(lambda: status(engine, cancel_me.client_order_id) is OrderStatus.ACCEPTED)
        await engine.cancel(cancel_me.client_order_id)
        await wait_for(lambda: status(engine, cancel_me.client_order_id) is OrderStatus.CANCELLED)
    finally:
        await engine.stop()


async def test_a_lost_answer_is_found_by_client_id_and_never_sent_twice(oanda: FakeOanda) -> None:
    venue = make_venue(oanda)
    engine = await started(venue)
    try:
        oanda.fail_next("lost")
        order = await engine.place(req())
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.FILLED)
        assert venue.counters["found_by_client_id"] == 1
        assert len(oanda.posts) == 1  # sent once
        assert len(engine.fills) == 1  # the fill arrived on the stream, booked once
    finally:
        await engine.stop()


async def test_a_500_on_an_order_is_unknown_then_settled_not_resent(oanda: FakeOanda) -> None:
    engine = await started(make_venue(oanda))
    try:
        oanda.fail_next("500")  # OANDA made nothing; we cannot know that
        order = await engine.place(req())
        assert order.status is OrderStatus.UNKNOWN  # looked up by client id: not there (yet)
        assert oanda.posts == []  # never sent again on its own
    finally:
        await engine.stop()


async def test_a_429_waits_and_sends_once(oanda: FakeOanda) -> None:
    venue = make_venue(oanda)
    engine = await started(venue)
    try:
        oanda.fail_next("429")
        order = await engine.place(req())
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.FILLED)
        assert venue.counters["rate_limited"] == 1 and len(oanda.posts) == 1
    finally:
        await engine.stop()


async def test_a_wrong_token_is_one_line_without_the_token(oanda: FakeOanda) -> None:
    venue = make_venue(oanda, token="wrong-token-abcdef0123456789")
    engine = Engine(Settings(), None, in_memory=True, venues={"oanda": venue})
    with pytest.raises(Exception) as err:
        await engine.start()
    text = str(err.value)
    assert "authentication failed" in text and "keys set oanda" in text and "wrong-token" not in text
    await engine.stop()


async def test_fills_while_the_stream_is_down_are_read_back_once(oanda: FakeOanda) -> None:
    venue = make_venue(oanda)
    engine = await started(venue)
    try:
        order = await engine.place(req(type=OrderType.LIMIT, price=D("1.07900")))
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        oanda.silence(True)  # the streams go quiet, heartbeats too
        oanda.set_price("EUR_USD", "1.07880", "1.07890")  # filled at OANDA while we hear nothing
        await wait_for(lambda: venue.counters["reconnects"] >= 1)  # the watchdog reopened them
        oanda.silence(False)
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.FILLED)
        oanda.drop_streams()  # and a plain cut: the backfill reads the same fill again
        await wait_for(lambda: venue.counters["reconnects"] >= 2)
        await wait_for(lambda: venue.counters["duplicates"] >= 1)
        assert len(engine.fills) == 1
    finally:
        await engine.stop()


async def test_daily_financing_is_booked_once(oanda: FakeOanda) -> None:
    venue = make_venue(oanda)
    engine = await started(venue)
    try:
        order = await engine.place(req())
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.FILLED)
        cash = engine.portfolio.cash["USD"]
        tx = oanda.rollover()
        await wait_for(lambda: engine.portfolio.positions[("oanda", "EUR/USD")].funding != 0)
        amount = D(tx["positionFinancings"][0]["financing"])
        assert engine.portfolio.positions[("oanda", "EUR/USD")].funding == amount
        assert engine.portfolio.cash["USD"] == cash + amount
        flows = await venue.fetch_cash_flows(None)  # the history says the same, with the same id
        assert [f.flow_id for f in flows] == [f"{tx['id']}-EUR_USD"]
        for flow in flows:
            engine.derivatives.on_cash_flow(flow)  # imported again (a restart): not booked twice
        assert engine.portfolio.cash["USD"] == cash + amount
    finally:
        await engine.stop()


async def test_a_bracket_in_pips_on_oanda(oanda: FakeOanda) -> None:
    engine = await started(make_venue(oanda))
    try:
        order = await engine.place(req(stop_loss_offset=D("0.0020"), take_profit_offset=D("0.0040")))
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.FILLED)
        await wait_for(lambda: len([o for o in engine.recent_orders.values()
                                    if o.parent_id == order.client_order_id]) == 2)
        legs = [o for o in engine.recent_orders.values() if o.parent_id == order.client_order_id]
        stop = next(o for o in legs if o.type is OrderType.STOP)
        take = next(o for o in legs if o.type is OrderType.LIMIT)
        assert stop.stop_price == D("1.07810") and take.price == D("1.08410")  # from the ask 1.08010
    finally:
        await engine.stop()


async def test_a_silent_transactions_stream_while_prices_flow_is_reopened_and_its_fill_applied_once(
    oanda: FakeOanda,
) -> None:
    """The transactions stream hangs (its socket open, not even a heartbeat) while prices flow on:
    it is reopened on its own silence, the fill OANDA made meanwhile is read back once, the venue
    is back "reconnected" and reconciled (it was never noticed: the prices kept the venue alive)."""
    venue = make_venue(oanda, stall_after_s=1.0)
    engine = await started(venue)
    at_start = engine.reconciler.last.get("oanda")  # the start's (its balances read)
    try:
        order = await engine.place(req(type=OrderType.LIMIT, price=D("1.07900")))
        cid = order.client_order_id
        await wait_for(lambda: status(engine, cid) is OrderStatus.ACCEPTED)
        oanda.hang("transactions")
        oanda.set_price("EUR_USD", "1.07880", "1.07890")  # filled at OANDA while its stream says nothing
        await wait_for(lambda: status(engine, cid) is OrderStatus.FILLED)
        await wait_for(lambda: engine.reconciler.last.get("oanda") is not at_start)  # the engine reconciled
        assert venue.monitor.reconnects == 1 and venue.state.value == "connected"
        assert len(engine.fills) == 1 and engine.fills[0].fill_id == f"oanda-{oanda.transactions[-1]['id']}"
        assert engine.oms.orders[cid].filled_quantity == D(10_000)  # type: ignore[union-attr]
        assert engine.portfolio.positions[("oanda", "EUR/USD")].quantity == oanda.positions["EUR_USD"] == D(10_000)
    finally:
        await engine.stop()


async def test_a_swap_booked_while_the_transactions_stream_hung_is_not_skipped_by_a_later_order(
    oanda: FakeOanda,
) -> None:
    """A market order's answer carries newer transaction ids than the ones the hung stream missed:
    the read-back starts from the last transaction seen without a gap, not from the newest id."""
    venue = make_venue(oanda, stall_after_s=1.0)
    engine = await started(venue)
    try:
        first = await engine.place(req())
        await wait_for(lambda: status(engine, first.client_order_id) is OrderStatus.FILLED)
        await wait_for(lambda: oanda.sinceid_reads == 1)  # the stream's first read-back is behind us
        cash = engine.portfolio.cash["USD"]
        oanda.hang("transactions")
        tx = oanda.rollover()  # booked at OANDA, unheard
        second = await engine.place(req())  # its answer: ids after the swap's
        await wait_for(lambda: status(engine, second.client_order_id) is OrderStatus.FILLED)
        amount = D(tx["positionFinancings"][0]["financing"])
        await wait_for(lambda: engine.portfolio.positions[("oanda", "EUR/USD")].funding == amount)
        assert engine.portfolio.cash["USD"] == cash + amount
        assert len(engine.fills) == 2 and oanda.positions["EUR_USD"] == D(20_000)
        assert engine.portfolio.positions[("oanda", "EUR/USD")].quantity == D(20_000)
    finally:
        await engine.stop()


async def test_a_transaction_the_live_stream_never_delivered_is_read_back_from_its_heartbeat(oanda: FakeOanda) -> None:
    """The fill is lost on its way while the stream heartbeats on: the heartbeat names it as the
    account's last transaction, so it is read back (`sinceid`) and applied once, no reopen."""
    venue = make_venue(oanda)
    engine = await started(venue)
    try:
        order = await engine.place(req(type=OrderType.LIMIT, price=D("1.07900")))
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.ACCEPTED)
        oanda.lose_next_transaction()
        oanda.set_price("EUR_USD", "1.07880", "1.07890")
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.FILLED)
        assert len(engine.fills) == 1 and venue.monitor.reconnects == 0 and venue.counters["reconnects"] == 0
        assert engine.portfolio.positions[("oanda", "EUR/USD")].quantity == oanda.positions["EUR_USD"] == D(10_000)
    finally:
        await engine.stop()


async def test_a_silent_pricing_stream_while_transactions_flow_is_reopened_alone(oanda: FakeOanda) -> None:
    """The pricing stream hangs (its socket open, not even a heartbeat) while the transactions
    stream flows: the pricing stream alone is reopened after `stall_after_s`, the venue
    `degraded` naming it meanwhile (the transactions' heartbeats do not count as prices), then
    `connected` once prices flow again; the transactions stream is left open (nothing read back,
    nothing to reconcile) and a fill made meanwhile comes over it at once."""
    venue = make_venue(oanda, stall_after_s=1.0)
    engine = await started(venue)
    at_start = engine.reconciler.last.get("oanda")  # the start's (its balances read)
    said = what_it_says(venue)
    try:
        await wait_for(lambda: oanda.sinceid_reads == 1)  # the transactions stream's first read-back
        # both symbols priced: the pricing stream is the one opened for both (each symbol
        # subscribed reopens it), the one hung below
        await wait_for(lambda: engine.ticker("USD/JPY", "oanda") is not None)
        oanda.hang("pricing")
        await wait_for(lambda: len(said) == 2)  # reopened at once, back with its first prices
        (state, detail, _), _ = said
        assert state == "degraded" and detail.startswith("pricing stream silent for "), said
        assert detail.endswith("s (no heartbeat); reopening it"), said
        order = await engine.place(req())  # over the transactions stream, still open
        await wait_for(lambda: status(engine, order.client_order_id) is OrderStatus.FILLED)
        oanda.set_price("EUR_USD", "1.07500", "1.07510")  # on the reopened pricing stream
        await wait_for(lambda: (t := engine.ticker("EUR/USD", "oanda")) is not None and t.bid == 1.075)
        assert said[-1][:2] == ("connected", "streaming") and venue.monitor.reconnects == 0, said
        # the transactions stream never reopened: nothing read back, no reconcile since the start's
        assert oanda.sinceid_reads == 1 and engine.reconciler.last.get("oanda") is at_start
        assert len(engine.fills) == 1 and oanda.positions["EUR_USD"] == D(10_000)
    finally:
        await engine.stop()
