"""The consolidated view and the spread scanner on hand-made markets (every number checked by hand)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from tui_trader.core.enums import AssetClass
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import OrderBook, Ticker
from tui_trader.routing.consolidated import consolidate
from tui_trader.routing.market import FeeRates, VenueMarket
from tui_trader.routing.spreads import cross_venue, triangular

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)


def market(
    venue: str,
    bids: list[tuple[float, float]],
    asks: list[tuple[float, float]],
    *,
    symbol: str = "BTC/USDT",
    taker: float = 0.001,
    problem: str = "",
) -> VenueMarket:
    base, quote = symbol.split("/")
    inst = Instrument(symbol, venue, base, quote, AssetClass.CRYPTO, D("0.01"), D("0.0001"))
    book = OrderBook(venue, symbol, T0, tuple(bids), tuple(asks))
    ticker = Ticker(venue, symbol, T0, bids[0][0], asks[0][0], asks[0][0], bids[0][1], asks[0][1])
    return VenueMarket(venue, "paper", "connected", inst, ticker, book, FeeRates(0.0002, taker), 0.1, problem)


def test_consolidated_view_picks_best_prices_after_fees_and_merges_the_ladder() -> None:
    a = market("a", [(100.0, 1.0), (99.0, 2.0)], [(101.0, 1.0), (102.0, 2.0)])
    b = market("b", [(100.5, 0.5)], [(100.8, 0.5)], taker=0.02)  # better prices, 2 % fee
    c = market("c", [(200.0, 9.0)], [(201.0, 9.0)], problem="disconnected")
    view = consolidate("BTC/USDT", [c, b, a])
    assert [r.venue for r in view.rows] == ["a", "b", "c"]
    # b's offer 100.8 costs 102.816 after its fee; a's 101 costs 101.101: a is the best offer
    assert view.best_ask is not None and view.best_ask.venue == "a"
    assert view.best_bid is not None and view.best_bid.venue == "a"
    # the down venue is listed with its reason, never in the ladder
    assert view.row("c").problem == "disconnected"  # type: ignore[union-attr]
    assert [(lv.price, lv.venue) for lv in view.bids] == [(100.5, "b"), (100.0, "a"), (99.0, "a")]
    assert [(lv.price, lv.venue) for lv in view.asks] == [(100.8, "b"), (101.0, "a"), (102.0, "a")]
    doc = view.document()
    assert doc["best_ask"] == {"venue": "a", "price": 101.0, "size": 1.0}
    assert doc["venues"][2]["usable"] is False


def test_cross_venue_spread_net_of_fees_and_transfer() -> None:
    cheap = market("cheap", [(99.9, 1.0)], [(100.0, 0.4), (100.1, 1.0)])
    rich = market("rich", [(100.6, 0.3), (100.4, 1.0)], [(100.7, 1.0)])
    rows = cross_venue({"BTC/USDT": [cheap, rich]}, transfer_bps=lambda s: 2.0)
    assert len(rows) == 1
    s = rows[0]
    assert (s.buy_venue, s.sell_venue, s.ask, s.bid) == ("cheap", "rich", 100.0, 100.6)
    assert s.gross_bps == pytest.approx(60.0)
    assert s.fees_bps == pytest.approx(20.0)
    # 100.6 * 0.999 - 100 * 1.001 = 0.3994 -> 39.94 bp, less 2 bp transfer
    assert s.net_bps == pytest.approx(37.94)
    assert s.size == 0.3
    # walking: 0.3 @ (100 -> 100.6), 0.1 @ (100 -> 100.4), then 100.1 -> 100.4 nets 100.2996 - 100.2001 - 0.02 > 0
    assert s.max_qty == pytest.approx(1.3)
    assert s.profit > 0


def test_a_stale_side_sinks_to_the_bottom_flagged() -> None:
    a = market("a", [(99.0, 1.0)], [(100.0, 1.0)])
    b = market("b", [(99.5, 1.0)], [(100.5, 1.0)])
    stale = market("s", [(150.0, 1.0)], [(151.0, 1.0)], problem="stale: last book 40s ago")
    rows = cross_venue({"BTC/USDT": [a, b, stale]})
    assert [r.stale for r in rows] == [False, True, True]
    assert rows[0].buy_venue in ("a", "b")


def test_symbols_on_one_venue_only_give_no_spread() -> None:
    assert cross_venue({"BTC/USDT": [market("a", [(1.0, 1.0)], [(1.1, 1.0)])]}) == []


def test_triangle_both_ways_with_fees() -> None:
    # ETH/BTC quoted above ETH/USDT / BTC/USDT: buy ETH with USDT, sell it for BTC, sell BTC
    btc = market("v", [(50_000.0, 1.0)], [(50_001.0, 1.0)], symbol="BTC/USDT", taker=0.0)
    eth = market("v", [(2_500.0, 1.0)], [(2_500.5, 1.0)], symbol="ETH/USDT", taker=0.0)
    ethbtc = market("v", [(0.0502, 10.0)], [(0.0503, 10.0)], symbol="ETH/BTC", taker=0.0)
    rows = triangular([btc, eth, ethbtc])
    assert len(rows) == 2
    best = rows[0]
    # BTC -> USDT at 50,000, USDT -> ETH at 2500.5, ETH -> BTC at 0.0502
    assert best.path == ("BTC", "USDT", "ETH")
    assert best.trades == (("BTC/USDT", "sell", 50_000.0), ("ETH/USDT", "buy", 2_500.5), ("ETH/BTC", "sell", 0.0502))
    expected = 1 / 2500.5 * 0.0502 * 50_000
    assert best.net_bps == pytest.approx((expected - 1) * 1e4)
    assert rows[1].net_bps < 0
    # with a 0.1 % fee per trade the edge shrinks by about 30 bp
    fee = [market(m.venue, list(m.bids()), list(m.asks()), symbol=m.instrument.symbol, taker=0.001)  # type: ignore[union-attr]
           for m in (btc, eth, ethbtc)]
    assert triangular(fee)[0].net_bps == pytest.approx((expected * 0.999**3 - 1) * 1e4)
