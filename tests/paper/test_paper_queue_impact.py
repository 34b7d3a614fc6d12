"""Queue position and market impact on the paper exchange: a resting order waits behind the size
displayed at its price, and liquidity an order takes stays taken, then refills (resilience)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderStatus, OrderType, Side
from tui_trader.core.events import BookEvent, ExecutionReport, TickerEvent
from tui_trader.core.market import OrderBook, TradePrint
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.engine.testing import paper_settings
from tui_trader.venues.paper import PaperVenue
from tui_trader.venues.paper.account import PaperAccount
from tui_trader.venues.paper.instruments import paper_instrument
from tui_trader.venues.paper.matching import MatchingEngine

T0 = datetime(2026, 1, 7, 12, tzinfo=UTC)
BIDS = ((99.0, 1.0), (98.0, 1.0), (97.0, 1.0), (96.0, 1.0), (95.0, 1.0))
ASKS = ((101.0, 1.0), (102.0, 2.0), (103.0, 3.0), (104.0, 4.0))


def matching(asks: tuple[tuple[float, float], ...] = ASKS):  # type: ignore[no-untyped-def]
    """A matching engine on BIDS and `asks`, half-life 5 s: (engine, its reports, clock, book)."""
    clock = FrozenClock(T0)
    reports: list[ExecutionReport] = []
    me = MatchingEngine(
        "paper",
        {"BTC/USDT": paper_instrument("BTC/USDT")},
        PaperAccount({"USDT": D(10_000_000)}, allow_short=True),
        maker_fee=0.0,
        taker_fee=0.0,
        emit=reports.append,
        clock=clock,
        half_life_s=lambda symbol: 5.0,
    )
    book = OrderBook("paper", "BTC/USDT", T0, BIDS, asks)
    me.on_book(book)
    return me, reports, clock, book


@pytest.fixture
def env():  # type: ignore[no-untyped-def]
    return matching()


def place(me: MatchingEngine, cid: str, side: Side, qty: str, price: str | None = None) -> Order:
    kind = OrderType.LIMIT if price else OrderType.MARKET
    req = OrderRequest("BTC/USDT", side, D(qty), kind, price=D(price) if price else None)
    o = Order.from_request(req, cid, "paper", T0)
    me.submit(o)
    return o


def filled(reports: list[ExecutionReport], cid: str) -> list[tuple[D, D]]:
    return [(r.fill.quantity, r.fill.price) for r in reports if r.fill and r.client_order_id == cid]


def test_a_big_bid_below_the_market_is_not_filled_in_full_when_the_book_touches_it(env) -> None:  # type: ignore[no-untyped-def]
    me, reports, _clock, _book = env
    big = place(me, "big", Side.BUY, "8", "97")  # two levels below the bid, behind the 1.0 shown at 97
    # Sellers print 2.5 down to 97: the 99 and 98 bids take 2.0, the queue ahead at 97 the rest.
    me.on_trade(TradePrint("paper", "BTC/USDT", T0, 97.0, 2.5, Side.SELL))
    assert filled(reports, "big") == []
    # Another 5.5: 2.0 at 99 and 98, the 0.5 still queued ahead at 97, then 3.0 reaches the order.
    me.on_trade(TradePrint("paper", "BTC/USDT", T0, 97.0, 5.5, Side.SELL))
    assert filled(reports, "big") == [(D("3"), D("97"))]
    assert big.status is OrderStatus.PARTIALLY_FILLED and big.remaining == D("5")


def test_a_crossing_book_fills_only_the_size_that_crosses_then_refills(env) -> None:  # type: ignore[no-untyped-def]
    me, reports, clock, _book = env
    place(me, "bid", Side.BUY, "5", "100")  # rests: the ask is 101
    # The market drops: 3.0 is offered at or below 100.
    crossing = OrderBook("paper", "BTC/USDT", T0, ((98.5, 1.0),), ((99.5, 1.0), (100.0, 2.0), (100.5, 9.0)))
    shown = me.on_book(crossing)
    assert filled(reports, "bid") == [(D("1"), D("100")), (D("2"), D("100"))]
    assert shown.asks[0] == (100.5, 9.0)  # what crossed is taken, and shown as taken
    me.on_book(crossing)  # the same book a moment later: nothing has refilled yet
    assert sum(q for q, _ in filled(reports, "bid")) == D("3")
    clock.advance(5.0)  # one half-life: half of what was taken is back
    me.on_book(crossing)
    assert sum(q for q, _ in filled(reports, "bid")) == D("4.5")


def test_market_orders_walk_a_book_thinned_by_the_last_one_until_it_refills(env) -> None:  # type: ignore[no-untyped-def]
    me, reports, clock, book = env
    place(me, "m1", Side.BUY, "2.5")
    assert filled(reports, "m1") == [(D("1"), D("101")), (D("1.5"), D("102"))]
    shown = me.on_book(book)  # the market still shows its book, less what we took
    assert shown.asks[:2] == ((102.0, 0.5), (103.0, 3.0))
    place(me, "m2", Side.BUY, "1")
    assert filled(reports, "m2") == [(D("0.5"), D("102")), (D("0.5"), D("103"))]  # slippage from impact
    clock.advance(60.0)  # twelve half-lives: the book is whole again
    assert me.on_book(book).asks[0] == (101.0, pytest.approx(1.0, abs=1e-3))
    place(me, "m3", Side.BUY, "0.5")
    assert filled(reports, "m3") == [(D("0.5"), D("101"))]


async def test_the_venue_shows_its_impact_in_the_book_and_quote() -> None:
    clock = FrozenClock(T0)
    venue = PaperVenue(paper_settings(balances={"USDT": 1_000_000.0}).paper, clock, run_feed=False)
    events: list[object] = []
    await venue.connect(events.append)
    before = venue._books["BTC/USDT"].asks[:3]
    depth = sum(s for _p, s in before)
    order = Order.from_request(OrderRequest("BTC/USDT", Side.BUY, D(str(round(depth, 5)))), "sweep", "paper", T0)
    await venue.create_order(order)
    assert [e.status for e in events if isinstance(e, ExecutionReport)][-1] is OrderStatus.FILLED
    venue.step()  # same instant: the market's book is back, less what the sweep took
    book = [e.book for e in events if isinstance(e, BookEvent) and e.book.symbol == "BTC/USDT"][-1]
    ticker = [e.ticker for e in events if isinstance(e, TickerEvent) and e.ticker.symbol == "BTC/USDT"][-1]
    left = sum(s for p, s in book.asks if p <= before[-1][0])
    assert left < 0.4 * depth  # the levels the sweep took are (nearly) gone, though the book moved on
    assert ticker.ask == book.asks[0][0]
    for _ in range(240):  # a minute at 250 ms: refilled
        clock.advance(0.25)
        venue.step()
    ticker = [e.ticker for e in events if isinstance(e, TickerEvent) and e.ticker.symbol == "BTC/USDT"][-1]
    path_mid = venue.path("BTC/USDT").price(clock.now().timestamp())
    assert abs(ticker.ask - path_mid) / path_mid < 5e-4


def test_what_was_taken_refills_with_time_even_before_the_market_sends_a_new_book(env) -> None:  # type: ignore[no-untyped-def]
    me, reports, clock, _book = env
    place(me, "m1", Side.BUY, "2.5")
    assert filled(reports, "m1") == [(D("1"), D("101")), (D("1.5"), D("102"))]
    clock.advance(60.0)  # twelve half-lives, and no new book from the market (a quiet feed)
    place(me, "m2", Side.BUY, "0.5")
    assert filled(reports, "m2") == [(D("0.5"), D("101"))]


def test_a_level_taken_in_parts_is_taken_whole_with_no_float_dust_left_shown_or_walked() -> None:
    me, reports, _clock, book = matching(asks=((101.0, 0.3), (102.0, 1.0)))
    place(me, "a", Side.BUY, "0.1")
    place(me, "b", Side.BUY, "0.2")  # 0.3 - 0.1 is 0.19999999999999998 in floats: still 0.2 to take
    assert filled(reports, "b") == [(D("0.2"), D("101"))]
    assert me.on_book(book).asks == ((102.0, 1.0),)  # nothing is left at 101, not 3e-17



class _Rebuilding(MatchingEngine):
    """The matching engine as it was: the whole book rebuilt whenever something taken refilled."""

    def _refilled(self, book: OrderBook, levels: list[list[list[float]]]) -> list[list[list[float]]]:
        return self.liquidity.levels(book)


def test_the_levels_given_back_what_refilled_are_the_book_rebuilt_at_every_order() -> None:
    """Between the market's books, an order meets the levels its predecessors took from given
    back what refilled since, not the whole book rebuilt: the same fills and the same levels,
    to the bit, as the rebuilt book, on both sides, as the takes decay or are forgotten."""
    import random

    rng = random.Random(17)
    asks = tuple((101.0 + i, 0.5 + 0.25 * i) for i in range(25))
    engines = []
    for kind in (MatchingEngine, _Rebuilding):
        clock = FrozenClock(T0)
        reports: list[ExecutionReport] = []
        me = kind("paper", {"BTC/USDT": paper_instrument("BTC/USDT")}, PaperAccount({"USDT": D(10_000_000)},
                  allow_short=True), maker_fee=0.0, taker_fee=0.0, emit=reports.append, clock=clock,
                  half_life_s=lambda symbol: 5.0)  # fmt: skip
        me.on_book(OrderBook("paper", "BTC/USDT", T0, BIDS, asks))
        engines.append((me, reports, clock))
    for n in range(300):
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        qty = f"{rng.choice((1, 3, 12, 40, 150)) / 100:g}"
        pause = rng.choice((0.0, 0.05, 1.0, 7.0, 30.0, 400.0))  # 400 s: all refilled and forgotten
        for me, _reports, clock in engines:
            place(me, f"o{n}", side, qty)
            clock.advance(pause)
        (new, new_reports, _), (old, old_reports, _) = engines
        assert new_reports == old_reports, n
        assert new._levels("BTC/USDT") == old._levels("BTC/USDT"), n
    assert sum(1 for r in new_reports if r.fill) > 250  # most orders filled, many on thinned levels
