"""One venue's balances read again (`Portfolio.read_cash`): its share of the cash replaced, the
other venues' shares of the same currency untouched, its fills and payments since the last
read not counted again."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from tui_trader.core.enums import Liquidity, Side
from tui_trader.core.fills import Fill
from tui_trader.execution.portfolio import Portfolio

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
