"""Several symbols sharing one wallet: walks entry candidates in time order, not every bar.

Each symbol holds at most one trade. A candidate entry is taken if a slot is free
(max_open_trades), the protections allow it and the sizer's stake is affordable; its exit
depends only on that symbol's candles, so the exits of all candidates are found up front in
one batch (`batch.find_exits`), or per trade by the kernel when slippage depends on the
stake, or bar by bar when a Python hook decides exits.

As in Freqtrade's backtester, within one candle the symbols with open trades are handled
first: every exit in a candle (at its open or inside it) frees its slot and its stake for the
other symbols' entries in that candle, and a symbol enters again from the next candle on. The
wallet ties up the stakes; fees are paid out of each trade's profit when it closes.

One symbol whose entries run no Python of the strategy's takes a plain loop instead
(`backtest.single`), with the same numbers.

One module on purpose (about 640 lines): the candidate walk, the wallet and the slot rules
are one algorithm whose order of operations is what Freqtrade parity depends on.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_trader.backtest.batch import REASONS, find_exit, find_exits, signal_bars
from tui_trader.backtest.fills import FillModel
from tui_trader.backtest.kernel import EXIT_SIGNAL, FORCE_EXIT, ROI
from tui_trader.backtest.planned import PlannedExits, Settled, settled_rows
from tui_trader.backtest.reference import entry_pricer, find_exit_reference, needs_reference
from tui_trader.backtest.rules import ExitRules
from tui_trader.backtest.signals import SymbolSignals, untagged
from tui_trader.backtest.single import round_trip, walk_single
from tui_trader.backtest.sizing import (
    ClosedTrade,
    Protection,
    Sizer,
    StakeRequest,
    stake_function,
)
from tui_trader.core.clock import utc_datetime
from tui_trader.core.errors import UsageError
from tui_trader.core.lazy import LazyLogger
from tui_trader.strategy.dataprovider import BacktestWallets, DataProvider
from tui_trader.strategy.hooks import overridden_hook
from tui_trader.strategy.locks import PairLocks
from tui_trader.strategy.precision import price_round, round_down, round_nearest

if TYPE_CHECKING:  # only its type: a spot backtest does not import it
    from tui_trader.backtest.futures import Futures

log = LazyLogger(__name__)


class TradeLog:
    """The simulated round trips as rows (one tuple append per trade is the cheap part of a
    per-trade loop); `arrays()` turns them into a `Trades` of NumPy arrays."""

    FIELDS: tuple[str, ...] = (
        "symbol", "side", "entry_bar", "exit_bar", "entry_ns", "exit_ns", "entry_price",
        "exit_price", "quantity", "entry_fee", "exit_fee", "pnl", "pnl_pct", "exit_reason",
        "enter_tag", "exit_tag", "reserved", "exit_at_open",
    )  # fmt: skip
    RESERVED = FIELDS.index("reserved")
    PNL = FIELDS.index("pnl")

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, row: tuple[Any, ...]) -> int:
        """Append one trade (values in FIELDS order); returns its index."""
        self.rows.append(row)
        return len(self.rows) - 1

    def arrays(self) -> Trades:
        c = dict(zip(self.FIELDS, zip(*self.rows, strict=True), strict=True)) if self.rows else {
            f: () for f in self.FIELDS
        }
        ints = {f: np.asarray(c[f], dtype=np.int64) for f in self.FIELDS[:6]}
        floats = {f: np.asarray(c[f], dtype=np.float64) for f in self.FIELDS[6:13]}
        return Trades(
            **ints,
            **floats,
            exit_reason=list(c["exit_reason"]),
            enter_tag=list(c["enter_tag"]),
            exit_tag=list(c["exit_tag"]),
            exit_at_open=np.asarray(c["exit_at_open"], dtype=bool),
        )


@dataclass(frozen=True, slots=True)
class Trades:
    """Every simulated round trip in entry order, one array per field (prices are fills,
    after slippage); `symbol` indexes the simulated symbols (MFE/MAE: `excursions_of`)."""

    symbol: np.ndarray
    side: np.ndarray
    entry_bar: np.ndarray
    exit_bar: np.ndarray
    entry_ns: np.ndarray
    exit_ns: np.ndarray
    entry_price: np.ndarray
    exit_price: np.ndarray
    quantity: np.ndarray
    entry_fee: np.ndarray
    exit_fee: np.ndarray
    pnl: np.ndarray
    pnl_pct: np.ndarray
    exit_reason: list[str]
    enter_tag: list[str | None]
    exit_tag: list[str | None]
    exit_at_open: np.ndarray

    def __len__(self) -> int:
        return len(self.pnl)


@dataclass(slots=True)
class SimulationOutput:
    trades: Trades
    rejected: Counter[str] = field(default_factory=Counter)
    final_cash: float = 0.0




def settle_exits(sym: SymbolSignals, fills: FillModel, sides: np.ndarray, bars: np.ndarray,
                 raw: np.ndarray, reasons: list[str]) -> list[tuple[str, str | None, float, float]]:  # fmt: skip
    """(reason as recorded, exit tag, exit fill, fee rate) of planned exits (`settle_columns`)."""
    return settled_rows(settle_columns(sym, fills, sides, bars, raw, reasons))


def settle_columns(sym: SymbolSignals, fills: FillModel, sides: np.ndarray, bars: np.ndarray,
                   raw: np.ndarray, reasons: list[str]) -> Settled:  # fmt: skip
    """`settle_exits` as columns: an exit signal is recorded under its candle's exit_tag (as
    Freqtrade does), ROI limits fill at their price with the maker fee, every other exit is a
    market order (fixed slippage only: the batch runs without volume-aware slippage)."""
    count = len(reasons)
    # object arrays compared and tested cell by cell in NumPy's loops (each cell's == and
    # truth as Python's), not in generator expressions: ~12,000 exits a year of 1m bars
    names = np.empty(count, dtype=object)
    names[:] = reasons
    tags = np.full(count, None, dtype=object)
    signal = names == EXIT_SIGNAL
    if signal.any():
        found = sym.exit_tags[bars[signal] - sym.shift]
        tags[signal] = np.where(untagged(found), None, found)
    recorded = np.where(tags.astype(bool), tags, names)  # `tag or reason`
    roi = np.asarray(recorded == ROI, dtype=bool)
    frac = fills.slippage_bps / 10_000.0
    price = np.where(roi, raw, np.where(sides < 0, raw * (1.0 + frac), raw * (1.0 - frac)))
    rate = np.where(roi, fills.maker_fee, fills.taker_fee)
    return recorded, tags, np.asarray(price, dtype=np.float64), np.asarray(rate, dtype=np.float64)


def plan_exits(sym: SymbolSignals, rules: ExitRules, fills: FillModel) -> PlannedExits:
    """Entry fill price and first exit of every candidate entry (fixed slippage only)."""
    m = sym.market
    e = sym.entry_bars
    frac = fills.slippage_bps / 10_000.0
    raw = m.open[e]
    paid = np.where(sym.entry_sides > 0, raw * (1.0 + frac), raw * (1.0 - frac))
    # the trade's open rate is on the tick, as Freqtrade rounds it; the amount is bought at
    # the price paid
    prices = round_nearest(paid, m.tick[e])
    if rules.exit_profit_only:
        signal = np.array(
            [
                -1
                if (b := first_signal_bar(sym, int(i), int(s), float(p), rules, fills.taker_fee))
                is None
                else b
                for i, s, p in zip(e, sym.entry_sides, prices, strict=True)
            ],
            dtype=np.int64,
        )
    else:
        signal = np.where(
            sym.entry_sides > 0,
            signal_bars(sym.exit_long, e, sym.shift),
            signal_bars(sym.exit_short, e, sym.shift),
        )
    blocked = (sym.roi_blocked(1), sym.roi_blocked(-1)) if rules.ignore_roi_if_entry_signal else None
    d = sym.detail
    if d is None:
        ex = find_exits(m, e, sym.entry_sides, prices, rules, signal, blocked, fee=fills.taker_fee)
        bars, times = ex.bar, m.time[ex.bar]
    else:  # exits on the finer candles: bars and signals moved onto them, then back
        to_d = np.searchsorted(d.time, m.time)  # each main candle's first finer candle
        owner = np.searchsorted(m.time, d.time, side="right") - 1
        blocked_d = None if blocked is None else (blocked[0][owner], blocked[1][owner])
        signal_d = np.where(signal >= 0, to_d[np.maximum(signal, 0)], -1)
        last = len(m) - 1
        ex = find_exits(
            d, to_d[e], sym.entry_sides, prices, rules, signal_d, blocked_d, fee=fills.taker_fee,
            timeframe_minutes=int(m.bar_ns // 60_000_000_000),
            end=(len(d) - 1, float(m.open[last])),
        )  # fmt: skip
        forced = ex.reason == REASONS.index(FORCE_EXIT)
        bars = np.where(forced, last, owner[ex.bar])
        times = np.where(forced, m.time[last], d.time[ex.bar])
    reasons = [REASONS[r] for r in ex.reason.tolist()]
    settled = settle_columns(sym, fills, sym.entry_sides, bars, ex.price, reasons)
    return PlannedExits(prices, paid, bars, ex.price, reasons, ex.at_open, times, settled,
                        None if d is None else signal_d)  # fmt: skip


def detail_exit(sym: SymbolSignals, rules: ExitRules, fills: FillModel, k: int, side: int,
                signal_d: int) -> tuple[float, float, tuple[int, float, str, bool, int]]:  # fmt: skip
    """(open rate, price paid, planned exit) of an entry at the open of finer candle `k`."""
    d, m = sym.detail, sym.market
    assert d is not None
    frac = fills.slippage_bps / 10_000.0
    paid = float(d.open[k]) * (1.0 + frac if side > 0 else 1.0 - frac)
    price = float(round_nearest(paid, d.tick[k]))
    owner = np.searchsorted(m.time, d.time, side="right") - 1
    blocked = None
    if rules.ignore_roi_if_entry_signal:
        blocked = (sym.roi_blocked(1)[owner], sym.roi_blocked(-1)[owner])
    last = len(m) - 1
    ex = find_exits(
        d, np.array([k]), np.array([side]), np.array([price]), rules, np.array([signal_d]),
        blocked, fee=fills.taker_fee, timeframe_minutes=int(m.bar_ns // 60_000_000_000),
        end=(len(d) - 1, float(m.open[last])),
    )  # fmt: skip
    bar = int(ex.bar[0])
    if REASONS[int(ex.reason[0])] == FORCE_EXIT:
        row = (last, float(ex.price[0]), FORCE_EXIT, True, int(m.time[last]))
    else:
        row = (int(owner[bar]), float(ex.price[0]), REASONS[int(ex.reason[0])],
               bool(ex.at_open[0]), int(d.time[bar]))  # fmt: skip
    return price, paid, row


def detail_plan(sym: SymbolSignals, rules: ExitRules, fills: FillModel, k: int, side: int,
                signal_d: int) -> PlannedExits:  # fmt: skip
    """The one-candidate plan of an entry at the open of finer candle `k` (`detail_exit`)."""
    price, paid, row = detail_exit(sym, rules, fills, k, side, signal_d)
    bar, raw = np.array([row[0]]), np.array([row[1]])
    settled = settle_columns(sym, fills, np.array([side]), bar, raw, [row[2]])
    return PlannedExits(np.array([price]), np.array([paid]), bar, raw, [row[2]], np.array([row[3]]),
                        np.array([row[4]]), settled)  # fmt: skip


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
    amount_step: float | None = None,
    futures: Futures | None = None,
) -> SimulationOutput:
    """Run every symbol's candidates through one wallet; returns trades in entry order.

    Exits come from one batch per symbol (`batch.find_exits`) unless a per-bar hook decides
    them (reference path) or slippage depends on the stake (then one kernel call per trade).
    """
    log = TradeLog()
    out = SimulationOutput(trades=None)  # type: ignore[arg-type]
    confirm_entry = entry_confirmer(strategy)
    price_entry = entry_pricer(strategy)
    dp = getattr(strategy, "dp", None)
    dp = dp if isinstance(dp, DataProvider) and dp.backtesting else None
    wallets = getattr(strategy, "wallets", None)
    wallets = wallets if isinstance(wallets, BacktestWallets) else None
    reference = needs_reference(strategy)
    batched = not reference and not fills.volume_impact
    if any(s.detail is not None for s in symbols) and not batched:
        raise UsageError(
            "--timeframe-detail works with strategies whose exits need no Python hook per "
            "candle and without volume-aware slippage; run without it"
        )
    plans = [plan_exits(s, rules, fills) if batched else None for s in symbols]
    track_closed = bool(protections) or getattr(sizer, "reads_closed_trades", True)
    ratio = float(getattr(sizer, "tradable_balance_ratio", 1.0))
    plan = plans[0] if len(symbols) == 1 else None
    if (
        plan is not None and symbols[0].detail is None and not protections and not PairLocks.locks
        and price_entry is None and confirm_entry is None and futures is None and not amount_step
        and (max_open_trades is None or max_open_trades >= 1)
        and (stake_of := stake_function(sizer, fills.taker_fee, max_open_trades)) is not None
    ):  # fmt: skip
        walked = walk_single(
            symbols[0], plan, stake_of, taker_fee=fills.taker_fee, capital=capital, ratio=ratio,
            min_stake=min_stake,
        )  # fmt: skip
        if walked is not None:  # the general walk's final state, as it leaves it
            columns, out.rejected, out.final_cash, last = walked
            if dp is not None and last is not None:
                dp.set_current(symbols[0].symbol, last)
            if wallets is not None and len(columns["pnl"]):
                wallets.free, wallets.used = out.final_cash, 0.0
            out.trades = Trades(**columns)
            return out
    rows = log.rows
    reserved_at, pnl_at = TradeLog.RESERVED, TradeLog.PNL
    # Python lists: indexing them per candidate is ~10x cheaper than NumPy scalars
    bars = [s.entry_bars.tolist() for s in symbols]
    sides = [s.entry_sides.tolist() for s in symbols]
    tags = [s.entry_tags.tolist() for s in symbols]
    opens = [s.market.open[s.entry_bars].tolist() for s in symbols]  # each candidate's raw entry
    cand_lists = [ct.tolist() for ct in (s.market.time[s.entry_bars] for s in symbols)]
    heappop, heappush = heapq.heappop, heapq.heappush
    cash = capital  # free: the capital plus closed profits, less the stakes of open trades
    tied = 0.0  # stakes of open trades
    open_heap: list[tuple[int, int, int]] = []  # (exit_ns, 0, trade idx)
    closed: list[ClosedTrade] = []
    todo: list[tuple[int, int, int]] = [(ct[0], i, 0) for i, ct in enumerate(cand_lists) if ct]
    heapq.heapify(todo)

    def release_until(t: int) -> None:
        """Every trade that exits in a candle before or at `t` frees its slot and stake."""
        nonlocal cash, tied
        while open_heap and open_heap[0][0] <= t:
            _, _, idx = heapq.heappop(open_heap)
            row = rows[idx]
            cash += row[reserved_at] + row[pnl_at]
            tied -= row[reserved_at]
            if wallets is not None:
                wallets.free, wallets.used = cash, tied
            if track_closed:
                closed.append(
                    ClosedTrade(
                        symbols[row[0]].symbol, row[1], row[4], row[5], row[11], row[12], row[13]
                    )
                )

    def after_next_release(si: int, ptr: int) -> int:
        """Index of the symbol's first candidate at or after the next release of cash/slot."""
        if not open_heap:
            return len(cand_lists[si])
        nxt = bisect_left(cand_lists[si], open_heap[0][0])
        return max(nxt, ptr + 1)

    # Freqtrade with finer candles: a pair whose trade opened and closed inside one finer
    # candle may enter again on the next finer candle of the same candle (id -> ptr, candle)
    extras: dict[int, tuple[int, int]] = {}
    while todo:
        t, si, ptr = heappop(todo)
        if open_heap and open_heap[0][0] <= t:
            release_until(t)
        sym = symbols[si]
        m = sym.market
        k_detail = -1
        if ptr < 0:
            ptr, k_detail = extras.pop(ptr)
        e = bars[si][ptr]
        side = sides[si][ptr]
        tag = tags[si][ptr]
        nxt = ptr + 1
        if dp is not None:
            dp.set_current(sym.symbol, t)  # the entry hooks read self.dp at this candle
        if max_open_trades is not None and len(open_heap) >= max_open_trades:
            out.rejected["max_open_trades"] += 1
            nxt = after_next_release(si, ptr)
        elif protections and not _protections_allow(protections, sym.symbol, t, side, closed,
                                                    cash + tied):  # fmt: skip
            out.rejected["protection"] += 1
        elif PairLocks.locks and PairLocks.is_pair_locked(
            sym.symbol, utc_datetime(t), "long" if side > 0 else "short"
        ):  # a lock the strategy set with lock_pair
            out.rejected["pair_locked"] += 1
        elif price_entry is not None and (
            raw_in := price_entry(sym.symbol, t, (float(m.open[e]), float(m.high[e]),
                                  float(m.low[e])), float(m.tick[e]), side, tag)
        ) is None:  # fmt: skip
            out.rejected["entry_not_filled"] += 1
        else:
            raw = opens[si][ptr] if price_entry is None else float(raw_in)
            if k_detail >= 0:
                raw = float(sym.detail.open[k_detail])  # type: ignore[union-attr]
            available = min((cash + tied) * ratio - tied, cash)
            if futures is not None:
                futures.check_leverage(strategy, sym.symbol, t, raw, side, tag)
            lev = 1.0 if futures is None else futures.leverage  # the stake is the margin
            stake = sizer.stake(
                StakeRequest(
                    sym.symbol,
                    t,
                    raw,
                    side,
                    tag,
                    available,
                    tied,
                    len(open_heap),
                    max_open_trades,
                    fills.taker_fee,
                    closed,
                )
            )
            if amount_step and stake > 0:  # the amount on the market's step, as Freqtrade
                stake = float(round_down(stake * lev / raw, amount_step)) * raw / lev
            if stake <= 0 or stake < min_stake:
                out.rejected["stake"] += 1
            elif stake > available * (1.0 + 1e-12):
                out.rejected["insufficient_capital"] += 1
                nxt = after_next_release(si, ptr)
            elif confirm_entry is not None and not confirm_entry(sym.symbol, t, raw, side, tag,
                                                                 stake * lev / raw):  # fmt: skip
                out.rejected["confirm_trade_entry"] += 1
            else:
                plan, at, entry_ns = plans[si], ptr, None
                if k_detail >= 0 and plan is not None and plan.detail_signal is not None:
                    plan = detail_plan(sym, rules, fills, k_detail, side, int(plan.detail_signal[ptr]))
                    at = 0
                    entry_ns = int(sym.detail.time[k_detail])  # type: ignore[union-attr]
                idx, reserved, exit_ns, _, exit_bar = _open_and_close(
                    log, si, sym, at, e, side, tag, stake, rules, fills, strategy, plan,
                    raw=raw, available=available, amount_step=amount_step, entry_ns=entry_ns,
                    futures=futures,
                )
                d = sym.detail
                if d is not None and plans[si] is not None:
                    start = entry_ns if entry_ns is not None else int(m.time[e])
                    k = int(np.searchsorted(d.time, start))
                    if exit_ns == start and k + 1 < len(d) and d.time[k + 1] < m.time[e] + m.bar_ns:
                        key = -1 - len(log)
                        extras[key] = (ptr, k + 1)
                        heapq.heappush(todo, (int(d.time[k + 1]), si, key))
                cash -= reserved
                tied += reserved
                if wallets is not None:
                    wallets.free, wallets.used = cash, tied
                heappush(open_heap, (exit_ns, 0, idx))
                nxt = max(bisect_left(bars[si], exit_bar + 1), ptr + 1)
        if k_detail < 0 and nxt < len(cand_lists[si]):  # (an extra entry never moves the list)
            heappush(todo, (cand_lists[si][nxt], si, nxt))
    release_until(np.iinfo(np.int64).max)
    out.final_cash = cash
    out.trades = log.arrays()
    return out


def _protections_allow(
    protections: Sequence[Protection],
    symbol: str,
    t: int,
    side: int,
    closed: Sequence[ClosedTrade],
    equity: float,
) -> bool:
    """Every protection allows the entry; MaxDrawdown measures against the current balance,
    as the live engine keeps it at current equity."""
    for p in protections:
        if hasattr(p, "balance"):
            p.balance = equity
        if not p.allows_entry(symbol, t, side, closed):
            return False
    return True


def entry_confirmer(strategy: Any) -> Any:
    """confirm_trade_entry(symbol, time_ns, rate, side, tag, amount) -> bool when the strategy
    overrides the hook, else None. As in the live runner, a hook that raises means no."""
    hook = overridden_hook(strategy, "confirm_trade_entry")
    if hook is None:
        return None

    def confirm(symbol: str, time_ns: int, rate: float, side: int, tag: str | None,
                amount: float) -> bool:  # fmt: skip
        try:
            return bool(
                hook(
                    pair=symbol,
                    order_type="market",
                    amount=amount,
                    rate=rate,
                    time_in_force="gtc",
                    current_time=utc_datetime(time_ns),
                    entry_tag=tag,
                    side="long" if side > 0 else "short",
                )
            )
        except Exception as exc:
            log.warning("%s.confirm_trade_entry raised, entry skipped: %s", type(strategy).__name__, exc)
            return False

    return confirm


def first_signal_bar(
    sym: SymbolSignals, e: int, side: int, entry: float, rules: ExitRules, fee: float = 0.0
) -> int | None:
    """Fill bar of the first exit signal from the entry candle on. With exit_profit_only, the
    first whose profit at the fill bar's open, after both fees, is above exit_profit_offset."""
    fills = sym.exit_fills(side)
    k = int(np.searchsorted(fills, e + sym.shift, side="left"))
    if not rules.exit_profit_only:
        return int(fills[k]) if k < len(fills) else None
    opens = sym.market.open
    while k < len(fills):
        chunk = fills[k : k + 256]
        if side > 0:
            profit = np.round(opens[chunk] * (1.0 - fee) / (entry * (1.0 + fee)) - 1.0, 8)
        else:
            profit = np.round(1.0 - opens[chunk] * (1.0 + fee) / (entry * (1.0 - fee)), 8)
        ok = np.flatnonzero(profit > rules.exit_profit_offset)
        if len(ok):
            return int(chunk[ok[0]])
        k += len(chunk)
    return None


def _open_and_close(
    log: TradeLog,
    si: int,
    sym: SymbolSignals,
    ptr: int,
    e: int,
    side: int,
    tag: str | None,
    stake: float,
    rules: ExitRules,
    fills: FillModel,
    strategy: Any,
    plan: PlannedExits | None,
    *,
    raw: float,
    available: float,
    amount_step: float | None = None,
    entry_ns: int | None = None,
    futures: Futures | None = None,
) -> tuple[int, float, int, bool, int]:
    """Log the trade of candidate `ptr`; returns (index, stake tied up, exit ns, at open, bar).
    The exit is stamped at the open of its candle, as Freqtrade stamps it."""
    m = sym.market
    exit_tag = None
    lev = 1.0 if futures is None else futures.leverage
    if plan is not None:  # the exit found and settled in the batch (`settle_exits`)
        entry, paid = plan.prices[ptr], plan.paid[ptr]
        qty = stake * lev / paid
        bar, _, _, at_open, exit_ns = plan.exits[ptr]
        reason, exit_tag, exit_price, fee_rate = plan.settled[ptr]
    else:
        paid = fills.slipped(
            raw, buying=side > 0, quantity=stake / raw, bar_volume=float(m.volume[e])
        )
        entry = price_round(paid, float(m.tick[e]))
        qty = stake * lev / paid
        if needs_reference(strategy):
            ref = find_exit_reference(strategy, sym, e, side, entry, qty, tag,
                                      fee=fills.taker_fee, available=available, stake=stake,
                                      amount_step=amount_step)  # fmt: skip
            if ref.entries > 1 or ref.amount < qty * (1 - 1e-12):
                return _log_adjusted(log, si, sym, e, side, tag, ref)
            fill, exit_tag = ref.fill, ref.exit_tag
        else:
            fill = find_exit(
                m,
                e,
                side,
                entry,
                rules,
                signal_bar=first_signal_bar(sym, e, side, entry, rules, fills.taker_fee),
                roi_blocked=sym.roi_blocked(side) if rules.ignore_roi_if_entry_signal else None,
                fee=fills.taker_fee,
            )
        bar, raw_exit, reason, at_open = fill.bar, fill.price, fill.reason, fill.at_open
        exit_ns = int(m.time[bar])
        if reason == EXIT_SIGNAL:
            exit_tag = sym.exit_tag(bar - sym.shift)
            reason = exit_tag or reason  # Freqtrade records the exit tag as the exit reason
        exit_price = fills.exit_price(raw_exit, reason, side, qty, float(m.volume[bar]))
        fee_rate = fills.exit_fee_rate(reason)
    # the profit is Freqtrade's: against the price paid (the open rate is that on the tick)
    fee_in, fee_out, open_value, pnl = round_trip(side, qty, paid, exit_price, fills.taker_fee, fee_rate)
    reserved = stake
    open_ns = int(m.time[e]) if entry_ns is None else entry_ns
    if futures is not None:  # funding paid or received while open; the ratio is of the margin
        pnl += futures.funding_of(sym.symbol, side, qty, open_ns, exit_ns)
    idx = log.add((
        si, side, e, bar, open_ns, exit_ns, entry,
        exit_price, qty, fee_in, fee_out,
        pnl, pnl / open_value * lev, reason, tag, exit_tag, reserved, at_open,
    ))  # fmt: skip
    return idx, reserved, exit_ns, at_open, bar


def _log_adjusted(
    log: TradeLog, si: int, sym: SymbolSignals, e: int, side: int, tag: str | None, ref: Any
) -> tuple[int, float, int, bool, int]:
    """Log a trade that adjust_trade_position added to or sold parts of (no slippage on
    those orders): its average entry, its realized profit over all of them."""
    m = sym.market
    fill = ref.fill
    exit_ns = int(m.time[fill.bar])
    idx = log.add((
        si, side, e, fill.bar, int(m.time[e]), exit_ns, ref.open_rate, fill.price, ref.amount,
        0.0, ref.fees, ref.pnl, ref.pnl / ref.cost if ref.cost else 0.0, fill.reason, tag,
        ref.exit_tag, ref.stake, fill.at_open,
    ))  # fmt: skip
    return idx, ref.stake, exit_ns, fill.at_open, fill.bar


def excursions_of(symbols: Sequence[SymbolSignals], trades: Trades) -> tuple[np.ndarray, np.ndarray]:
    """(MFE, MAE) of every trade as fractions of the entry: bars entry..exit-1 whole, plus the
    exit price (`kernel.excursions`, for all trades of a symbol with two `reduceat`s)."""
    count = len(trades)
    mfe = np.empty(count)
    mae = np.empty(count)
    for si, sym in enumerate(symbols):
        rows = np.flatnonzero(trades.symbol == si)
        if not len(rows):
            continue
        m = sym.market
        e, x = trades.entry_bar[rows], trades.exit_bar[rows]
        edges = np.column_stack([e, x]).ravel()  # a symbol's trades never overlap: ascending
        inside = x > e
        hi = np.where(inside, np.maximum.reduceat(m.high, edges)[::2], -np.inf)
        lo = np.where(inside, np.minimum.reduceat(m.low, edges)[::2], np.inf)
        px, entry = trades.exit_price[rows], trades.entry_price[rows]
        hi, lo = np.maximum(hi, px), np.minimum(lo, px)
        long = trades.side[rows] > 0
        mfe[rows] = np.where(
            long, np.maximum(hi / entry - 1.0, 0.0), np.maximum(1.0 - lo / entry, 0.0)
        )
        mae[rows] = np.where(
            long, np.minimum(lo / entry - 1.0, 0.0), np.minimum(1.0 - hi / entry, 0.0)
        )
    return mfe, mae
