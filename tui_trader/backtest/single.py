"""`portfolio.simulate`'s walk for one symbol whose entries run no Python of the strategy's:
a plain loop over its candidates, the trades kept as columns.

`simulate` takes this lane when every candidate's outcome is arithmetic: one symbol, its
exits planned in one batch (`plan_exits`), no finer candles, no protections or pair locks, no
entry pricing or confirmation hook, spot, no amount step, and a sizer whose stake is a plain
function of the price, side, available and tied cash (`stake_function`: no custom_stake_amount,
ATR or track record). Then the wallet never holds two trades: the next candidate comes after
the open trade's exit candle, so that trade is always released first (were it not, the lane
gives up before changing anything and the general walk runs). Nothing reads the closed trades
(no protections, no Kelly), so none are kept. Per trade it does the general
walk's arithmetic in the same order (`portfolio._open_and_close`, `release_until`), so the
trades, the rejections and the final cash are the same to the bit
(tests/backtest/test_single_walk.py compares both walks); only the per-candidate heap,
request objects and row tuples are left out (a year of 1m ema_cross: ~59 -> ~26 ms of CPU).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tui_trader.backtest.planned import PlannedExits
    from tui_trader.risk.sizing import StakeFunction


def round_trip(side: int, qty: float, paid: float, exit_price: float, entry_fee: float,
               exit_fee: float) -> tuple[float, float, float, float]:  # fmt: skip
    """(entry fee, exit fee, open value, profit) of `qty` bought (sold, side < 0) at `paid` and
    closed at `exit_price`, with these fee rates: Freqtrade's profit, against the price paid."""
    fee_in = qty * paid * entry_fee
    fee_out = qty * exit_price * exit_fee
    if side > 0:
        open_value = qty * paid + fee_in
        return fee_in, fee_out, open_value, qty * exit_price - fee_out - open_value
    open_value = qty * paid - fee_in
    return fee_in, fee_out, open_value, open_value - (qty * exit_price + fee_out)


def walk_single(
    sym: Any,
    plan: PlannedExits,
    stake_of: StakeFunction,
    *,
    taker_fee: float,
    capital: float,
    ratio: float,
    min_stake: float,
) -> tuple[dict[str, Any], Counter[str], float, int | None] | None:
    """(the trades' columns as `portfolio.Trades` takes them, rejections, final cash, the time
    of the last candidate visited) of `sym`'s candidates with their planned exits (`plan`:
    the loop reads each candidate's entry fill, exit time, exit fill and fee rate as Python
    values; the trades' other columns are taken from the plan's arrays once the walk is done);
    None when a candidate comes before the open trade's exit (the general walk then runs)."""
    m = sym.market
    sides: list[int] = sym.entry_sides.tolist()
    times: list[int] = m.time[sym.entry_bars].tolist()
    opens: list[float] = m.open[sym.entry_bars].tolist()
    paid = plan.paid
    exit_times: list[int] = plan.time.tolist()
    exit_prices: list[float] = plan.fill.tolist()
    fee_rates: list[float] = plan.rate.tolist()
    count = len(sym.entry_bars)
    # each candidate's next one after its trade's exit candle (the general walk's bisect)
    after: list[int] = np.maximum(np.searchsorted(sym.entry_bars, plan.bar + 1), np.arange(1, count + 1)).tolist()
    rejected: Counter[str] = Counter()
    taken: list[int] = []
    quantities: list[float] = []
    fees_in: list[float] = []
    fees_out: list[float] = []
    pnls: list[float] = []
    ratios: list[float] = []
    cash = capital
    tied = 0.0
    held = -1  # the candidate whose trade is open
    held_exit = 0
    held_stake = held_pnl = 0.0
    t: int | None = None
    ptr = 0
    while ptr < count:
        t = times[ptr]
        if held >= 0:  # release_until(t)
            if held_exit > t:
                return None
            cash += held_stake + held_pnl
            tied -= held_stake
            held = -1
        nxt = ptr + 1
        side = sides[ptr]
        available = min((cash + tied) * ratio - tied, cash)
        stake = stake_of(opens[ptr], side, available, tied)
        if stake <= 0 or stake < min_stake:
            rejected["stake"] += 1
        elif stake > available * (1.0 + 1e-12):
            rejected["insufficient_capital"] += 1
            nxt = count  # nothing open: no release can ever free more
        else:  # _open_and_close with a planned exit, leverage 1
            price_paid = paid[ptr]
            qty = stake / price_paid
            held_exit = exit_times[ptr]
            fee_in, fee_out, open_value, pnl = round_trip(side, qty, price_paid, exit_prices[ptr], taker_fee,
                                                          fee_rates[ptr])  # fmt: skip
            taken.append(ptr)
            quantities.append(qty)
            fees_in.append(fee_in)
            fees_out.append(fee_out)
            pnls.append(pnl)
            ratios.append(pnl / open_value)
            cash -= stake
            tied += stake
            held, held_stake, held_pnl = ptr, stake, pnl
            nxt = after[ptr]
        ptr = nxt
    if held >= 0:
        cash += held_stake + held_pnl
    index = np.asarray(taken, dtype=np.int64)
    entry_bar = sym.entry_bars[index].astype(np.int64)
    columns = {
        "symbol": np.zeros(len(taken), dtype=np.int64),
        "side": sym.entry_sides[index].astype(np.int64),
        "entry_bar": entry_bar,
        "exit_bar": plan.bar[index].astype(np.int64),
        "entry_ns": m.time[entry_bar].astype(np.int64),
        "exit_ns": plan.time[index].astype(np.int64),
        "entry_price": np.asarray(plan.prices, dtype=np.float64)[index],
        "exit_price": plan.fill[index],
        "quantity": np.asarray(quantities, dtype=np.float64),
        "entry_fee": np.asarray(fees_in, dtype=np.float64),
        "exit_fee": np.asarray(fees_out, dtype=np.float64),
        "pnl": np.asarray(pnls, dtype=np.float64),
        "pnl_pct": np.asarray(ratios, dtype=np.float64),
        "exit_reason": plan.recorded[index].tolist(),
        "enter_tag": sym.entry_tags[index].tolist(),
        "exit_tag": plan.tag[index].tolist(),
        "exit_at_open": plan.at_open[index].astype(bool),
    }
    return columns, rejected, cash, t
