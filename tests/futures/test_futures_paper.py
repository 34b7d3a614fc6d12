"""Perpetuals on the paper exchange through the engine: a leveraged order opens a position on
margin (mark, liquidation price, margin), funding is paid at the funding time (frozen clock),
and the engine closes the position before its liquidation price."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from tui_trader.config import Settings
from tui_trader.core import margin as M
from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.events import RiskEvent
from tui_trader.core.market import OrderBook
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.engine.testing import manual_engine, step

PERP = "BTC/USDT:USDT"
D = Decimal


def perp_settings() -> Settings:
    s = Settings()
    s.paper.symbols = ["BTC/USDT", PERP, "USDT/USD"]
    return s


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    eng = manual_engine(perp_settings(), clock=FrozenClock())  # Monday 2026-01-05 14:30 UTC
    await eng.start()
    for task in eng._tasks:
        task.cancel()
    await step(eng, 4)
    try:
        yield eng
    finally:
        await eng.stop()


async def buy(engine: Engine, qty: str = "0.5", leverage: str | None = "5", **kw: Any) -> Any:
    req = OrderRequest(PERP, Side.BUY, D(qty), OrderType.MARKET, leverage=None if leverage is None else D(leverage),
                       **kw)
    order = await engine.place(req)
    await step(engine, 2)
    return order


async def test_a_leveraged_order_opens_a_position_on_margin(engine: Engine) -> None:
    venue: Any = engine.venues["paper"]
    cash_before = venue.account.cash["USDT"]
    order = await buy(engine)
    assert order.status is OrderStatus.FILLED
    (row,) = engine.derivatives.rows()
    assert row["symbol"] == PERP and row["leverage"] == "5" and row["margin_mode"] == "isolated"
    ticker = engine.ticker(PERP, "paper")
    assert ticker is not None and ticker.mark_price and ticker.index_price and ticker.mark_price != ticker.last
    entry = D(row["entry"])
    inst = engine.instrument("paper", PERP)
    assert inst is not None
    assert D(row["initial_margin"]) == entry * D("0.5") / 5
    expected = M.round_liquidation(inst, M.liquidation_price(inst, D("0.5"), entry, entry * D("0.5") / 5), D(1))
    assert D(row["liquidation_price"]) == expected < D(row["guard_price"]) < entry
    # Not paid for: the venue and the engine take only the fee off the cash, and agree.
    fee = order.fees
    assert venue.account.cash["USDT"] == cash_before - fee == engine.portfolio.cash["USDT"]
    # The unrealised P&L is on the mark price, not the last trade.
    pos = engine.portfolio.positions[("paper", PERP)]
    assert pos.mark == ticker.mark
    assert D(row["unrealized_pnl"]) == M.pnl(inst, D("0.5"), entry, D(repr(ticker.mark)))


async def test_funding_is_paid_at_the_funding_time_once(engine: Engine) -> None:
    await buy(engine)
    venue: Any = engine.venues["paper"]
    cash = engine.portfolio.cash["USDT"]
    assert engine.ticker(PERP, "paper").next_funding.hour == 16  # type: ignore[union-attr]
    await step(engine, 1, seconds=60 * 60)  # 15:30: not yet
    assert venue.flows == []
    await step(engine, 1, seconds=31 * 60)  # 16:01: paid
    await step(engine, 3)
    await engine.derivatives.settle()
    (flow,) = venue.flows
    assert flow.ts.hour == 16 and flow.kind == "funding" and flow.quantity == D("0.5")
    assert flow.rate is not None and flow.price is not None
    assert flow.amount == (-D("0.5") * flow.price * flow.rate).quantize(D("0.00000001"))
    assert engine.portfolio.cash["USDT"] == cash + flow.amount == venue.account.cash["USDT"]
    assert engine.portfolio.positions[("paper", PERP)].funding == flow.amount
    assert engine.derivatives.rows()[0]["funding"] == str(flow.amount)
    assert engine.store is not None
    (stored,) = await engine.store.load_cash_flows(venue="paper")
    assert stored.flow_id == flow.flow_id and stored.amount == flow.amount
    await step(engine, 1, seconds=7 * 3600)  # 23:01: no second payment before 00:00
    assert len(venue.flows) == 1


async def push_mark(engine: Engine, mark: float) -> None:
    """The market falls to `mark`: the paper venue quotes it (book, ticker with that mark)."""
    venue: Any = engine.venues["paper"]
    now = engine.clock.now()
    bids = tuple((round(mark - 0.1 * (i + 1), 1), 5.0) for i in range(20))
    asks = tuple((round(mark + 0.1 * (i + 1), 1), 5.0) for i in range(20))
    venue.on_book(OrderBook("paper", PERP, now, bids, asks))
    last = engine.ticker(PERP, "paper")
    assert last is not None
    venue.on_ticker(dataclasses.replace(
        last, ts=now, bid=bids[0][0], ask=asks[0][0], last=mark, mark_price=mark, index_price=mark
    ))
    await engine.derivatives.settle()
    assert engine.oms is not None
    await engine.oms.flush()


async def test_the_engine_closes_the_position_before_its_liquidation_price(engine: Engine) -> None:
    events: list[RiskEvent] = []
    engine.bus.on(lambda e: events.append(e) if isinstance(e, RiskEvent) else None)
    await buy(engine)
    (row,) = engine.derivatives.rows()
    liq, guard = float(row["liquidation_price"]), float(row["guard_price"])
    await push_mark(engine, guard + 50)  # near, not past the guard: held
    assert not engine.portfolio.positions[("paper", PERP)].is_flat
    await push_mark(engine, guard - 1)  # past the guard, still above the liquidation price
    assert guard - 1 > liq
    pos = engine.portfolio.positions[("paper", PERP)]
    assert pos.is_flat
    venue: Any = engine.venues["paper"]
    assert venue.account.position(PERP) == 0
    closing = [f for f in venue.matching.fills if f.side is Side.SELL]
    assert closing and all(f.price > D(repr(liq)) for f in closing)
    assert any(e.code == "breaker:liquidation_guard" for e in events)
    assert engine.derivatives.actions[-1]["action"] == "close"
    # Realised loss, fees: the venue's books and the engine's agree.
    assert venue.account.cash["USDT"] == engine.portfolio.cash["USDT"]


async def test_leverage_beyond_the_bracket_or_too_close_to_liquidation_is_refused(engine: Engine) -> None:
    too_high = await buy(engine, leverage="200")
    assert too_high.status is OrderStatus.REJECTED and "maximum of 150x" in (too_high.reason or "")
    near = await buy(engine, leverage="125")  # liquidated within 0.5 % of the mark
    assert near.status is OrderStatus.REJECTED and "liquidated at" in (near.reason or "")
    big = await buy(engine, qty="100", leverage="2")  # 3 M USDT at 2x: 1.5 M of margin
    assert big.status is OrderStatus.REJECTED and "margin" in (big.reason or "")
    assert engine.portfolio.positions.get(("paper", PERP)) is None or engine.portfolio.positions[
        ("paper", PERP)].is_flat


async def test_spot_leverage_is_refused(engine: Engine) -> None:
    order = await engine.place(OrderRequest("BTC/USDT", Side.BUY, D("0.01"), OrderType.MARKET, leverage=D(3)))
    assert order.status is OrderStatus.REJECTED and "is spot" in (order.reason or "")


@pytest.fixture
async def fx_engine() -> AsyncIterator[Engine]:
    settings = perp_settings()
    settings.paper.symbols = [*settings.paper.symbols, "EUR/USD"]
    eng = manual_engine(settings, clock=FrozenClock())  # Monday 14:30 UTC: London + New York
    await eng.start()
    try:
        await step(eng, 2)
        yield eng
    finally:
        await eng.stop()


async def test_the_status_bar_note_names_the_fx_sessions(fx_engine: Engine) -> None:
    note = fx_engine.snapshot().extra["sessions"]["EUR/USD"]
    assert note.startswith("FX open") and note.endswith("· London + New York overlap")


async def test_an_fx_position_pays_swap_at_the_rollover(fx_engine: Engine) -> None:
    from tui_trader.venues.paper.carry import RATES, SWAP_MARKUP

    eng = fx_engine
    order = await eng.place(OrderRequest("EUR/USD", Side.BUY, D(100_000), OrderType.MARKET))
    assert order.status is OrderStatus.FILLED
    venue: Any = eng.venues["paper"]
    usd = venue.account.cash["USD"]
    assert usd == eng.portfolio.cash["USD"] == D(100_000) - order.fees  # on margin: not paid for
    await step(eng, 1, seconds=7 * 3600)  # 21:30 UTC: before 17:00 New York
    assert venue.flows == []
    await step(eng, 1, seconds=40 * 60)  # 22:10 UTC: rolled over
    await eng.derivatives.settle()
    (flow,) = venue.flows
    assert flow.kind == "swap" and flow.currency == "USD" and flow.ts.hour == 22 and flow.price is not None
    rate = RATES["EUR"] - RATES["USD"] - SWAP_MARKUP  # a long earns EUR's rate and pays USD's
    assert flow.rate == rate and flow.amount == (100_000 * flow.price * rate / 365).quantize(D("0.00000001"))
    assert flow.amount < 0
    assert eng.portfolio.cash["USD"] == venue.account.cash["USD"] == usd + flow.amount
    assert eng.portfolio.positions[("paper", "EUR/USD")].funding == flow.amount


async def test_leverage_and_funding_survive_a_restart(tmp_path: Any) -> None:
    from tui_trader.home import Home

    home = Home(tmp_path / "h").ensure()
    clock = FrozenClock()
    eng = manual_engine(perp_settings(), home=home, clock=clock)
    await eng.start()
    try:
        await step(eng, 4)
        await buy(eng, leverage="3")
        await step(eng, 1, seconds=5_460)  # past 16:00 UTC: one funding payment
        await eng.derivatives.settle()
        (flow,) = eng.venues["paper"].flows  # type: ignore[attr-defined]
        cash = eng.portfolio.cash["USDT"]
    finally:
        await eng.stop()
    again = manual_engine(perp_settings(), home=home, clock=clock)
    await again.start()
    try:
        await step(again, 2)
        venue: Any = again.venues["paper"]
        assert again.derivatives.setting("paper", PERP).leverage == 3
        assert venue.account.margin[PERP].leverage == 3  # the exchange remembers it too
        assert [f.flow_id for f in venue.flows] == [flow.flow_id]
        assert again.store is not None and len(await again.store.load_cash_flows()) == 1  # not booked twice
        assert again.portfolio.cash["USDT"] == venue.account.cash["USDT"] == cash
        pos = again.portfolio.positions[("paper", PERP)]
        assert pos.quantity == D("0.5") and pos.funding == flow.amount and pos.margined
        assert again.derivatives.rows()[0]["leverage"] == "3"
    finally:
        await again.stop()
