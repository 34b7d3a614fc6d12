"""Modify through the engine on exchanges that amend in place (OKX, Bybit), against their fakes,
and cancel-and-replace on one that does not (Binance)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.secrets import Credentials

from fakes.binance_exchange import FakeBinanceExchange
from fakes.bybit_exchange import FakeBybitExchange
from fakes.okx_exchange import FakeOkxExchange
from fakes.venue_harness import API_KEY, SECRET, ccxt_settings, ccxt_venue, engine_settings, make_venue, wait_for

OKX_PASS = "okx-pass-phrase"


@pytest.fixture(params=["okx", "bybit"])
async def amending(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, Any, Engine]]:
    """An exchange that amends in place, its fake, and an engine trading on it."""
    name = request.param
    if name == "okx":
        fake: Any = await FakeOkxExchange(api_key=API_KEY, secret=SECRET, passphrase=OKX_PASS).start(
            tick_interval_s=0.02
        )
        credentials = Credentials(API_KEY, SECRET, OKX_PASS)
    else:
        fake = await FakeBybitExchange(api_key=API_KEY, secret=SECRET).start(tick_interval_s=0.02)
        credentials = Credentials(API_KEY, SECRET)
    venue = ccxt_venue(ccxt_settings(name, fake.ccxt_options(), ["BTC/USDT"], rate_limit_ms=1), credentials)
    engine = Engine(engine_settings(), None, in_memory=True, venues={name: venue})
    await engine.start()
    yield name, fake, engine
    await engine.stop()
    await fake.stop()


def _limit(venue: str, price: str, qty: str = "0.2") -> OrderRequest:
    return OrderRequest("BTC/USDT", Side.BUY, Decimal(qty), OrderType.LIMIT, Decimal(price), venue=venue)


async def _accepted(engine: Engine, req: OrderRequest) -> str:
    assert engine.oms is not None
    placed = await engine.place(req)
    assert placed.status is not OrderStatus.REJECTED, placed.reason
    await wait_for(lambda: engine.oms.orders[placed.client_order_id].status is OrderStatus.ACCEPTED)  # type: ignore[union-attr]
    return placed.client_order_id


async def test_amend_in_place_keeps_the_order_and_its_ids_then_fills_at_the_new_price(amending) -> None:  # type: ignore[no-untyped-def]
    name, fake, engine = amending
    assert engine.venues[name].capabilities.amend
    await wait_for(lambda: engine.ticker("BTC/USDT") is not None)
    cid = await _accepted(engine, _limit(name, "97"))
    at_fake = fake.orders[cid]
    venue_id = at_fake.order_id
    changed = await engine.modify(cid, price=Decimal("98"), quantity=Decimal("0.3"))
    assert changed.client_order_id == cid and (changed.price, changed.quantity) == (Decimal(98), Decimal("0.3"))
    assert fake.orders[cid] is at_fake and at_fake.order_id == venue_id  # the same order, amended
    assert (at_fake.price, at_fake.quantity) == (Decimal(98), Decimal("0.3")) and at_fake.is_open
    assert len(fake.orders) == 1 and not any(o.status == "canceled" for o in fake.orders.values())
    stored = await engine.store.get_order(cid)  # type: ignore[union-attr]
    assert (stored.price, stored.quantity) == (Decimal(98), Decimal("0.3"))
    fake.set_price("BTC/USDT", "97.95")  # the market reaches the new price, not the old one
    await wait_for(lambda: engine.oms.orders[cid].status is OrderStatus.FILLED)  # type: ignore[union-attr]
    await wait_for(lambda: sum(f.quantity for f in engine.fills) == Decimal("0.3"))
    base_fees = sum(f.fee for f in engine.fills if f.fee_in_base)  # bybit keeps a spot buy's fee in BTC
    assert engine.portfolio.positions[(name, "BTC/USDT")].quantity == Decimal("0.3") - base_fees
    assert {t.price for t in fake.trades} == {Decimal(98)}


async def test_an_amend_the_exchange_refuses_leaves_our_order_as_it_was(amending) -> None:  # type: ignore[no-untyped-def]
    name, fake, engine = amending
    await wait_for(lambda: engine.ticker("BTC/USDT") is not None)
    cid = await _accepted(engine, _limit(name, "97"))
    fake.orders[cid].status = "canceled"  # gone at the exchange, we have not heard yet
    with pytest.raises(UserError, match=f"refused the change, {cid} is unchanged"):
        await engine.modify(cid, price=Decimal("98"))
    order = engine.oms.orders[cid]  # type: ignore[union-attr]
    assert order.price == Decimal(97) and order.quantity == Decimal("0.2")


async def test_binance_modifies_by_cancel_and_replace() -> None:
    fake = await FakeBinanceExchange(api_key=API_KEY).start(tick_interval_s=0.02)
    venue = make_venue(fake)
    engine = Engine(engine_settings(), None, in_memory=True, venues={"binance": venue})
    await engine.start()
    try:
        assert not venue.capabilities.amend  # ccxt's binance edit is cancelReplace under new ids
        await wait_for(lambda: engine.ticker("BTC/USDT") is not None)
        cid = await _accepted(engine, _limit("binance", "97"))
        new = await engine.modify(cid, price=Decimal("98"))
        assert new.client_order_id != cid and new.meta["replaces"] == cid
        await wait_for(lambda: engine.oms.orders[new.client_order_id].status is OrderStatus.ACCEPTED)  # type: ignore[union-attr]
        assert engine.oms.orders[cid].status is OrderStatus.CANCELLED  # type: ignore[union-attr]
        assert fake.orders[new.client_order_id].price == Decimal(98)
        with pytest.raises(UserError, match="unchanged"):
            await engine.modify(new.client_order_id, quantity=Decimal("1000000"))
    finally:
        await engine.stop()
        await fake.stop()
