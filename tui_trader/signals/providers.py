"""Each signal provider's track record: how often their calls won and how many R they made.

The engine records an outcome when a trade opened from a provider's signal closes, and
persists `ProviderBook.to_dict()`; the Signals pane shows `ProviderStats`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from tui_trader.core.enums import Side
from tui_trader.core.errors import DataError

STATE_VERSION = 1
PRIOR = 2.0  # pseudo-trades (one win, one loss each) that pull a new provider's reliability to 0.5


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
    average_r: float | None
    total_r: float
    best_r: float | None
    worst_r: float | None
    last_at: datetime | None
    reliability: float  # smoothed win rate in 0..1; 0.5 for a provider with no history


@dataclass(slots=True)
class _Record:
    count: int = 0
    wins: int = 0
    losses: int = 0
    total_r: float = 0.0
    best_r: float | None = None
    worst_r: float | None = None
    last_at: datetime | None = None


@dataclass
class ProviderBook:
    """Track records of every provider, JSON-serialisable for the engine to persist."""

    records: dict[str, _Record] = field(default_factory=dict)

    def record(self, provider: str, r: float, *, at: datetime | None = None) -> ProviderStats:
        """Add one closed trade: `r` > 0 is a win, < 0 a loss, 0 a breakeven."""
        if r != r:  # NaN
            raise ValueError("R multiple is NaN")
        rec = self.records.setdefault(provider, _Record())
        rec.count += 1
        rec.wins += r > 0
        rec.losses += r < 0
        rec.total_r += r
        rec.best_r = r if rec.best_r is None else max(rec.best_r, r)
        rec.worst_r = r if rec.worst_r is None else min(rec.worst_r, r)
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
        return ProviderStats(
            provider=provider,
            count=rec.count,
            wins=rec.wins,
            losses=rec.losses,
            win_rate=rec.wins / decided if decided else None,
            average_r=rec.total_r / rec.count if rec.count else None,
            total_r=rec.total_r,
            best_r=rec.best_r,
            worst_r=rec.worst_r,
            last_at=rec.last_at,
            reliability=(rec.wins + PRIOR / 2) / (decided + PRIOR),
        )

    def all_stats(self) -> list[ProviderStats]:
        """Every provider, best total R first."""
        return sorted((self.stats(p) for p in self.records), key=lambda s: (-s.total_r, s.provider))

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "providers": {
                name: {
                    "count": r.count,
                    "wins": r.wins,
                    "losses": r.losses,
                    "total_r": r.total_r,
                    "best_r": r.best_r,
                    "worst_r": r.worst_r,
                    "last_at": None if r.last_at is None else r.last_at.isoformat(),
                }
                for name, r in sorted(self.records.items())
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProviderBook:
        """Load saved state; a wrong shape is a DataError naming what to do."""
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise DataError(
                f"provider track records: expected version {STATE_VERSION}; "
                "delete the saved state to start afresh"
            )
        book = cls()
        try:
            for name, r in data.get("providers", {}).items():
                book.records[str(name)] = _Record(
                    count=int(r["count"]),
                    wins=int(r["wins"]),
                    losses=int(r["losses"]),
                    total_r=float(r["total_r"]),
                    best_r=None if r.get("best_r") is None else float(r["best_r"]),
                    worst_r=None if r.get("worst_r") is None else float(r["worst_r"]),
                    last_at=None
                    if r.get("last_at") is None
                    else datetime.fromisoformat(r["last_at"]),
                )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(
                f"provider track records are malformed ({exc}); "
                "delete the saved state to start afresh"
            ) from None
        return book
