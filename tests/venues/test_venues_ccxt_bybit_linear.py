"""The ccxt adapter on Bybit linear perpetuals (ccxt.pro's `bybit`, category=linear, a unified
account) against a loopback fake of Bybit's v5 API written from Bybit's public reference
(tests/fakes/bybit_linear.py): risk limits, leverage and margin mode, the venue's own position
figures, funding into the ledger (its sign), reduce-only, liquidation / ADL on the private
stream and by the reconcile, and the spot fault rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from tui_trader.core.enums import InstrumentKind, MarginMode, OrderStatus, OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.engine import Engine
from tui_trader.home import Home
from tui_trader.secrets import Credentials
from tui_trader.venues.ccxt.venue import CcxtVenue

from fakes.bybit_linear import FakeBybitLinear
from fakes.venue_harness import (
    API_KEY,
    SECRET,
    ccxt_settings,
    ccxt_venue,
    engine_settings,
    position_opened,
    risk_events,
    wait_for,
    wait_status,
)

BTC = "BTC/USDT:USDT"
VENUE = "bybit"


@pytest.fixture
async def linear() -> AsyncIterator[FakeBybitLinear]:
    fake = await FakeBybitLinear(api_key=API_KEY, secret=SECRET).start(tick_interval_s=0.02)
    yield fake
    await fake.stop()


def linear_venue(fake: FakeBybitLinear, **extra: Any) -> CcxtVenue:
    options = {**fake.ccxt_options(), "rateLimit": 1, "options": {"defaultType": "swap", "defaultSubType": "linear"}}
    settings = ccxt_settings(VENUE, options, [BTC], poll_interval_s=extra.pop("poll_interval_s", 0.2), **extra)
    return ccxt_venue(settings, Credentials(API_KEY, SECRET))


async def started(fake: FakeBybitLinear, home: Home | None = None, **venue: Any) -> Engine:
    engine = Engine(engine_settings(), home, in_memory=home is None, venues={VENUE: linear_venue(fake, **venue)})
    await engine.start()
    return engine


def perp(side: Side, qty: str = "1", **kw: Any) -> OrderRequest:
    return OrderRequest(BTC, side, Decimal(qty), venue=VENUE, **kw)


async def opened(engine: Engine, qty: str = "1", side: Side = Side.BUY) -> None:
    await position_opened(engine, perp(side, qty))


async def test_linear_perpetuals_load_with_bybits_risk_limits(linear: FakeBybitLinear) -> None:
    engine = await started(linear)
    try:
        inst = engine.instrument(VENUE, BTC)
        assert inst is not None and inst.kind is InstrumentKind.LINEAR_PERP and inst.settle_currency == "USDT"
        assert inst.tick_size == Decimal("0.1") and inst.lot_size == Decimal("0.001")
        assert inst.max_leverage == 100 and inst.tiers[0].maintenance_rate == Decimal("0.005")
    finally:
        await engine.stop()


async def test_leverage_and_margin_mode_are_set_at_bybit_first(linear: FakeBybitLinear) -> None:
    engine = await started(linear)
    try:
        await engine.derivatives.set_leverage(VENUE, BTC, Decimal(5), MarginMode.ISOLATED)
        assert linear.positions[BTC].leverage == 5 and linear.margin_mode == "ISOLATED_MARGIN"
        assert linear.leverage_requests[-1]["buyLeverage"] == linear.leverage_requests[-1]["sellLeverage"] == "5"
        # the leverage it has: Bybit answers 110043 "Set leverage not modified", no refusal
        await engine.derivatives.set_leverage(VENUE, BTC, Decimal(5), MarginMode.CROSS)
        assert linear.margin_mode == "REGULAR_MARGIN" and linear.positions[BTC].leverage == 5
        linear.refuse_leverage = "leverage invalid"
        with pytest.raises(UserError, match=r"refused leverage 9x.*nothing changed"):
            await engine.derivatives.set_leverage(VENUE, BTC, Decimal(9))
        assert engine.derivatives.setting(VENUE, BTC).leverage == 5 and linear.positions[BTC].leverage == 5
    finally:
        await engine.stop()


async def test_a_position_shows_bybits_mark_liquidation_price_and_margin(linear: FakeBybitLinear) -> None:
    engine = await started(linear)
    try:
        await engine.derivatives.set_leverage(VENUE, BTC, Decimal(10), MarginMode.ISOLATED)
        linear.mark_premium[BTC] = Decimal("0.40")
        await opened(engine, "2")
        venue = engine.venues[VENUE]
        assert isinstance(venue, CcxtVenue)
        theirs = (await venue.fetch_venue_positions())[BTC]
        assert theirs.quantity == 2 and theirs.liquidation_price == linear.liquidation_price(BTC)
        assert theirs.maintenance_margin > 0 and theirs.initial_margin > 0
        await wait_for(lambda: (t := engine.ticker(BTC, VENUE)) is not None and t.mark_price > 0)
        ticker = engine.ticker(BTC, VENUE)
        assert ticker is not None and ticker.funding_rate == pytest.approx(0.0001)
        await wait_for(lambda: "at_venue" in engine.derivatives.rows()[0])
        row = engine.derivatives.rows()[0]
        ours, at_bybit = Decimal(str(row["liquidation_price"])), Decimal(row["at_venue"]["liquidation_price"])
        assert abs(ours - at_bybit) / at_bybit < Decimal("0.01")  # Bybit's formula and ours agree
    finally:
        await engine.stop()


async def test_funding_is_booked_once_with_bybits_sign(linear: FakeBybitLinear) -> None:
    """Bybit's Funding execution says what the account paid (execFee > 0): a long at a positive
    rate pays, so the ledger books a negative payment; a negative rate is a receipt."""
    engine = await started(linear, poll_interval_s=0.2)
    try:
        await opened(engine, "2")
        paid = linear.pay_funding(BTC, Decimal("0.0005"))
        received = linear.pay_funding(BTC, Decimal("-0.0002"))
        assert Decimal(paid["execFee"]) > 0 > Decimal(received["execFee"])
        expected = -Decimal(paid["execFee"]) - Decimal(received["execFee"])
        await wait_for(lambda: engine.portfolio.positions[(VENUE, BTC)].funding == expected)
        await asyncio.sleep(0.5)  # later polls read the same executions again: booked once
        assert engine.portfolio.positions[(VENUE, BTC)].funding == expected
        assert engine.store is not None
        await engine.derivatives.settle()
        flows = {f.flow_id: f.amount for f in await engine.store.load_cash_flows()}
        assert flows == {paid["execId"]: -Decimal(paid["execFee"]), received["execId"]: -Decimal(received["execFee"])}
    finally:
        await engine.stop()


async def test_reduce_only_refused_by_bybit_is_one_line(linear: FakeBybitLinear) -> None:
    engine = await started(linear)
    try:
        await wait_for(lambda: engine.ticker(BTC, VENUE) is not None)
        assert engine.oms is not None
        stale = Order.from_request(perp(Side.SELL, "1", reduce_only=True), engine.new_id(), VENUE, engine.clock.now())
        await engine.oms.submit(stale)
        await wait_status(engine, stale.client_order_id, OrderStatus.REJECTED)
        assert "Reduce-only rule not satisfied" in (engine.oms.orders[stale.client_order_id].reason or "")
        await opened(engine, "2")
        closing = await engine.place(perp(Side.SELL, "2", reduce_only=True))
        await wait_status(engine, closing.client_order_id, OrderStatus.FILLED)
        assert linear.reduce_only[closing.client_order_id] is True and linear.positions[BTC].amount == 0
    finally:
        await engine.stop()


@pytest.mark.parametrize("adl", [False, True])
async def test_a_bybit_liquidation_or_adl_is_recorded_and_books_its_fill(linear: FakeBybitLinear, adl: bool) -> None:
    engine = await started(linear)
    seen = risk_events(engine)
    try:
        await opened(engine, "3")
        forced = linear.liquidate(BTC, adl=adl)
        await wait_for(lambda: engine.portfolio.positions[(VENUE, BTC)].quantity == 0)
        kind = "adl" if adl else "liquidation"
        cid = f"{kind}-{forced.order_id}"  # Bybit's own orders carry no orderLinkId
        await wait_status(engine, cid, OrderStatus.FILLED)
        assert engine.store is not None
        ours = await engine.store.get_order(cid)
        assert ours is not None and ours.meta.get("forced") == kind and ours.venue_order_id == str(forced.order_id)
        assert any(e.code == f"venue:{kind}" for e in seen)
    finally:
        await engine.stop()


async def test_a_bybit_liquidation_while_the_stream_was_silent_is_found_by_the_reconcile(
    linear: FakeBybitLinear,
) -> None:
    engine = await started(linear)
    try:
        await opened(engine, "2")
        linear.stall()
        forced = linear.liquidate(BTC)
        await linear.drop_connections()
        linear.stall(False)
        await wait_for(lambda: engine.portfolio.positions[(VENUE, BTC)].quantity == 0)
        assert engine.store is not None
        ours = await engine.store.get_order(f"liquidation-{forced.order_id}")
        assert ours is not None and ours.meta.get("forced") == "liquidation"
    finally:
        await engine.stop()


def resting(qty: str = "1") -> OrderRequest:
    return perp(Side.BUY, qty, type=OrderType.LIMIT, price=Decimal("93"))


def creates(fake: FakeBybitLinear) -> int:
    return sum(1 for m, p in fake.requests if m == "POST" and p == "/order/create")


async def test_a_lost_answer_is_found_by_order_link_id_never_resent(linear: FakeBybitLinear) -> None:
    engine = await started(linear, timeout_ms=300)
    try:
        await wait_for(lambda: engine.ticker(BTC, VENUE) is not None)
        linear.stall_private()
        linear.delay_next_ack(1.0)
        placed = await engine.place(resting())
        assert placed.status is not OrderStatus.REJECTED, placed.reason
        await wait_status(engine, placed.client_order_id, OrderStatus.ACCEPTED)
        linear.stall_private(False)
        await asyncio.sleep(0.3)
        assert creates(linear) == 1 and len(linear.orders) == 1 and linear.made_twice == []
    finally:
        await engine.stop()


async def test_a_duplicate_order_link_id_answer_is_looked_up_not_rejected(linear: FakeBybitLinear) -> None:
    engine = await started(linear)
    try:
        await wait_for(lambda: engine.ticker(BTC, VENUE) is not None)
        linear.answer_duplicate_next()  # made, but answered 110072 "OrderLinkedID is duplicate"
        placed = await engine.place(resting())
        assert placed.status is not OrderStatus.REJECTED, placed.reason
        await wait_status(engine, placed.client_order_id, OrderStatus.ACCEPTED)
        assert creates(linear) == 1 and linear.orders[placed.client_order_id].is_open
    finally:
        await engine.stop()


async def test_a_silent_private_stream_is_noticed_and_its_fills_backfilled(linear: FakeBybitLinear) -> None:
    engine = await started(linear)
    try:
        await wait_for(lambda: engine.ticker(BTC, VENUE) is not None)
        placed = await engine.place(resting("2"))
        await wait_status(engine, placed.client_order_id, OrderStatus.ACCEPTED)
        linear.stall_private()
        linear.fill(placed.client_order_id)
        await wait_status(engine, placed.client_order_id, OrderStatus.FILLED)  # found over REST
        linear.stall_private(False)
        assert engine.portfolio.positions[(VENUE, BTC)].quantity == linear.positions[BTC].amount == 2
    finally:
        await engine.stop()
