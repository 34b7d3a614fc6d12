"""Margin arithmetic against published references: Binance's liquidation-price examples (the
cases Freqtrade's test_liquidation_price_binance checks, from Binance's own calculation
examples), ccxt's unified symbols, funding's sign and Binance's funding-rate rule."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tui_trader.core import margin as M
from tui_trader.core.contracts import MarginTier, kind_of, parse_symbol, tier_for, tiers_from_rows
from tui_trader.core.enums import AssetClass, InstrumentKind, MarginMode
from tui_trader.core.instrument import Instrument

D = Decimal


def perp(symbol: str, tiers: tuple[MarginTier, ...], *, inverse: bool = False, size: str = "1") -> Instrument:
    parts = parse_symbol(symbol)
    assert parts is not None
    return Instrument(
        symbol, "x", parts.base, parts.quote, AssetClass.CRYPTO, D("0.01"), D("0.001"), D("0.001"),
        kind=InstrumentKind.INVERSE_PERP if inverse else InstrumentKind.LINEAR_PERP, contract_size=D(size),
        settle=parts.settle, max_leverage=tiers[0].max_leverage, margin_modes=(MarginMode.ISOLATED, MarginMode.CROSS),
        tiers=tiers,
    )


ETH = perp("ETH/USDT:USDT", (MarginTier(D(0), D("1e12"), D(125), D("0.10"), D("135365")),))
BTC = perp("BTC/USDT:USDT", (MarginTier(D(0), D("1e12"), D(125), D("0.025"), D("16300")),))
WALLET = D("1535443.01")


def test_symbols_name_their_kind() -> None:
    assert kind_of("BTC/USDT") is InstrumentKind.SPOT
    assert kind_of("BTC/USDT:USDT") is InstrumentKind.LINEAR_PERP
    assert kind_of("BTC/USD:BTC") is InstrumentKind.INVERSE_PERP
    assert kind_of("AAPL") is InstrumentKind.SPOT
    fut = parse_symbol("BTC/USDT:USDT-261225")
    assert fut is not None and fut.kind is InstrumentKind.FUTURE
    assert fut.expiry == datetime(2026, 12, 25, 8, tzinfo=UTC)
    assert parse_symbol("BTC/USD:BTC-261225-60000-C") is None  # an option: not ours
    assert parse_symbol("BTC/USDT:USDT").spot == "BTC/USDT"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("inst", "qty", "entry", "expected"),
    [(ETH, D("3683.979"), D("1456.84"), D("1114.78")), (BTC, D("109.488"), D("32481.98"), D("18778.73"))],
)
def test_isolated_liquidation_matches_binance_examples(inst: Instrument, qty: Decimal, entry: Decimal,
                                                      expected: Decimal) -> None:
    liq = M.liquidation_price(inst, qty, entry, WALLET)
    assert liq is not None and round(liq, 2) == expected


def test_cross_liquidation_matches_binance_examples() -> None:
    # The other position's maintenance margin and unrealised P&L at its mark price come off
    # the wallet (Freqtrade's mm_ex_1 and upnl_ex_1).
    btc_qty, btc_entry, btc_mark = D("109.488"), D("32481.98"), D("31967.27")
    eth_qty, eth_entry, eth_mark = D("3683.979"), D("1456.84"), D("1335.18")
    btc_other = M.pnl(BTC, btc_qty, btc_entry, btc_mark) - M.maintenance_margin(BTC, btc_qty, btc_mark)
    eth_other = M.pnl(ETH, eth_qty, eth_entry, eth_mark) - M.maintenance_margin(ETH, eth_qty, eth_mark)
    eth_liq = M.liquidation_price(ETH, eth_qty, eth_entry, WALLET + btc_other)
    btc_liq = M.liquidation_price(BTC, btc_qty, btc_entry, WALLET + eth_other)
    assert eth_liq is not None and round(eth_liq, 2) == D("1153.26")
    assert btc_liq is not None and round(btc_liq, 2) == D("26316.89")


def test_short_liquidation_is_above_and_bankruptcy_beyond_it() -> None:
    inst = perp("BTC/USDT:USDT", tiers_from_rows([(0, 300_000, 150, "0.004", 0)]))
    qty, entry = D("-0.5"), D("60000")
    margin = M.initial_margin(inst, qty, entry, D(10))  # 3,000 USDT
    assert margin == D(3000)
    liq = M.liquidation_price(inst, qty, entry, margin)
    bank = M.bankruptcy_price(inst, qty, entry, margin)
    assert liq is not None and bank is not None
    assert entry < liq < bank == D(66000)
    # At the liquidation price the margin balance equals the maintenance margin.
    balance = margin + M.pnl(inst, qty, entry, liq)
    assert abs(balance - M.maintenance_margin(inst, qty, liq)) < D("1e-9")
    assert M.round_liquidation(inst, liq, qty) <= liq  # a short's rounds down (the safe side)


def test_inverse_contract_pnl_and_liquidation_are_in_coins() -> None:
    inst = perp("BTC/USD:BTC", tiers_from_rows([(0, 5, 125, "0.004", 0)]), inverse=True, size="100")
    qty, entry = D(100), D(50000)  # 100 contracts of 100 USD = 10,000 USD = 0.2 BTC
    assert M.settle_notional(inst, qty, entry) == D("0.2")
    assert M.quote_notional(inst, qty, entry) == D(10000)
    assert M.pnl(inst, qty, entry, D(55000)) == 10000 * (D(1) / 50000 - D(1) / 55000)
    wallet = M.initial_margin(inst, qty, entry, D(20))  # 0.01 BTC
    liq = M.liquidation_price(inst, qty, entry, wallet)
    assert liq is not None and liq < entry
    balance = wallet + M.pnl(inst, qty, entry, liq)
    assert abs(balance - M.maintenance_margin(inst, qty, liq)) < D("1e-12")


def test_tiers_pick_the_bracket_and_cap_leverage() -> None:
    tiers = tiers_from_rows([(0, 50_000, 50, "0.01", 0), (50_000, 150_000, 20, "0.025", 750)])
    assert tier_for(tiers, D(10_000)).max_leverage == 50
    assert tier_for(tiers, D(50_000)).max_leverage == 20
    assert tier_for(tiers, D(10**9)).max_leverage == 20  # beyond the table: its last bracket
    # The maintenance amount keeps the maintenance margin continuous at the bracket's edge.
    at_edge = D(50_000)
    assert tiers[0].maintenance(at_edge) == tiers[1].maintenance(at_edge)


def test_funding_longs_pay_shorts_when_the_rate_is_positive() -> None:
    qty, mark, rate = D("0.5"), D(60000), D("0.0001")
    assert M.funding_payment(BTC, qty, mark, rate) == D("-3")
    assert M.funding_payment(BTC, -qty, mark, rate) == D("3")
    assert M.funding_payment(BTC, qty, mark, -rate) == D("3")


def test_funding_rate_follows_binances_rule() -> None:
    cap = D("0.03")
    # A small premium is pulled to the interest rate (0.01 % per 8 h) by the +-0.05 % clamp.
    assert M.funding_rate(D("0.0002"), cap) == D("0.0001")
    assert M.funding_rate(D("-0.0003"), cap) == D("0.0001")
    assert M.funding_rate(D("-0.001"), cap) == D("-0.0005")  # the clamp: -0.1 % + 0.05 %
    assert M.funding_rate(D("0.002"), cap) == D("0.002") - D("0.0005")
    assert M.funding_rate(D("0.5"), cap) == cap
