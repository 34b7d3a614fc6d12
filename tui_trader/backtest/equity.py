"""Per-bar equity and buy-and-hold benchmark from the trades, without a loop over bars or trades."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tui_trader.backtest.portfolio import Trades
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
    symbols: Sequence[SymbolSignals],
    trades: Trades,
    capital: float,
    *,
    benchmark: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(bar times, equity at each close, buy-and-hold benchmark or None) on the union of bar
    times.

    Equity = capital + realized P&L (added at each exit bar, then a cumulative sum) + open
    trades marked at the close, less their entry fee, on the bars [entry, exit) only: a
    symbol holds one trade at a time, so those bars are gathered for all its trades at once.
    The benchmark splits the capital equally over the symbols at their first close.
    """
    index = global_index(symbols)
    n = len(index)
    closes = [_closes_on(index, s) for s in symbols]
    realized = np.zeros(n)
    unrealized = np.zeros(n)
    for si, sym in enumerate(symbols):
        rows = np.flatnonzero(trades.symbol == si) if len(symbols) > 1 else np.arange(len(trades))
        if not len(rows):
            continue
        times = sym.market.time
        if index is times:
            ge, gx = trades.entry_bar[rows], trades.exit_bar[rows]
        else:
            ge = np.searchsorted(index, times[trades.entry_bar[rows]])
            gx = np.searchsorted(index, times[trades.exit_bar[rows]])
        np.add.at(realized, gx, trades.pnl[rows])
        lengths = gx - ge
        bars = np.arange(int(lengths.sum())) + np.repeat(ge - (np.cumsum(lengths) - lengths), lengths)
        unit = trades.side[rows] * trades.quantity[rows]
        # each trade's values repeated over its bars (what indexing by the bar's owner gives)
        unrealized[bars] += np.repeat(unit, lengths) * (
            closes[si][bars] - np.repeat(trades.entry_price[rows], lengths)
        ) - np.repeat(trades.entry_fee[rows], lengths)
    equity = capital + np.cumsum(realized) + unrealized
    if not benchmark:
        return index, equity, None
    growth = np.zeros(n)
    for c in closes:
        first = c[np.flatnonzero(~np.isnan(c))[0]]
        growth += np.where(np.isnan(c), 1.0, c / first)
    return index, equity, capital * growth / len(symbols)
