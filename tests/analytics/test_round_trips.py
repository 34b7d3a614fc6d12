"""Closed trades for the performance pane: prices from the fills, MFE / MAE from the bars the
trade lived through, and the summary. Hand-computed expectations."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tui_trader.analytics.round_trips import excursions, max_drawdown, ns, round_trip_prices, summary
from tui_trader.core.enums import Liquidity, Side
from tui_trader.core.fills import Fill
from tui_trader.core.market import Candle

T0 = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


def fill(i: int, side: Side, qty: str, price: str, minute: int, symbol: str = "BTC/USDT") -> Fill:
    return Fill(f"f{i}", f"o{i}", "paper", symbol, side, Decimal(qty), Decimal(price), Decimal(0), "USDT",
                Liquidity.TAKER, T0 + timedelta(minutes=minute))  # fmt: skip


def bar(minute: int, high: float, low: float) -> Candle:
    return Candle("BTC/USDT", "1m", T0 + timedelta(minutes=minute), low, high, low, high, 1.0)


def test_entry_and_exit_are_volume_weighted_inside_the_trade() -> None:
    fills = [
        fill(0, Side.SELL, "1", "90", -5),  # before the trade: not part of it
        fill(1, Side.BUY, "1", "100", 0),
        fill(2, Side.BUY, "3", "104", 2),  # added: entry (100 + 312) / 4 = 103
        fill(3, Side.SELL, "4", "110", 6),
        fill(4, Side.BUY, "1", "1", 3, symbol="ETH/USDT"),  # another market
    ]
    prices = round_trip_prices(fills, "BTC/USDT", 1, ns(T0), ns(T0 + timedelta(minutes=6)))
    assert prices.entry == pytest.approx(103.0) and prices.exit == pytest.approx(110.0) and prices.quantity == 4.0


def test_mfe_and_mae_of_a_long_and_a_short() -> None:
    candles = [bar(-2, 130, 50), bar(0, 105, 98), bar(1, 112, 101), bar(2, 108, 95), bar(5, 200, 10)]
    entry_ns, exit_ns = ns(T0 + timedelta(seconds=30)), ns(T0 + timedelta(minutes=2, seconds=30))
    mfe, mae = excursions(1, 100.0, candles, entry_ns, exit_ns)  # bars 0, 1, 2 only
    assert mfe == pytest.approx(0.12) and mae == pytest.approx(-0.05)
    mfe, mae = excursions(-1, 100.0, candles, entry_ns, exit_ns)
    assert mfe == pytest.approx(0.05) and mae == pytest.approx(-0.12)
    assert all(math.isnan(x) for x in excursions(1, 100.0, [], entry_ns, exit_ns))  # no history: unknown
    assert all(math.isnan(x) for x in excursions(1, 100.0, [], entry_ns, exit_ns, 101.0))  # 2 min: unknown
    # The exit is a price the trade surely saw (a fast exit beyond the last bar's range).
    mfe, mae = excursions(1, 100.0, candles, entry_ns, exit_ns, 115.0)
    assert mfe == pytest.approx(0.15) and mae == pytest.approx(-0.05)
    # Inside the forming minute (no bar yet): measured from the entry and the exit alone.
    mfe, mae = excursions(-1, 100.0, [], entry_ns, entry_ns + 20_000_000_000, 102.0)
    assert mfe == 0.0 and mae == pytest.approx(-0.02)


def test_summary_and_drawdown() -> None:
    s = summary([30.0, -10.0, 20.0, -20.0], [100, 120, 90, 110, 130, 65])
    assert s["trades"] == 4 and s["win_rate"] == 0.5 and s["net"] == 20.0
    assert s["profit_factor"] == pytest.approx(50 / 30) and s["expectancy"] == 5.0
    assert s["best"] == 30.0 and s["worst"] == -20.0
    assert s["max_drawdown"] == pytest.approx(-0.5)
    assert summary([])["win_rate"] is None and max_drawdown([]) is None
