"""Per-bar equity and buy-and-hold benchmark from the trades, without a loop over bars."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tui_trader.backtest.portfolio import TradeRecord
from tui_trader.backtest.signals import SymbolSignals


def global_index(symbols: Sequence[SymbolSignals]) -> np.ndarray:
    """Union of every symbol's bar times (int64 ns), ascending."""
    if len(symbols) == 1:
        return symbols[0].market.time
    return np.unique(np.concatenate([s.market.time for s in symbols]))


def _closes_on(index: np.ndarray, sym: SymbolSignals) -> np.ndarray:
    """The symbol's close on every global bar, carried forward over its gaps (NaN before start)."""
    m = sym.market
    if len(index) == len(m.time) and index is m.time:
        return m.close
    out = np.full(len(index), np.nan)
    pos = np.searchsorted(index, m.time)
    out[pos] = m.close
    have = np.where(np.isnan(out), 0, np.arange(len(index)))
    np.maximum.accumulate(have, out=have)
    filled = out[have]
    filled[: pos[0]] = np.nan
    return filled


def equity_curves(
    symbols: Sequence[SymbolSignals], trades: Sequence[TradeRecord], capital: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bar times, equity at each close, buy-and-hold benchmark) on the union of bar times.

    Equity = capital + realized P&L + open trades marked at the close, less their entry fee.
    The benchmark splits the capital equally over the symbols at their first close.
    """
    index = global_index(symbols)
    n = len(index)
    closes = {s.symbol: _closes_on(index, s) for s in symbols}
    by_symbol = {s.symbol: s for s in symbols}
    realized = np.zeros(n)
    unrealized = np.zeros(n)
    for tr in trades:
        times = by_symbol[tr.symbol].market.time
        ge = int(np.searchsorted(index, times[tr.entry_bar]))
        gx = int(np.searchsorted(index, times[tr.exit_bar]))
        realized[gx] += tr.pnl
        if gx > ge:
            marks = closes[tr.symbol][ge:gx]
            unrealized[ge:gx] += tr.side * tr.quantity * (marks - tr.entry_price) - tr.entry_fee
    equity = capital + np.cumsum(realized) + unrealized
    growth = np.zeros(n)
    for s in symbols:
        c = closes[s.symbol]
        first = c[np.flatnonzero(~np.isnan(c))[0]]
        growth += np.where(np.isnan(c), 1.0, c / first)
    benchmark = capital * growth / len(symbols)
    return index, equity, benchmark
