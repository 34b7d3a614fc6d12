"""Several symbols sharing one wallet: walks entry candidates in time order, not every bar.

Each symbol holds at most one trade. A candidate entry is taken if a slot is free
(max_open_trades), the protections allow it and the sizer's stake is affordable; its exit is
found by the kernel at once, since it depends only on that symbol's candles. Cash comes back
when the exit happens: an exit at a bar's open frees cash for entries at that same open, an
exit inside a bar frees it from the next bar on.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tui_trader.backtest.fills import FillModel
from tui_trader.backtest.kernel import EXIT_SIGNAL, excursions, find_exit
from tui_trader.backtest.reference import find_exit_reference, needs_reference
from tui_trader.backtest.rules import ExitRules
from tui_trader.backtest.signals import SymbolSignals
from tui_trader.backtest.sizing import ClosedTrade, Protection, Sizer, StakeRequest


@dataclass(slots=True)
class TradeRecord:
    """One simulated round trip (prices are fills, after slippage)."""

    symbol: str
    side: int
    entry_bar: int
    exit_bar: int
    entry_ns: int
    exit_ns: int
    entry_price: float
    exit_price: float
    quantity: float
    entry_fee: float
    exit_fee: float
    pnl: float
    pnl_pct: float
    exit_reason: str
    mfe: float
    mae: float
    enter_tag: str | None
    exit_tag: str | None
    reserved: float  # cash committed at entry (stake + entry fee)
    exit_at_open: bool


@dataclass(slots=True)
class SimulationOutput:
    trades: list[TradeRecord]
    rejected: Counter[str] = field(default_factory=Counter)
    final_cash: float = 0.0


def simulate(
    symbols: Sequence[SymbolSignals],
    rules: ExitRules,
    fills: FillModel,
    sizer: Sizer,
    *,
    capital: float,
    max_open_trades: int | None,
    protections: Sequence[Protection] = (),
    min_stake: float = 0.0,
    strategy: Any = None,
) -> SimulationOutput:
    """Run every symbol's candidates through one wallet; returns trades in entry order."""
    out = SimulationOutput(trades=[])
    cash = capital
    tied = 0.0
    open_heap: list[tuple[int, int, int]] = []  # (exit_ns, 0 at open / 1 inside bar, trade idx)
    closed: list[ClosedTrade] = []
    cand_times = [s.market.time[s.entry_bars] for s in symbols]
    todo: list[tuple[int, int, int]] = [
        (int(ct[0]), i, 0) for i, ct in enumerate(cand_times) if len(ct)
    ]
    heapq.heapify(todo)

    def release_until(t: int) -> None:
        nonlocal cash, tied
        while open_heap and (
            open_heap[0][0] < t or (open_heap[0][0] == t and open_heap[0][1] == 0)
        ):
            _, _, idx = heapq.heappop(open_heap)
            tr = out.trades[idx]
            cash += tr.reserved + tr.pnl
            tied -= tr.reserved
            closed.append(
                ClosedTrade(
                    tr.symbol, tr.side, tr.entry_ns, tr.exit_ns, tr.pnl, tr.pnl_pct, tr.exit_reason
                )
            )

    def after_next_release(si: int, ptr: int) -> int:
        """Index of the symbol's first candidate at or after the next release of cash/slot."""
        if not open_heap:
            return len(cand_times[si])
        t, inside, _ = open_heap[0]
        nxt = int(np.searchsorted(cand_times[si], t, side="right" if inside else "left"))
        return max(nxt, ptr + 1)

    while todo:
        t, si, ptr = heapq.heappop(todo)
        release_until(t)
        sym = symbols[si]
        m = sym.market
        e = int(sym.entry_bars[ptr])
        side = int(sym.entry_sides[ptr])
        tag = sym.entry_tags[ptr]
        nxt = ptr + 1
        if max_open_trades is not None and len(open_heap) >= max_open_trades:
            out.rejected["max_open_trades"] += 1
            nxt = after_next_release(si, ptr)
        elif protections and not all(
            p.allows_entry(sym.symbol, t, side, closed) for p in protections
        ):
            out.rejected["protection"] += 1
        else:
            raw = float(m.open[e])
            stake = sizer.stake(
                StakeRequest(
                    sym.symbol,
                    t,
                    raw,
                    side,
                    tag,
                    cash,
                    tied,
                    len(open_heap),
                    max_open_trades,
                    fills.taker_fee,
                )
            )
            if stake <= 0 or stake < min_stake:
                out.rejected["stake"] += 1
            elif stake * (1.0 + fills.taker_fee) > cash * (1.0 + 1e-12):
                out.rejected["insufficient_capital"] += 1
                nxt = after_next_release(si, ptr)
            else:
                tr = _open_and_close(sym, e, side, tag, stake, rules, fills, strategy)
                cash -= tr.reserved
                tied += tr.reserved
                idx = len(out.trades)
                out.trades.append(tr)
                heapq.heappush(open_heap, (tr.exit_ns, 0 if tr.exit_at_open else 1, idx))
                first_free = tr.exit_bar if tr.exit_at_open else tr.exit_bar + 1
                nxt = max(int(np.searchsorted(sym.entry_bars, first_free, side="left")), ptr + 1)
        if nxt < len(cand_times[si]):
            heapq.heappush(todo, (int(cand_times[si][nxt]), si, nxt))
    release_until(np.iinfo(np.int64).max)
    out.final_cash = cash
    return out


def first_signal_bar(
    sym: SymbolSignals, e: int, side: int, entry: float, rules: ExitRules
) -> int | None:
    """Fill bar of the first exit signal from the entry candle on (exit_profit_only applied)."""
    fills = sym.exit_fills(side)
    k = int(np.searchsorted(fills, e + sym.shift, side="left"))
    if not rules.exit_profit_only:
        return int(fills[k]) if k < len(fills) else None
    closes = sym.market.close
    while k < len(fills):
        chunk = fills[k : k + 256]
        profit = closes[chunk - sym.shift] / entry - 1.0
        if side < 0:
            profit = -profit
        ok = np.flatnonzero(profit > rules.exit_profit_offset)
        if len(ok):
            return int(chunk[ok[0]])
        k += len(chunk)
    return None


def _open_and_close(
    sym: SymbolSignals,
    e: int,
    side: int,
    tag: str | None,
    stake: float,
    rules: ExitRules,
    fills: FillModel,
    strategy: Any,
) -> TradeRecord:
    m = sym.market
    raw = float(m.open[e])
    entry = fills.slipped(raw, buying=side > 0, quantity=stake / raw, bar_volume=float(m.volume[e]))
    qty = stake / entry
    exit_tag = None
    if needs_reference(strategy):
        ex, exit_tag = find_exit_reference(strategy, sym, e, side, entry, qty, tag)
    else:
        ex = find_exit(
            m,
            e,
            side,
            entry,
            rules,
            signal_bar=first_signal_bar(sym, e, side, entry, rules),
            roi_blocked=sym.enter_flag(side) if rules.ignore_roi_if_entry_signal else None,
        )
    if ex.reason == EXIT_SIGNAL:
        exit_tag = sym.exit_tags[ex.bar - sym.shift]
    exit_price = fills.exit_price(ex.price, ex.reason, side, qty, float(m.volume[ex.bar]))
    fee_in = qty * entry * fills.taker_fee
    fee_out = qty * exit_price * fills.exit_fee_rate(ex.reason)
    if side > 0:
        open_value = qty * entry + fee_in
        pnl = qty * exit_price - fee_out - open_value
    else:
        open_value = qty * entry - fee_in
        pnl = open_value - (qty * exit_price + fee_out)
    mfe, mae = excursions(m, e, ex.bar, side, entry, exit_price)
    return TradeRecord(
        symbol=sym.symbol,
        side=side,
        entry_bar=e,
        exit_bar=ex.bar,
        entry_ns=int(m.time[e]),
        exit_ns=int(m.time[ex.bar]),
        entry_price=entry,
        exit_price=exit_price,
        quantity=qty,
        entry_fee=fee_in,
        exit_fee=fee_out,
        pnl=pnl,
        pnl_pct=pnl / open_value,
        exit_reason=ex.reason,
        mfe=mfe,
        mae=mae,
        enter_tag=tag,
        exit_tag=exit_tag,
        reserved=stake + fee_in,
        exit_at_open=ex.at_open,
    )
