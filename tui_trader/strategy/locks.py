"""Pair locks as Freqtrade's `PairLocks` offers them to strategies: per pair or for all ("*"),
per side or both, until a time. In memory, per process; the backtester resets them per run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar


@dataclass(slots=True)
class PairLock:
    pair: str
    lock_time: datetime
    lock_end_time: datetime
    reason: str | None = None
    side: str = "*"
    active: bool = True

    def to_json(self) -> dict[str, object]:
        return {
            "pair": self.pair,
            "lock_time": self.lock_time.isoformat(),
            "lock_end_time": self.lock_end_time.isoformat(),
            "reason": self.reason,
            "side": self.side,
            "active": self.active,
        }


def _now() -> datetime:
    return datetime.now(UTC)


class PairLocks:
    """Class-level lock list with Freqtrade's method names (`use_db` is kept for scripts that
    set it; locks always live in memory here)."""

    use_db: ClassVar[bool] = False
    timeframe: ClassVar[str] = ""
    locks: ClassVar[list[PairLock]] = []

    @classmethod
    def reset_locks(cls) -> None:
        cls.locks = []

    @classmethod
    def lock_pair(cls, pair: str, until: datetime, reason: str | None = None, *,
                  now: datetime | None = None, side: str = "*") -> PairLock:  # fmt: skip
        if cls.timeframe:  # Freqtrade ends a lock on a candle's open
            from tui_trader.strategy.timeframes import timeframe_to_next_date

            until = timeframe_to_next_date(cls.timeframe, until)
        lock = PairLock(pair, now or _now(), until, reason, side)
        cls.locks.append(lock)
        return lock

    @classmethod
    def get_pair_locks(cls, pair: str | None, now: datetime | None = None,
                       side: str | None = None) -> list[PairLock]:  # fmt: skip
        now = now or _now()
        return [
            lock
            for lock in cls.locks
            if lock.active
            and lock.lock_end_time > now
            and (pair is None or lock.pair == pair)
            and (side is None or lock.side == "*" or lock.side == side)
        ]

    @classmethod
    def get_pair_longest_lock(cls, pair: str, now: datetime | None = None,
                              side: str = "*") -> PairLock | None:  # fmt: skip
        locks = cls.get_pair_locks(pair, now, side)
        return max(locks, key=lambda lock: lock.lock_end_time) if locks else None

    @classmethod
    def unlock_pair(cls, pair: str, now: datetime | None = None, side: str = "*") -> None:
        for lock in cls.get_pair_locks(pair, now, side):
            lock.active = False

    @classmethod
    def unlock_reason(cls, reason: str, now: datetime | None = None) -> None:
        for lock in cls.get_pair_locks(None, now):
            if lock.reason == reason:
                lock.active = False

    @classmethod
    def is_global_lock(cls, now: datetime | None = None, side: str = "*") -> bool:
        return bool(cls.get_pair_locks("*", now, side))

    @classmethod
    def is_pair_locked(cls, pair: str, now: datetime | None = None, side: str = "*") -> bool:
        return bool(cls.get_pair_locks(pair, now, side)) or cls.is_global_lock(now, side)

    @classmethod
    def get_all_locks(cls) -> list[PairLock]:
        return list(cls.locks)
