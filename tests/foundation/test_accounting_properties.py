"""Accounting invariants over random order flows (hypothesis)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from tui_trader.core.enums import OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine.testing import manual_engine, paper_settings, paper_venue, step

SYMBOLS = ["BTC/USDT", "ETH/USDT", "AAPL"]
QTY = {"BTC/USDT": ["0.01", "0.1", "0.37"], "ETH/USDT": ["0.5", "1", "3.3"], "AAPL": ["1", "7", "25.5"]}

ops = st.lists(
    st.tuples(
        st.sampled_from(SYMBOLS),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(0, 2),
        st.sampled_from([OrderType.MARKET, OrderType.LIMIT]),
        st.integers(-20, 20),
        st.integers(0, 6),
    ),
    min_size=1,
    max_size=25,
)


def run(flow: list[tuple]) -> tuple:
    async def go():
        eng = manual_engine(paper_settings(seed=11))
        await eng.start()
        await step(eng, 2)
        for symbol, side, qi, otype, offset_bp, steps in flow:
            qty = D(QTY[symbol][qi])
            price = None
            if otype is OrderType.LIMIT:
                inst = eng.instrument("paper", symbol)
                price = inst.round_price(D(str(eng.mid(symbol) * (1 + offset_bp / 1e4))))
            await eng.place(OrderRequest(symbol, side, qty, otype, price=price))
            await step(eng, steps)
        await eng.oms.flush()
        fills = list(await eng.store.load_fills())
        result = (eng.portfolio, fills, paper_venue(eng).account)
        await eng.stop()
        return result

    return asyncio.run(go())


@settings(max_examples=30)
@given(ops)
def test_accounting_invariants(flow) -> None:
    portfolio, fills, account = run(flow)
    # 1. Every position equals the sum of its signed fills, in the engine and at the venue.
    expected: dict[str, D] = defaultdict(D)
    for f in fills:
        expected[f.symbol] += f.signed_quantity
    for symbol in SYMBOLS:
        pos = portfolio.positions.get(("paper", symbol))
        got = pos.quantity if pos else D(0)
        assert got == expected[symbol]
        assert account.position(symbol) == expected[symbol]  # the venue agrees
    # 2. Cash + positions at cost (net of realized P&L) + fees paid equals the starting cash.
    start = {"USDT": D("100000.0"), "USD": D("100000.0")}
    held_at_cost: dict[str, D] = defaultdict(D)
    fees: dict[str, D] = defaultdict(D)
    for pos in portfolio.positions.values():
        ccy = "USD" if "/" not in pos.symbol else pos.symbol.split("/")[1]
        held_at_cost[ccy] += pos.cost_basis - pos.realized_pnl
        fees[ccy] += pos.fees
    for ccy, initial in start.items():
        # Average prices are divisions: allow for Decimal's 28-digit rounding, nothing more.
        assert abs(portfolio.cash[ccy] + held_at_cost[ccy] + fees[ccy] - initial) < D("1e-12")
        assert account.cash[ccy] == portfolio.cash[ccy]  # engine and venue books agree
