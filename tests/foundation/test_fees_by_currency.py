"""Fees in the quote, in the base coin (Bybit / OKX spot buys) and in a third currency (BNB)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from tui_trader.core.enums import Liquidity, Side
from tui_trader.core.fills import Fill
from tui_trader.execution.portfolio import Portfolio

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _fill(fid: str, side: Side, qty: str, price: str, fee: str, ccy: str) -> Fill:
    return Fill(fid, "c", "x", "BTC/USDT", side, D(qty), D(price), D(fee), ccy, Liquidity.TAKER, T0)


def test_a_base_coin_fee_shrinks_the_position_and_counts_its_value_as_fees() -> None:
    book = Portfolio()
    book.set_cash("USDT", D(1000))
    pos = book.apply_fill(_fill("1", Side.BUY, "1", "100", "0.001", "BTC"))
    assert pos.quantity == D("0.999")  # what the exchange credits
    assert pos.fees == D("0.1") and book.cash["USDT"] == D(900)  # the fee did not come from cash
    pos = book.apply_fill(_fill("2", Side.SELL, "0.999", "110", "0.1099", "USDT"))
    assert pos.quantity == 0 and pos.realized_pnl == D("9.99")
    assert book.cash["USDT"] == D(900) + D("109.89") - D("0.1099")
    # money in = money out: the round trip made 9.99 before fees, 0.2099 in fees
    assert book.cash["USDT"] - D(1000) == pos.realized_pnl - pos.fees


def test_a_fee_in_a_third_currency_is_neither_cash_nor_position() -> None:
    book = Portfolio()
    book.set_cash("USDT", D(1000))
    fill = _fill("1", Side.BUY, "1", "100", "0.0002", "BNB")
    pos = book.apply_fill(fill)
    assert pos.quantity == D(1) and fill.quote_fee == 0 and book.cash == {"USDT": D(900)}
