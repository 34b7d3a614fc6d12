"""Positions on margin in the engine's portfolio: a fill moves only realised P&L and the fee,
equity counts unrealised P&L on the mark, inverse contracts count in coins, funding is kept on
the position; spot stays exactly as it was."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tui_trader.core.enums import Liquidity, Side
from tui_trader.core.fills import Fill
from tui_trader.execution.portfolio import Portfolio
from tui_trader.venues.paper.instruments import paper_instrument

D = Decimal
T = datetime(2026, 1, 5, 12, tzinfo=UTC)


def fill(symbol: str, side: Side, qty: str, price: str, fee: str = "0", ccy: str = "USDT", n: int = 1) -> Fill:
    return Fill(f"f{n}", f"c{n}", "paper", symbol, side, D(qty), D(price), D(fee), ccy, Liquidity.TAKER, T)


def test_a_perpetual_fill_moves_pnl_not_notional() -> None:
    pf = Portfolio("USDT")
    pf.set_cash("USDT", D(10_000))
    pf.set_instrument(paper_instrument("BTC/USDT:USDT"), D(10), "isolated")
    pf.apply_fill(fill("BTC/USDT:USDT", Side.SELL, "0.2", "60000", "6"))
    assert pf.cash["USDT"] == D(9_994)  # only the fee: a short needs no proceeds
    pf.mark("paper", "BTC/USDT:USDT", 58_000.0)
    snap = pf.snapshot(T)
    assert snap.unrealized_pnl == 400.0 and snap.equity == 9_994 + 400
    assert snap.gross_exposure == 0.2 * 58_000  # exposure is still the notional
    pf.apply_fill(fill("BTC/USDT:USDT", Side.BUY, "0.2", "58000", "5.8", n=2))
    assert pf.cash["USDT"] == D(9_994) + D(400) - D("5.8")
    assert pf.positions[("paper", "BTC/USDT:USDT")].realized_pnl == D(400)


def test_funding_moves_cash_and_is_kept_on_the_position() -> None:
    pf = Portfolio("USDT")
    pf.set_cash("USDT", D(1_000))
    pf.set_instrument(paper_instrument("ETH/USDT:USDT"))
    pf.apply_fill(fill("ETH/USDT:USDT", Side.BUY, "1", "3000"))
    pf.apply_cash_flow("paper", "ETH/USDT:USDT", D("-0.3"), "USDT")
    assert pf.cash["USDT"] == D("999.7")
    assert pf.positions[("paper", "ETH/USDT:USDT")].funding == D("-0.3")
    assert pf.snapshot(T).funding == -0.3


def test_spot_is_unchanged() -> None:
    pf = Portfolio("USDT")
    pf.set_cash("USDT", D(100_000))
    pf.set_instrument(paper_instrument("BTC/USDT"))  # spot: ignored
    pf.apply_fill(fill("BTC/USDT", Side.BUY, "1", "60000", "60"))
    assert pf.cash["USDT"] == D(100_000) - D(60_000) - D(60)
    pf.mark("paper", "BTC/USDT", 61_000.0)
    assert pf.snapshot(T).equity == 100_000 - 60_000 - 60 + 61_000


def test_an_fx_pair_is_on_margin_and_settles_in_its_quote() -> None:
    inst = paper_instrument("USD/JPY")
    assert inst.margined and inst.max_leverage == 50 and inst.pip == D("0.01")
    pf = Portfolio("USD")
    pf.set_cash("USD", D(10_000))
    pf.set_instrument(inst)
    pf.apply_fill(fill("USD/JPY", Side.BUY, "10000", "150.00", ccy="JPY"))
    pf.apply_fill(fill("USD/JPY", Side.SELL, "10000", "151.00", ccy="JPY", n=2))
    assert pf.cash["JPY"] == D(10_000)  # 100 pips on 10,000 units: 10,000 yen
    pf.mark("paper", "USD/JPY", 151.0)
    assert abs(pf.snapshot(T).equity - (10_000 + 10_000 / 151)) < 1e-6
