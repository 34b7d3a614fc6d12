"""Closed trades for the performance pane: entry and exit prices from the fills, the maximum
favourable and adverse excursion (MFE / MAE) from the candles the trade lived through, and the
usual summary (win rate, profit factor, expectancy, drawdown). Pure functions on plain data."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tui_trader.core.fills import Fill
from tui_trader.core.market import Candle


def ns(ts: datetime) -> int:
    return int(ts.timestamp() * 1_000_000_000)


@dataclass(frozen=True, slots=True)
class Prices:
    entry: float | None  # volume-weighted, of the fills that opened or added
    exit: float | None  # volume-weighted, of the fills that reduced or closed
    quantity: float  # what the opening fills bought or sold


def round_trip_prices(fills: Sequence[Fill], symbol: str, side: int, entry_ns: int, exit_ns: int) -> Prices:
    """Entry and exit prices of a round trip from the fills of `symbol` inside its time span."""
    opening = [f for f in fills if f.symbol == symbol and entry_ns <= ns(f.ts) <= exit_ns and f.side.sign == side]
    closing = [f for f in fills if f.symbol == symbol and entry_ns <= ns(f.ts) <= exit_ns and f.side.sign == -side]

    def vwap(group: list[Fill]) -> float | None:
        qty = sum(float(f.quantity) for f in group)
        return sum(float(f.quantity) * float(f.price) for f in group) / qty if qty else None

    return Prices(vwap(opening), vwap(closing), sum(float(f.quantity) for f in opening))


def excursions(
    side: int,
    entry: float,
    candles: Sequence[Candle],
    entry_ns: int,
    exit_ns: int,
    exit: float | None = None,
) -> tuple[float, float]:
    """(MFE, MAE) as fractions of the entry price: how far the price went in the trade's favour
    and against it while it was open, from the highs and lows of the bars it overlapped and its
    exit price (a point the price surely reached). A trade shorter than a minute with no bar
    yet (the forming one) is measured from its entry and exit; a longer one without bars is
    unknown (NaN), never guessed."""
    if not entry:
        return math.nan, math.nan
    live = [c for c in candles if ns(c.open_time) <= exit_ns and entry_ns < ns(c.open_time) + _bar_ns(c)]
    seen = [entry, *([exit] if exit else [])]
    if not live and (exit is None or exit_ns - entry_ns >= 60_000_000_000):
        return math.nan, math.nan
    high = max([c.high for c in live] + seen)
    low = min([c.low for c in live] + seen)
    if side > 0:
        return max(0.0, high / entry - 1), min(0.0, low / entry - 1)
    return max(0.0, 1 - low / entry), min(0.0, 1 - high / entry)


def _bar_ns(candle: Candle) -> int:
    unit = {"m": 60, "h": 3600, "d": 86400, "w": 604800}.get(candle.timeframe[-1:], 60)
    try:
        return int(candle.timeframe[:-1]) * unit * 1_000_000_000
    except ValueError:
        return 60 * 1_000_000_000


def summary(pnls: Sequence[float], equity: Sequence[float] = ()) -> dict[str, float | int | None]:
    """Trades, win rate, profit factor, expectancy, best and worst, and the equity's drawdown."""
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    gross_win, gross_loss = sum(wins), -sum(losses)
    return {
        "trades": len(pnls),
        "win_rate": len(wins) / len(pnls) if pnls else None,
        "net": sum(pnls),
        "profit_factor": gross_win / gross_loss if gross_loss else None,
        "expectancy": sum(pnls) / len(pnls) if pnls else None,
        "avg_win": gross_win / len(wins) if wins else None,
        "avg_loss": -gross_loss / len(losses) if losses else None,
        "best": max(pnls) if pnls else None,
        "worst": min(pnls) if pnls else None,
        "max_drawdown": max_drawdown(equity),
    }


def max_drawdown(equity: Sequence[float]) -> float | None:
    """The largest fall from a peak, as a fraction of that peak (None without history)."""
    peak, worst = -math.inf, 0.0
    for value in equity:
        peak = max(peak, value)
        if peak > 0:
            worst = min(worst, value / peak - 1)
    return worst if equity else None
