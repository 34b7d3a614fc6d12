"""Each signal provider's track record, in R: what following them earned per trade.

A provider is ranked by expectancy (average R per trade), not by win rate: 70 % winners
that lose 0.45 R a trade on average cost money; 30 % winners that make 0.25 R earn it.
The record also keeps the drawdown of following them (the deepest fall of their
cumulative R from its peak) and the spread of their results.

The engine records an outcome when a trade opened from a provider's signal closes, and
persists `ProviderBook.to_dict()`; the Signals pane shows `ProviderStats`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from tui_trader.core.enums import Side
from tui_trader.core.errors import DataError

STATE_VERSION = 2
PRIOR_TRADES = 5.0  # breakeven pseudo-trades that pull a short record's expectancy towards 0 R
SCORE_SCALE = 2.0  # reliability = logistic(SCORE_SCALE * shrunk average R): +0.5 R -> 0.73


def r_multiple(side: Side, entry: Decimal, stop: Decimal, exit_price: Decimal) -> float:
    """Profit in units of the initial risk: +2.0 means the trade made twice what it risked."""
    risk = abs(entry - stop)
    if risk == 0:
        raise ValueError("entry equals stop: the trade had no defined risk")
    return float((exit_price - entry) * side.sign / risk)


@dataclass(frozen=True, slots=True)
class ProviderStats:
    """What the pane shows for one provider."""

    provider: str
    count: int
    wins: int
    losses: int
    win_rate: float | None  # wins / (wins + losses); breakevens count in neither
    average_r: float | None  # expectancy: R per trade
    total_r: float
    best_r: float | None
    worst_r: float | None
    max_drawdown_r: float  # deepest fall of cumulative R from a peak (0 = never below a peak)
    stdev_r: float | None  # spread of the results (None under 2 trades)
    last_at: datetime | None
    reliability: float  # 0..1 from the shrunk expectancy; 0.5 for a provider with no history

    @property
    def expectancy_r(self) -> float | None:
        return self.average_r


@dataclass(slots=True)
class _Record:
    count: int = 0
    wins: int = 0
    losses: int = 0
    total_r: float = 0.0
    sum_sq_r: float | None = 0.0  # None: loaded from version 1, which did not keep it
    best_r: float | None = None
    worst_r: float | None = None
    peak_r: float = 0.0  # highest cumulative R so far (starts at 0: before the first trade)
    max_drawdown_r: float = 0.0
    last_at: datetime | None = None


def reliability(total_r: float, count: int) -> float:
    """A 0..1 trust score from expectancy, shrunk towards 0 R for a short record: with n trades
    the average counts as total / (n + PRIOR_TRADES). 0.5 is neutral (no edge, or no record)."""
    shrunk = total_r / (count + PRIOR_TRADES)
    return 1.0 / (1.0 + math.exp(-SCORE_SCALE * shrunk))


@dataclass
class ProviderBook:
    """Track records of every provider, JSON-serialisable for the engine to persist."""

    records: dict[str, _Record] = field(default_factory=dict)

    def record(self, provider: str, r: float, *, at: datetime | None = None) -> ProviderStats:
        """Add one closed trade: `r` > 0 is a win, < 0 a loss, 0 a breakeven."""
        if not math.isfinite(r):
            raise ValueError(f"R multiple must be a finite number, got {r}")
        rec = self.records.setdefault(provider, _Record())
        rec.count += 1
        rec.wins += r > 0
        rec.losses += r < 0
        rec.total_r += r
        if rec.sum_sq_r is not None:
            rec.sum_sq_r += r * r
        rec.best_r = r if rec.best_r is None else max(rec.best_r, r)
        rec.worst_r = r if rec.worst_r is None else min(rec.worst_r, r)
        rec.peak_r = max(rec.peak_r, rec.total_r)
        rec.max_drawdown_r = max(rec.max_drawdown_r, rec.peak_r - rec.total_r)
        if at is not None and (rec.last_at is None or at > rec.last_at):
            rec.last_at = at
        return self.stats(provider)

    def record_trade(
        self,
        provider: str,
        side: Side,
        entry: Decimal,
        stop: Decimal,
        exit_price: Decimal,
        *,
        at: datetime | None = None,
    ) -> ProviderStats:
        """Record a trade from its levels (see `r_multiple`)."""
        return self.record(provider, r_multiple(side, entry, stop, exit_price), at=at)

    def stats(self, provider: str) -> ProviderStats:
        rec = self.records.get(provider, _Record())
        decided = rec.wins + rec.losses
        n = rec.count
        stdev = None
        if n >= 2 and rec.sum_sq_r is not None:
            var = (rec.sum_sq_r - rec.total_r * rec.total_r / n) / (n - 1)
            stdev = math.sqrt(max(var, 0.0))
        return ProviderStats(
            provider=provider,
            count=n,
            wins=rec.wins,
            losses=rec.losses,
            win_rate=rec.wins / decided if decided else None,
            average_r=rec.total_r / n if n else None,
            total_r=rec.total_r,
            best_r=rec.best_r,
            worst_r=rec.worst_r,
            max_drawdown_r=rec.max_drawdown_r,
            stdev_r=stdev,
            last_at=rec.last_at,
            reliability=reliability(rec.total_r, n),
        )

    def all_stats(self) -> list[ProviderStats]:
        """Every provider, highest reliability (shrunk expectancy) first."""
        return sorted((self.stats(p) for p in self.records), key=lambda s: (-s.reliability, s.provider))

    def auto_execute_refusal(self, provider: str, *, min_trades: int, min_average_r: float) -> str | None:
        """Why this provider's calls may not be sent without confirmation yet, or None."""
        s = self.stats(provider)
        if s.count < min_trades:
            return (
                f"{provider} has {s.count} recorded trade(s), fewer than the {min_trades} "
                "[signals.chat] min_trades needs before auto-execution"
            )
        if s.average_r is not None and s.average_r <= min_average_r:
            return f"{provider} averages {s.average_r:+.2f} R a trade, not above min_average_r {min_average_r:+.2f}"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "providers": {
                name: {
                    "count": r.count,
                    "wins": r.wins,
                    "losses": r.losses,
                    "total_r": r.total_r,
                    "sum_sq_r": r.sum_sq_r,
                    "best_r": r.best_r,
                    "worst_r": r.worst_r,
                    "peak_r": r.peak_r,
                    "max_drawdown_r": r.max_drawdown_r,
                    "last_at": None if r.last_at is None else r.last_at.isoformat(),
                }
                for name, r in sorted(self.records.items())
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProviderBook:
        """Load saved state; version 1 (before drawdown and spread were kept) loads with those
        counted from now on. A wrong shape is a DataError naming what to do."""
        if not isinstance(data, dict) or data.get("version") not in (1, STATE_VERSION):
            raise DataError(
                f"provider track records: expected version {STATE_VERSION}; delete the saved state to start afresh"
            )
        book = cls()
        try:
            for name, r in data.get("providers", {}).items():
                total = float(r["total_r"])
                book.records[str(name)] = _Record(
                    count=int(r["count"]),
                    wins=int(r["wins"]),
                    losses=int(r["losses"]),
                    total_r=total,
                    sum_sq_r=None if r.get("sum_sq_r") is None else float(r["sum_sq_r"]),
                    best_r=None if r.get("best_r") is None else float(r["best_r"]),
                    worst_r=None if r.get("worst_r") is None else float(r["worst_r"]),
                    peak_r=float(r.get("peak_r", max(total, 0.0))),
                    max_drawdown_r=float(r.get("max_drawdown_r", 0.0)),
                    last_at=None if r.get("last_at") is None else datetime.fromisoformat(r["last_at"]),
                )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(
                f"provider track records are malformed ({exc}); delete the saved state to start afresh"
            ) from None
        return book
