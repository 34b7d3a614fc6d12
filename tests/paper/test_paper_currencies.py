"""Balances per currency: USDT is not USD. Equity is reported in one currency, each other
currency converted at the live rate of a quoted pair; the status bar names when a market opens."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import Liquidity, Side
from tui_trader.core.fills import Fill
from tui_trader.core.orders import OrderRequest
from tui_trader.engine.testing import manual_engine, step
from tui_trader.execution.portfolio import Portfolio

T0 = datetime(2026, 12, 6, 15, tzinfo=UTC)  # a Sunday


def test_each_currency_converts_at_its_own_rate() -> None:
    p = Portfolio("USD")
    p.set_cash("USD", D(100_000))
    p.set_cash("USDT", D(100_000))
    p.set_cash("JPY", D(1_500_000))
    p.set_cash("XYZ", D(10))
    p.mark("paper", "USDT/USD", 0.9990)
    p.mark("paper", "USD/JPY", 150.0)
    fill = Fill("f1", "c1", "paper", "BTC/USDT", Side.BUY, D(1), D(60_000), D(0), "USDT", Liquidity.TAKER, T0)
    p.apply_fill(fill)
    p.mark("paper", "BTC/USDT", 61_000.0)
    snap = p.snapshot(T0)
    by = {b.currency: b for b in snap.balances}
    assert by["USDT"].cash == 40_000 and by["USDT"].positions == 61_000 and by["USDT"].rate == 0.9990
    assert by["JPY"].rate == pytest.approx(1 / 150) and by["XYZ"].rate is None
    expected = 100_000 + 101_000 * 0.9990 + 1_500_000 / 150 + 10  # XYZ has no quote: counted 1:1
    assert snap.equity == pytest.approx(expected)
    assert snap.currency == "USD" and snap.net_exposure == pytest.approx(61_000 * 0.9990)
    assert snap.equity != 100_000 + 100_000 - 60_000 + 61_000 + 10_000 + 10  # not added as one currency


def test_the_equity_alone_is_the_snapshots_to_the_last_bit_and_keeps_the_day_and_peak_alike() -> None:
    """The breakers and the sizer read `Portfolio.equity` on every order instead of a whole
    snapshot: over seeded portfolios (several currencies, rates or none, long, short and flat
    positions, cash only in some) it is the snapshot's equity exactly, and a day's first
    equity and the peak come out the same whichever of the two saw them first."""
    import random
    from datetime import timedelta

    rng = random.Random(11)
    currencies = ["USD", "USDT", "JPY", "EUR", "XYZ"]
    pairs = {"USDT": "USDT/USD", "JPY": "USD/JPY", "EUR": "EUR/USD"}
    for case in range(60):
        one, two = Portfolio("USD"), Portfolio("USD")
        steps = []
        for k in range(rng.randint(1, 12)):
            kind = rng.choice(["cash", "rate", "fill", "mark"])
            ccy = rng.choice(currencies)
            if kind == "cash":
                steps.append(("set_cash", (ccy, D(str(round(rng.uniform(-5e4, 2e6), 2))))))
            elif kind == "rate" and ccy in pairs:
                rate = 150.0 * rng.uniform(0.9, 1.1) if ccy == "JPY" else rng.uniform(0.9, 1.2)
                steps.append(("mark", ("paper", pairs[ccy], rate)))
            elif kind == "fill":
                sym = rng.choice(["BTC/USDT", "ETH/EUR", "AAPL"])
                side = rng.choice([Side.BUY, Side.SELL])
                qty, px = D(str(rng.randint(1, 40) / 10)), D(str(round(rng.uniform(50, 5000), 2)))
                quote = {"BTC/USDT": "USDT", "ETH/EUR": "EUR", "AAPL": "USD"}[sym]
                steps.append(("apply_fill", (Fill(f"f{case}-{k}", "c", "paper", sym, side, qty, px, D("0.5"), quote,
                                                  Liquidity.TAKER, T0),)))
            else:
                steps.append(("mark", ("paper", rng.choice(["BTC/USDT", "ETH/EUR", "AAPL"]), rng.uniform(40, 6000))))
        for day, (name, args) in enumerate(steps):
            for p in (one, two):
                getattr(p, name)(*args)
            now = T0 + timedelta(hours=9 * day)
            assert one.equity(now) == two.snapshot(now).equity, (case, day)
            assert (one.day_start_equity, one.peak_equity) == (two.day_start_equity, two.peak_equity), (case, day)
        assert one.cash_value() == two.snapshot(T0 + timedelta(days=9)).cash, case


async def test_the_engine_reports_balances_and_when_markets_open() -> None:
    eng = manual_engine(clock=FrozenClock(T0))
    await eng.start()
    try:
        await step(eng, 2)
        await eng.place(OrderRequest("BTC/USDT", Side.BUY, D("0.1")))
        acct = eng.account()
        by = {b.currency: b for b in acct.balances}
        rate = eng.mid("USDT/USD")
        assert set(by) == {"USDT", "USD"} and by["USDT"].rate == pytest.approx(rate)
        assert 0.99 < rate < 1.01 and rate != 1.0
        assert acct.equity == pytest.approx(by["USD"].value + by["USDT"].value)
        notes = eng.snapshot().extra["sessions"]
        assert notes["AAPL"] == "NYSE closed, opens Mon 14:30 UTC (in 23h 29m)"
        assert notes["EUR/USD"].startswith("FX closed, opens Sun 22:00 UTC") and "BTC/USDT" not in notes
    finally:
        await eng.stop()
