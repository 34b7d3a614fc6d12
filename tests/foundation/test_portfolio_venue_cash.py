"""One venue's balances read again (`Portfolio.read_cash`): its share of the cash replaced, the
other venues' shares of the same currency untouched, its fills and payments since the last
read not counted again; a paper venue's read again at `venue start`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from tui_trader.core.enums import Liquidity, Side
from tui_trader.core.events import NoticeEvent
from tui_trader.core.fills import Fill
from tui_trader.core.orders import OrderRequest
from tui_trader.core.positions import Balance
from tui_trader.engine.cash_reread import amount, cash_from
from tui_trader.engine.commands import dispatch
from tui_trader.engine.testing import manual_engine, step
from tui_trader.execution.portfolio import Portfolio
from tui_trader.venues.paper.instruments import paper_instrument
from tui_trader.venues.paper.venue import PaperVenue

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _buy(venue: str, qty: str, price: str, fee: str) -> Fill:
    return Fill(f"{venue}-1", "c", venue, "BTC/USDT", Side.BUY, D(qty), D(price), D(fee), "USDT", Liquidity.TAKER, T0)


def test_a_venue_read_again_moves_its_own_share_of_a_currency_only() -> None:
    book = Portfolio()
    assert book.read_cash("binance", {"USDT": D(1000), "BTC": D(2)}) == {"USDT": (0, 1000), "BTC": (0, 2)}
    book.read_cash("kucoin", {"USDT": D(500)})
    assert book.cash == {"USDT": D(1500), "BTC": D(2)}  # two venues' USDT, summed
    book.apply_fill(_buy("binance", "1", "100", "0.1"))
    book.apply_cash_flow("kucoin", "BTC/USDT", D(-1), "USDT")  # a funding payment
    assert book.cash["USDT"] == D(1500) - D("100.1") - 1
    assert book.venue_cash == {"binance": {"USDT": D("899.9"), "BTC": D(2)}, "kucoin": {"USDT": D(499)}}

    # Binance read again: the fill is in its balances (not counted twice), 250 deposited, the
    # BTC moved off it; KuCoin's share (its payment) stays as counted.
    moved = book.read_cash("binance", {"USDT": D("1149.9")})
    assert moved == {"USDT": (D("899.9"), D("1149.9")), "BTC": (D(2), D(0))}
    assert book.cash == {"USDT": D("1149.9") + 499, "BTC": D(0)}
    assert book.read_cash("binance", {"USDT": D("1149.9")}) == {}  # the same read: nothing moves
    assert book.moves == {"binance": 1, "kucoin": 1}


@pytest.mark.parametrize(
    ("ours", "theirs", "value", "taken"),
    [
        ("3", "5", "1000", "600"),  # ours, a part of what the broker holds: that part's value
        ("7", "5", "1000", "1000"),  # more than it holds (it disagrees): all it valued, no more
        ("-3", "5", "1000", "0"),  # the other side: nothing of ours is in its value
        ("-3", "-5", "-1000", "-600"),  # a short: its value is negative in the liquidation value
        ("-3", "-5", "1000", "-600"),  # a short valued as a positive number: the same
    ],
)
def test_a_liquidation_value_read_takes_out_the_stocks_the_portfolio_holds(
    ours: str, theirs: str, value: str, taken: str
) -> None:
    """A broker's liquidation value (IB's NetLiquidation, Schwab's liquidationValue) holds the
    stocks at its value; the portfolio counts the ones it holds itself, so their part of that
    value is taken out. What the broker holds beyond ours stays in the cash."""
    book = Portfolio()
    side = Side.BUY if D(ours) > 0 else Side.SELL
    book.apply_fill(Fill("ib-1", "c", "ib", "AAPL", side, abs(D(ours)), D(190), D(0), "USD", Liquidity.TAKER, T0))
    read = Balance("USD", D(5000), D(4000), valued=(("AAPL", D(theirs), D(value)),))
    assert cash_from(book, "ib", object(), {"USD": read}) == {"USD": D(5000) - D(taken)}


async def test_a_paper_venue_started_again_has_its_cash_read_again() -> None:
    """`venue stop` / `venue start` on a paper venue (the outage rehearsal): a fill before is in
    its balances and counted once (nothing moves, nothing said); cash given to its account
    while it was stopped is in the engine's cash once it is started, said in a notice."""
    engine = manual_engine()
    await engine.start()
    said: list[str] = []
    engine.bus.on(lambda e: said.append(e.message) if isinstance(e, NoticeEvent) else None, kinds=["notice"])
    venue = engine.venues["paper"]
    assert isinstance(venue, PaperVenue)
    try:
        await step(engine, 3)
        order = await engine.place(OrderRequest("BTC/USDT", Side.BUY, D("0.1")))
        await step(engine)
        assert engine.oms is not None and engine.oms.orders[order.client_order_id].filled_quantity == D("0.1")
        await dispatch(engine, "venue.stop", {"name": "paper"}, "test")
        await dispatch(engine, "venue.start", {"name": "paper"}, "test")
        assert engine.portfolio.cash["USDT"] == venue.account.cash["USDT"]
        assert not [s for s in said if "cash" in s], said

        await dispatch(engine, "venue.stop", {"name": "paper"}, "test")
        was = venue.account.cash["USDT"]
        venue.account.cash["USDT"] += 250
        await dispatch(engine, "venue.start", {"name": "paper"}, "test")
        assert engine.portfolio.cash["USDT"] == was + 250
        assert [s for s in said if "cash" in s] == [
            f"paper: cash re-read after venue start: USDT {amount(was)} -> {amount(was + 250)}"
        ], said
    finally:
        await engine.stop()




def _at(fill: Fill, ts: datetime, n: int) -> Fill:
    from dataclasses import replace

    return replace(fill, fill_id=f"{fill.venue}-{n}", ts=ts)


def test_a_fill_made_by_the_time_of_a_read_and_heard_of_after_it_moves_the_position_not_the_cash() -> None:
    """Fault row "a fill announced late": the venue's balances were read at T0 (its time of
    them); a fill made at or before T0 that turns up afterwards is in them already. Spot on an
    exchange whose base-coin balance holds the positions' coins: the USDT stays, the coins move
    from cash to the position (counted once in the equity). A fill made after T0, or one with no
    time (a venue's 0), moves the cash as usual; a read without a time keeps no rule."""
    book = Portfolio()
    book.know_quotes([paper_instrument("BTC/USDT")])
    book.read_cash("binance", {"USDT": D("899.9"), "BTC": D(3)}, as_of=T0, coins_held=True)  # 1 BTC bought at T0
    book.apply_fill(_at(_buy("binance", "1", "100", "0.1"), T0, 1))
    assert book.cash == {"USDT": D("899.9"), "BTC": D(2)} and book.position("binance", "BTC/USDT").quantity == 1
    book.apply_fill(_at(_buy("binance", "1", "100", "0.1"), T0 + timedelta(milliseconds=1), 2))
    assert book.cash == {"USDT": D("799.8"), "BTC": D(2)}
    book.apply_fill(_at(_buy("binance", "1", "100", "0.1"), datetime(1970, 1, 1, tzinfo=UTC), 3))  # no time given
    assert book.cash["USDT"] == D("699.7") and book.moves["binance"] == 3

    broker = Portfolio()  # a broker's cash balance alone: the late fill was paid for, nothing else moves
    broker.read_cash("ib", {"USDT": D(900)}, as_of=T0)
    broker.apply_fill(_at(_buy("ib", "1", "100", "0"), T0 - timedelta(seconds=1), 1))
    assert broker.cash == {"USDT": D(900)} and broker.position("ib", "BTC/USDT").quantity == 1
    broker.read_cash("ib", {"USDT": D(900)})  # no time: the rule goes with it
    broker.apply_fill(_at(_buy("ib", "1", "100", "0"), T0 - timedelta(seconds=1), 2))
    assert broker.cash == {"USDT": D(800)}


def test_a_fill_made_by_a_read_with_no_time_and_heard_of_after_it_is_booked_and_kept_unsure() -> None:
    """A venue whose balances come with no time, read at T0 by our clock: a fill made by then
    and heard of later may be in them. It moves the cash (as if not), and what the next read
    moves if it was is kept (`unsure`: the USDT back, the coins from cash to the position);
    one made after T0 is not in question; the next read settles it (cleared)."""
    book = Portfolio()
    book.know_quotes([paper_instrument("BTC/USDT")])
    book.read_cash("kucoin", {"USDT": D("899.9"), "BTC": D(3)}, coins_held=True, taken=T0)
    book.apply_fill(_at(_buy("kucoin", "1", "100", "0.1"), T0 - timedelta(milliseconds=5), 1))
    assert book.cash == {"USDT": D("799.8"), "BTC": D(3)}
    assert book.unsure == {"kucoin": {"USDT": D("100.1"), "BTC": D(-1)}}
    book.apply_fill(_at(_buy("kucoin", "1", "100", "0.1"), T0 + timedelta(milliseconds=1), 2))
    assert book.unsure == {"kucoin": {"USDT": D("100.1"), "BTC": D(-1)}}
    book.read_cash("kucoin", {"USDT": D("799.8"), "BTC": D(2)}, coins_held=True, taken=T0 + timedelta(seconds=1))
    assert book.unsure == {}
    book.read_cash("binance", {"USDT": D(1)}, as_of=T0, taken=T0)  # a venue's own time: no question
    book.apply_fill(_at(_buy("binance", "0.001", "100", "0"), T0 + timedelta(milliseconds=1), 3))
    assert "binance" not in book.unsure and "binance" not in book.read_taken


def test_a_margin_fill_and_a_payment_made_by_the_time_of_a_read_move_no_cash_again() -> None:
    """On margin: a late fill's realised P&L and fee, and a late funding payment, are in the
    balances read; the position keeps its P&L and its funding total all the same."""
    book = Portfolio("USDT")
    book.set_instrument(paper_instrument("BTC/USDT:USDT"))
    perp = "BTC/USDT:USDT"
    opened = Fill("p-1", "c1", "paper", perp, Side.BUY, D(1), D(100), D("0.05"), "USDT", Liquidity.TAKER, T0)
    book.apply_fill(opened)
    book.read_cash("paper", {"USDT": D(1000)}, as_of=T0 + timedelta(hours=8))
    book.apply_cash_flow("paper", perp, D("-0.5"), "USDT", T0 + timedelta(hours=8))
    closed = Fill("p-2", "c2", "paper", perp, Side.SELL, D(1), D(110), D("0.05"), "USDT", Liquidity.TAKER,
                  T0 + timedelta(hours=7))  # fmt: skip
    book.apply_fill(closed)
    assert book.cash == {"USDT": D(1000)}
    assert book.positions[("paper", perp)].realized_pnl == D(10)
    book.apply_cash_flow("paper", perp, D("-0.25"), "USDT", T0 + timedelta(hours=9))  # after the read
    assert book.cash == {"USDT": D("999.75")}
