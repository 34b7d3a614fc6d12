"""Circuit breakers: stop new entries after a bad day, a deep drawdown or a losing streak, and
after the kill switch.

Pure state over equity observations and closed trades, so the live engine and tests drive it
the same way. Reset rules: the daily loss breaker clears at UTC midnight; the drawdown and
losing-streak breakers and the kill switch stay tripped until an explicit `reset` (which the
engine audits).
`to_state` / `from_state` carry everything (trips and their reasons, the day's anchor, the
peak, the streak) across a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

DAILY_LOSS = "daily_loss"
MAX_DRAWDOWN = "max_drawdown"
CONSECUTIVE_LOSSES = "consecutive_losses"
KILL_SWITCH = "kill_switch"  # pressed by a person (`flatten`): no limit trips it, only a reset clears it
ALL = (DAILY_LOSS, MAX_DRAWDOWN, CONSECUTIVE_LOSSES, KILL_SWITCH)


@dataclass(frozen=True, slots=True)
class Trip:
    breaker: str
    at: datetime
    message: str


@dataclass(slots=True)
class BreakerLimits:
    daily_loss_limit: float | None = None  # quote currency, positive
    max_drawdown: float | None = None  # fraction of peak equity
    max_consecutive_losses: int | None = None


@dataclass(slots=True)
class Breakers:
    """Tracks day start, peak equity and the losing streak; trips once per crossing."""

    limits: BreakerLimits
    day: date | None = None
    day_start_equity: float = 0.0
    peak_equity: float = 0.0
    equity: float = 0.0
    consecutive_losses: int = 0
    tripped: dict[str, Trip] = field(default_factory=dict)

    # -- observations -----------------------------------------------------------------------

    def observe_equity(self, equity: float, now: datetime) -> list[Trip]:
        """Feed the current equity; returns breakers that tripped on this observation."""
        day = now.date()
        if day != self.day:
            self.day = day
            self.day_start_equity = equity
            self.tripped.pop(DAILY_LOSS, None)  # a new UTC day clears the daily breaker
        if self.peak_equity <= 0:
            self.peak_equity = equity
        self.peak_equity = max(self.peak_equity, equity)
        self.equity = equity
        new: list[Trip] = []
        lim = self.limits
        if (
            lim.daily_loss_limit is not None
            and DAILY_LOSS not in self.tripped
            and self.day_pnl <= -lim.daily_loss_limit
        ):
            new.append(
                self._trip(
                    DAILY_LOSS,
                    now,
                    f"daily loss {-self.day_pnl:,.2f} reached daily_loss_limit {lim.daily_loss_limit:,.2f}",
                )
            )
        if lim.max_drawdown is not None and MAX_DRAWDOWN not in self.tripped and self.drawdown >= lim.max_drawdown:
            new.append(
                self._trip(
                    MAX_DRAWDOWN,
                    now,
                    f"drawdown {self.drawdown:.1%} from peak {self.peak_equity:,.2f} reached "
                    f"max_drawdown {lim.max_drawdown:.0%}",
                )
            )
        return new

    def observe_trade(self, pnl: float, now: datetime) -> list[Trip]:
        """Feed a closed trade's net P&L; a win (or break-even) ends the losing streak."""
        self.consecutive_losses = self.consecutive_losses + 1 if pnl < 0 else 0
        lim = self.limits
        if (
            lim.max_consecutive_losses is not None
            and CONSECUTIVE_LOSSES not in self.tripped
            and self.consecutive_losses >= lim.max_consecutive_losses
        ):
            return [
                self._trip(
                    CONSECUTIVE_LOSSES,
                    now,
                    f"{self.consecutive_losses} losing trades in a row reached "
                    f"max_consecutive_losses {lim.max_consecutive_losses}",
                )
            ]
        return []

    def transfer(self, amount: float) -> None:
        """Money that came in (or went out, negative) without a trade: a deposit or withdrawal
        found when a venue's balances were read again. The day's start and the peak move with
        it, so it is neither a profit that hides a drawdown nor a loss that trips a breaker."""
        if self.day is not None:
            self.day_start_equity += amount
        if self.peak_equity > 0:
            self.peak_equity = max(0.0, self.peak_equity + amount)

    def kill(self, now: datetime, message: str) -> Trip:
        """The kill switch was pressed: new entries are refused until a reset (a second press
        keeps the first one's time)."""
        return self.tripped.get(KILL_SWITCH) or self._trip(KILL_SWITCH, now, message)

    def _trip(self, name: str, now: datetime, message: str) -> Trip:
        trip = Trip(name, now, message)
        self.tripped[name] = trip
        return trip

    # -- state -------------------------------------------------------------------------------

    @property
    def day_pnl(self) -> float:
        return self.equity - self.day_start_equity

    @property
    def drawdown(self) -> float:
        return 0.0 if self.peak_equity <= 0 else max(0.0, 1.0 - self.equity / self.peak_equity)

    def halt_reason(self) -> str | None:
        if not self.tripped:
            return None
        return "; ".join(
            f"kill switch: {t.message}" if t.breaker == KILL_SWITCH else f"{t.breaker} breaker: {t.message}"
            for t in self.tripped.values()
        )

    def reset(self, which: str | None = None) -> list[str]:
        """Clear breakers (all, or one by name). Drawdown restarts from today's equity, the streak from 0."""
        names = list(ALL) if which in (None, "all") else [which]
        unknown = [n for n in names if n not in ALL]
        if unknown:
            raise ValueError(f"unknown breaker {unknown[0]!r}; one of {', '.join(ALL)} or all")
        cleared = [n for n in names if self.tripped.pop(n, None) is not None]
        if MAX_DRAWDOWN in names:
            self.peak_equity = self.equity
        if CONSECUTIVE_LOSSES in names:
            self.consecutive_losses = 0
        if DAILY_LOSS in names:
            self.day_start_equity = self.equity
        return cleared

    def to_state(self) -> dict[str, Any]:
        """Everything needed to resume after a restart (JSON-able)."""
        return {
            "day": None if self.day is None else self.day.isoformat(),
            "day_start_equity": self.day_start_equity,
            "peak_equity": self.peak_equity,
            "equity": self.equity,
            "consecutive_losses": self.consecutive_losses,
            "tripped": {n: {"at": t.at.isoformat(), "message": t.message} for n, t in self.tripped.items()},
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Resume from `to_state` (a new UTC day then clears the daily breaker as usual)."""
        day = state.get("day")
        self.day = date.fromisoformat(day) if day else None
        self.day_start_equity = float(state.get("day_start_equity", 0.0))
        self.peak_equity = float(state.get("peak_equity", 0.0))
        self.equity = float(state.get("equity", 0.0))
        self.consecutive_losses = int(state.get("consecutive_losses", 0))
        self.tripped = {
            name: Trip(name, datetime.fromisoformat(t["at"]), str(t["message"]))
            for name, t in (state.get("tripped") or {}).items()
            if name in ALL
        }

    def state(self) -> dict[str, Any]:
        lim = self.limits
        return {
            "tripped": {n: {"at": t.at.isoformat(), "message": t.message} for n, t in self.tripped.items()},
            "day_pnl": self.day_pnl,
            "daily_loss_limit": lim.daily_loss_limit,
            "drawdown": self.drawdown,
            "max_drawdown": lim.max_drawdown,
            "peak_equity": self.peak_equity,
            "consecutive_losses": self.consecutive_losses,
            "max_consecutive_losses": lim.max_consecutive_losses,
        }
