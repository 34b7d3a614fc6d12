"""`--venue auto` in the engine, on two (or more) paper instances of one market: the best venue
after fees for the size, splits, failover, a venue stopped, a stale venue, cancelling, and every
child through the risk checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any

import pytest

from tui_trader.config import Settings
from tui_trader.core import OrderRequest, OrderType, Side
from tui_trader.core.enums import ConnectionState, OrderStatus
from tui_trader.core.events import NoticeEvent
from tui_trader.core.orders import Order
from tui_trader.engine import Engine
from tui_trader.engine.testing import paper_engine, step
from tui_trader.venues.paper import PaperVenue

pytestmark = pytest.mark.asyncio


def settings(venues: dict[str, dict[str, Any]], paper: dict[str, Any] | None = None, **routing: Any) -> Settings:
    return Settings(venues=venues, routing=routing, paper=paper or {})  # type: ignore[arg-type]


# `rich` quotes the market 20 bp above `paper` (no noise): `paper` is the cheaper place to buy.
TWO = {"rich": {"kind": "paper", "seed": 11, "basis_bps": 20, "basis_noise_bps": 0}}


@pytest.fixture
async def eng() -> AsyncIterator[Engine]:
    engine = paper_engine(settings(TWO))
    await engine.start()
    await step(engine, 4)
    yield engine
    await engine.stop()


def auto(side: Side, qty: str, symbol: str = "BTC/USDT", **kw: Any) -> OrderRequest:
    return OrderRequest(symbol, side, D(qty), venue="auto", source="cli", **kw)


def dies_on_the_next_order(engine: Engine, name: str = "paper") -> None:
    """The venue goes down as the next order reaches it (and so refuses it)."""
    venue = engine.venues[name]
    assert isinstance(venue, PaperVenue)
    real = venue.create_order

    async def dies(order: Order) -> None:
        venue._state = ConnectionState.DISCONNECTED
        await real(order)

    venue.create_order = dies  # type: ignore[method-assign]


async def children(engine: Engine, parent: Order) -> list[Order]:
    assert engine.store is not None
    out = []
    for cid in parent.meta["route"]["children"]:
        child = await engine.store.get_order(cid)
        assert child is not None
        out.append(child)
    return out


async def test_a_buy_fills_at_the_cheaper_venue_and_a_sell_at_the_richer(eng: Engine) -> None:
    cheap_ask = eng.tickers[("paper", "BTC/USDT")].ask
    parent = await eng.place(auto(Side.BUY, "0.1"), "cli")
    assert parent.status is OrderStatus.FILLED and parent.venue == "auto"
    assert parent.filled_quantity == D("0.1")
    [child] = await children(eng, parent)
    assert child.venue == "paper" and child.meta["route_parent"] == parent.client_order_id
    assert float(parent.average_price or 0) == pytest.approx(cheap_ask, rel=1e-9)
    assert "routed 0.1 on paper" in (parent.reason or "")
    sold = await eng.place(auto(Side.SELL, "0.1"), "cli")
    assert [c.venue for c in await children(eng, sold)] == ["rich"]


async def test_fees_decide_when_prices_are_close() -> None:
    # `cheapfee` quotes 3 bp higher but charges 0.01 % instead of paper's 0.05 %: it is cheaper
    engine = paper_engine(
        settings({"cheapfee": {"kind": "paper", "seed": 12, "basis_bps": 3, "basis_noise_bps": 0,
                               "taker_fee": 0.0001}})
    )
    await engine.start()
    try:
        await step(engine, 4)
        parent = await engine.place(auto(Side.BUY, "0.1"), "cli")
        assert [c.venue for c in await children(engine, parent)] == ["cheapfee"]
    finally:
        await engine.stop()


async def test_a_large_order_is_split_and_shows_one_average() -> None:
    # 2 bp apart: paper's book (levels 0.5 bp apart) is cheaper only for its first few levels
    near = {"near": {"kind": "paper", "seed": 11, "basis_bps": 2, "basis_noise_bps": 0}}
    engine = paper_engine(settings(near, paper={"balances": {"USDT": 1_000_000, "USD": 100_000}}))
    await engine.start()
    try:
        await _split(engine)
    finally:
        await engine.stop()


async def _split(eng: Engine) -> None:
    await step(eng, 4)
    top = eng.tickers[("near", "BTC/USDT")].ask
    depth = sum(size for price, size in eng.books[("paper", "BTC/USDT")].asks if price <= top)
    qty = D(str(round(depth + 0.5, 3)))  # more than paper offers at or under near's best offer
    parent = await eng.place(auto(Side.BUY, str(qty)), "cli")
    assert parent.status is OrderStatus.FILLED, parent.reason
    kids = await children(eng, parent)
    assert {c.venue for c in kids} == {"paper", "near"}
    assert sum(c.filled_quantity for c in kids) == qty == parent.filled_quantity
    value = sum(c.filled_quantity * (c.average_price or D(0)) for c in kids)
    assert parent.average_price == pytest.approx(value / qty)
    assert parent.fees == sum(c.fees for c in kids)
    # the blotter shows the parent; every child is in the recent orders too, linked to it
    snap = eng.snapshot()
    recent = {o.client_order_id: o for o in snap.recent_orders}
    assert parent.client_order_id in recent
    assert all(recent[c.client_order_id].meta["route_parent"] == parent.client_order_id for c in kids)


async def test_with_the_cheaper_venue_stopped_the_order_goes_to_the_other_and_says_so(eng: Engine) -> None:
    notices = eng.bus.subscribe("t", ["notice"])
    await eng.venues["paper"].close()
    await step(eng, 2)
    parent = await eng.place(auto(Side.BUY, "0.1"), "cli")
    assert parent.status is OrderStatus.FILLED
    assert [c.venue for c in await children(eng, parent)] == ["rich"]
    assert "not used: paper (disconnected)" in (parent.reason or "")
    said = [e.message for e in notices.drain() if isinstance(e, NoticeEvent) and e.source == "router"]
    assert any("paper (disconnected) not used" in m for m in said)


async def test_a_venue_that_goes_down_mid_route_hands_the_child_to_the_next(eng: Engine) -> None:
    """The planner picked `paper`; it stops as the child arrives and refuses it: the rest goes
    to `rich`, and the parent and a notice say why."""
    dies_on_the_next_order(eng)
    notices = eng.bus.subscribe("t", ["notice"])
    parent = await eng.place(auto(Side.BUY, "0.1"), "cli")
    assert parent.status is OrderStatus.FILLED, parent.reason
    first, second = await children(eng, parent)
    assert (first.venue, first.status) == ("paper", OrderStatus.REJECTED)
    assert (second.venue, second.status, second.quantity) == ("rich", OrderStatus.FILLED, D("0.1"))
    assert "paper rejected" in (parent.reason or "") and "0.1 on rich" in (parent.reason or "")
    assert any("paper rejected" in e.message for e in notices.drain() if isinstance(e, NoticeEvent))


async def test_failover_off_stops_with_the_reason() -> None:
    engine = paper_engine(settings(TWO, failover="off"))
    await engine.start()
    try:
        await step(engine, 4)
        dies_on_the_next_order(engine)
        parent = await engine.place(auto(Side.BUY, "0.1"), "cli")
        assert parent.status is OrderStatus.REJECTED
        assert "failover is off" in (parent.reason or "")
        assert len(await children(engine, parent)) == 1
    finally:
        await engine.stop()


async def test_a_stale_venue_is_not_routed_to(eng: Engine) -> None:
    """`paper` stops quoting (its feed stalls while connected): after stale_after_s its last
    book is not trusted, and the order goes to `rich`."""
    paper = eng.venues["paper"]
    rich = eng.venues["rich"]
    assert isinstance(rich, PaperVenue) and isinstance(paper, PaperVenue)
    for _ in range(30):  # 7.5 s of only `rich` quoting
        eng.clock.advance(0.25)  # type: ignore[attr-defined]
        rich.step()
    parent = await eng.place(auto(Side.BUY, "0.1"), "cli")
    assert [c.venue for c in await children(eng, parent)] == ["rich"]
    assert "paper (stale" in (parent.reason or "")


async def test_every_child_passes_the_risk_checks_and_the_order_as_a_whole_too() -> None:
    engine = paper_engine(settings(TWO))
    engine.settings.risk.max_order_notional = 10_000  # about 0.15 BTC
    await engine.start()
    try:
        await step(engine, 4)
        whole = await engine.place(auto(Side.BUY, "0.5"), "cli")
        assert whole.status is OrderStatus.REJECTED and whole.meta["reject_code"] == "max_order_notional"
        assert whole.meta.get("route") is None  # refused before any child existed
    finally:
        await engine.stop()


async def test_a_limit_order_rests_and_cancelling_the_parent_cancels_its_children(eng: Engine) -> None:
    bid = eng.tickers[("paper", "BTC/USDT")].bid
    price = D(str(round(bid * 0.98, 2)))
    parent = await eng.place(auto(Side.BUY, "0.1", type=OrderType.LIMIT, price=price), "cli")
    assert parent.status is OrderStatus.ACCEPTED
    [child] = await children(eng, parent)
    assert child.status is OrderStatus.ACCEPTED and child.price == price
    # the parent is not counted by the risk checks (its child is)
    assert [o.client_order_id for o in eng.risk.open_orders()] == [child.client_order_id]
    cancelled = await eng.cancel(parent.client_order_id)
    assert cancelled.client_order_id == parent.client_order_id
    await eng.oms.flush()  # type: ignore[union-attr]
    await eng.router._refresh(parent.client_order_id, False)
    final = eng.oms.orders[parent.client_order_id]  # type: ignore[union-attr]
    assert final.status is OrderStatus.CANCELLED and "cancelled" in (final.reason or "")
    assert (await children(eng, final))[0].status is OrderStatus.CANCELLED
    assert not [o for o in eng.snapshot().open_orders if o.symbol == "BTC/USDT"]


async def test_cancel_all_stops_routed_orders_without_failing_them_over(eng: Engine) -> None:
    bid = eng.tickers[("paper", "BTC/USDT")].bid
    parent = await eng.place(auto(Side.BUY, "0.1", type=OrderType.LIMIT, price=D(str(round(bid * 0.98, 2)))), "cli")
    await eng.cancel_all("cli")
    await eng.oms.flush()  # type: ignore[union-attr]
    await eng.router._refresh(parent.client_order_id, False)
    final = eng.oms.orders[parent.client_order_id]  # type: ignore[union-attr]
    assert final.status is OrderStatus.CANCELLED
    assert len(final.meta["route"]["children"]) == 1  # nothing was sent elsewhere


async def test_stop_orders_and_brackets_need_a_venue(eng: Engine) -> None:
    stop = await eng.place(auto(Side.BUY, "0.1", type=OrderType.STOP, stop_price=D("99999")), "cli")
    assert stop.status is OrderStatus.REJECTED and "needs a venue" in (stop.reason or "")
    bracket = await eng.place(auto(Side.BUY, "0.1", stop_loss=D("1000")), "cli")
    assert bracket.status is OrderStatus.REJECTED and "brackets" in (bracket.reason or "")


async def test_modify_refuses_a_routed_order(eng: Engine) -> None:
    from tui_trader.core.errors import UserError

    bid = eng.tickers[("paper", "BTC/USDT")].bid
    parent = await eng.place(auto(Side.BUY, "0.1", type=OrderType.LIMIT, price=D(str(round(bid * 0.98, 2)))), "cli")
    with pytest.raises(UserError, match="routed order"):
        await eng.modify(parent.client_order_id, price=D(str(round(bid * 0.97, 2))))


async def test_cash_of_two_venues_adds_up(eng: Engine) -> None:
    assert eng.portfolio.cash["USDT"] == D("200000")


async def test_an_unacknowledged_market_child_is_cancelled_after_the_timeout_and_its_rest_moves(eng: Engine) -> None:
    """`paper` takes the child and never answers (a stalled venue): after child_timeout_s the
    router cancels it; the venue confirms the cancel, and only then does the order go to `rich`."""
    from tui_trader.core.events import ExecutionReport

    venue = eng.venues["paper"]
    assert isinstance(venue, PaperVenue)
    swallowed: list[Order] = []

    async def silent(order: Order) -> None:
        swallowed.append(order)  # received, no answer

    async def confirm_cancel(order: Order) -> None:
        venue._emit(ExecutionReport("paper", order.client_order_id, OrderStatus.CANCELLED, eng.clock.now(), None,
                                    "cancelled"))

    venue.create_order = silent  # type: ignore[method-assign]
    venue.cancel_order = confirm_cancel  # type: ignore[method-assign]
    # placing waits (5 s of wall time) for the answer that never comes, then returns the child
    # unanswered; the test waits a moment of it: the router's timeout runs on the frozen clock
    oms = eng.oms
    assert oms is not None
    submit = oms.submit
    oms.submit = lambda order, **kw: submit(order, **{**kw, "wait_ack": 0.05})  # type: ignore[method-assign]
    parent = await eng.place(auto(Side.BUY, "0.1"), "cli")
    assert parent.status is OrderStatus.ACCEPTED and len(swallowed) == 1
    await eng.router._time_out_children()
    [child_id] = parent.meta["route"]["children"]
    assert "route_timeout" not in oms.orders[child_id].meta  # not before the timeout
    eng.clock.advance(eng.settings.routing.child_timeout_s + 1)  # type: ignore[attr-defined]
    await step(eng, 1)
    await eng.router._time_out_children()
    await eng.oms.flush()  # type: ignore[union-attr]
    await eng.router._refresh(parent.client_order_id, False)
    final = eng.oms.orders[parent.client_order_id]  # type: ignore[union-attr]
    assert final.status is OrderStatus.FILLED, final.reason
    first, second = await children(eng, final)
    assert first.status is OrderStatus.CANCELLED and "no fill after" in (final.reason or "")
    assert second.venue == "rich" and second.filled_quantity == D("0.1")


async def test_failover_any_looks_at_the_same_base_in_another_quote() -> None:
    engine = paper_engine(settings({"usd": {"kind": "paper", "seed": 12, "symbols": ["BTC/USD", "USDT/USD"]}}))
    await engine.start()
    try:
        await step(engine, 4)
        req = auto(Side.BUY, "0.1")
        same, _ = engine.router.chooser.candidates(req)
        every, _ = engine.router.chooser.candidates(req, other_quotes=True)
        assert {c.venue for c in same} == {"paper"}
        [other] = [c for c in every if c.symbol == "BTC/USD"]
        usdt = engine.portfolio.rate("USDT")
        assert other.venue == "usd" and usdt and other.rate == pytest.approx(1.0 / usdt)
    finally:
        await engine.stop()


async def test_the_scanner_alerts_once_per_spread_per_cooldown(eng: Engine) -> None:
    eng.settings.routing.scanner.alert_bps = 5.0  # `rich` sits 20 bp over `paper`: about 10 bp net
    notices = eng.bus.subscribe("t", ["notice"])

    def alerts() -> list[str]:
        return [e.message for e in notices.drain() if isinstance(e, NoticeEvent) and e.source == "scanner"]

    eng.scanner.scan()
    first = [m for m in alerts() if m.startswith("spread BTC/USDT")]
    assert len(first) == 1 and "buy on paper" in first[0] and "sell on rich" in first[0]
    eng.scanner.scan()
    assert not alerts()  # still above, within the cooldown: quiet
    eng.clock.advance(eng.settings.routing.scanner.alert_cooldown_s + 1)  # type: ignore[attr-defined]
    await step(eng, 1)
    eng.scanner.scan()
    assert any(m.startswith("spread BTC/USDT") for m in alerts())
    eng.settings.routing.scanner.alert_bps = 500.0
    eng.scanner.scan()
    assert not alerts()  # nothing reaches 500 bp


async def test_what_each_venue_holds_is_valued_at_that_venues_own_price(eng: Engine) -> None:
    """`rich` quotes 20 bp over `paper`: a position on each is marked at its own venue's mid,
    never at the other's (market state is per venue and symbol)."""
    for venue in ("paper", "rich"):
        placed = await eng.place(OrderRequest("BTC/USDT", Side.BUY, D("0.1"), venue=venue, source="cli"), "cli")
        assert placed.status is OrderStatus.FILLED, placed.reason
    await step(eng, 4)
    cheap, dear = (eng.tickers[(v, "BTC/USDT")].mid for v in ("paper", "rich"))
    assert dear / cheap == pytest.approx(1.002, abs=2e-4)
    assert eng.portfolio.position("paper", "BTC/USDT").mark == cheap
    assert eng.portfolio.position("rich", "BTC/USDT").mark == dear
    assert eng.portfolio.position("rich", "BTC/USDT").market_value == pytest.approx(0.1 * dear)


async def test_currencies_convert_at_the_default_venues_rate_whichever_venue_ticked_last(eng: Engine) -> None:
    """Both venues quote USDT/USD, `rich` 20 bp dearer: the USDT held is converted at the default
    venue's rate, so the equity does not jump by 20 bp of the USDT held each time `rich` ticks."""
    rich = eng.venues["rich"]
    assert isinstance(rich, PaperVenue)
    paper_rate = eng.tickers[("paper", "USDT/USD")].mark
    assert eng.tickers[("rich", "USDT/USD")].mark / paper_rate == pytest.approx(1.002, abs=2e-4)
    assert eng.portfolio.rate("USDT") == paper_rate
    for _ in range(4):  # only `rich` ticks
        eng.clock.advance(0.25)  # type: ignore[attr-defined]
        rich.step()
    assert eng.portfolio.rate("USDT") == paper_rate


async def test_a_child_refused_by_the_risk_checks_stops_the_route(eng: Engine) -> None:
    """`paper` goes down as the first child arrives, and a breaker trips meanwhile: the child for
    the rest is refused by the risk checks (trading halted), so nothing reaches `rich`."""
    from tui_trader.risk.breakers import Trip

    paper = eng.venues["paper"]
    rich = eng.venues["rich"]
    assert isinstance(paper, PaperVenue) and isinstance(rich, PaperVenue)
    real = paper.create_order

    async def dies_and_trips(order: Order) -> None:
        paper._state = ConnectionState.DISCONNECTED
        eng.risk.breakers.tripped["max_drawdown"] = Trip("max_drawdown", eng.clock.now(), "down 20 %")
        await real(order)

    paper.create_order = dies_and_trips  # type: ignore[method-assign]
    parent = await eng.place(auto(Side.BUY, "0.1"), "cli")
    assert parent.status is OrderStatus.REJECTED and parent.filled_quantity == 0
    first, second = await children(eng, parent)
    assert (first.venue, first.status) == ("paper", OrderStatus.REJECTED)
    assert (second.venue, second.status) == ("rich", OrderStatus.REJECTED) and second.meta.get("reject_code")
    assert "refused by the risk checks" in (parent.reason or "") and "the rest is not sent" in (parent.reason or "")
    assert rich.matching.open_orders() == [] and not rich.matching.fills  # never reached the venue


async def test_a_simulated_paper_cross_pair_makes_no_triangle() -> None:
    """A paper instance given ETH/BTC: on the simulated market that pair walks on its own (about
    113, not ETH/USDT over BTC/USDT), so no triangle is scanned through it and none alerts."""
    from tui_trader.engine.routing_commands import _spreads

    cross = {"tri": {"kind": "paper", "seed": 5, "symbols": ["BTC/USDT", "ETH/USDT", "ETH/BTC"]}}
    engine = paper_engine(settings(cross))
    engine.settings.routing.scanner.alert_bps = 5.0
    await engine.start()
    try:
        await step(engine, 4)
        notices = engine.bus.subscribe("t", ["notice"])
        eth, btc = (engine.tickers[("tri", s)].mid for s in ("ETH/USDT", "BTC/USDT"))
        assert abs(engine.tickers[("tri", "ETH/BTC")].mid / (eth / btc) - 1) > 0.5  # not the ratio
        engine.scanner.scan()
        assert engine.scanner.triangles == []
        doc = await _spreads(engine, {"triangular": True}, "cli")
        assert doc["rows"] == [] and "not scanned for triangles" in doc["note"]
        assert not [e for e in notices.drain() if isinstance(e, NoticeEvent) and "triangle" in e.message]
    finally:
        await engine.stop()
