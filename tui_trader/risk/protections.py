"""Protections with Freqtrade's names and meanings, as pure logic over closed trades.

StoplossGuard, MaxDrawdown, CooldownPeriod and LowProfitPairs look at trades closed in a
lookback window and return locks (one pair, or global) until a time. The live engine and the
backtester call the same `ProtectionSet`: live through `evaluate` / `lock_for`, backtests
through `allows_entry(symbol, time_ns, side, closed)` (the backtest `Protection` seam).

Times are int64 nanoseconds since the epoch (UTC), like the backtester's arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tui_trader.config.risk import ProtectionSettings

NS_PER_MINUTE = 60_000_000_000
STOP_REASONS = frozenset({"stop_loss", "trailing_stop_loss", "stoploss_on_exchange", "liquidation"})


class TradeLike(Protocol):
    """A closed trade (the backtester's ClosedTrade and the live `ClosedTrade` both fit).

    Read-only properties, so frozen dataclasses conform too."""

    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> int: ...  # +1 long, -1 short
    @property
    def exit_ns(self) -> int: ...
    @property
    def pnl(self) -> float: ...
    @property
    def pnl_pct(self) -> float: ...
    @property
    def exit_reason(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """A round trip the live engine saw close (same fields as the backtester's, plus strategy)."""

    symbol: str
    side: int
    entry_ns: int
    exit_ns: int
    pnl: float
    pnl_pct: float
    exit_reason: str
    strategy: str | None = None


@dataclass(frozen=True, slots=True)
class Lock:
    """No new entries on `pair` (None = every pair) on `side` ("*" = both) until `until_ns`."""

    pair: str | None
    until_ns: int
    reason: str
    method: str
    side: str = "*"

    @property
    def until(self) -> datetime:
        return datetime.fromtimestamp(self.until_ns / 1e9, UTC)

    def covers(self, pair: str, side: int, now_ns: int) -> bool:
        if now_ns >= self.until_ns:
            return False
        if self.pair is not None and self.pair != pair:
            return False
        return self.side == "*" or self.side == _side_name(side)

    def to_state(self) -> dict[str, Any]:
        """Exact fields for persistence (`to_dict` is for display)."""
        return {
            "pair": self.pair,
            "until_ns": self.until_ns,
            "reason": self.reason,
            "method": self.method,
            "side": self.side,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Lock:
        return cls(
            data.get("pair"),
            int(data["until_ns"]),
            str(data["reason"]),
            str(data["method"]),
            str(data.get("side", "*")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "pair": self.pair or "*",
            "side": self.side,
            "until": self.until.isoformat(),
            "reason": self.reason,
            "method": self.method,
        }


def to_ns(ts: datetime) -> int:
    return int(ts.timestamp() * 1_000_000_000)


def _side_name(side: int) -> str:
    return "long" if side > 0 else "short"


def _minutes(
    value: float | None, candles: int | None, candle_minutes: float, default: float
) -> int:
    if value is not None:
        return int(value * NS_PER_MINUTE)
    if candles is not None:
        return int(candles * candle_minutes * NS_PER_MINUTE)
    return int(default * NS_PER_MINUTE)


class _Rule:
    def __init__(self, cfg: ProtectionSettings, candle_minutes: float) -> None:
        self.cfg = cfg
        self.lookback = _minutes(
            cfg.lookback_period, cfg.lookback_period_candles, candle_minutes, 60
        )
        self.duration = _minutes(cfg.stop_duration, cfg.stop_duration_candles, candle_minutes, 60)

    def window(self, trades: Sequence[TradeLike], now_ns: int) -> list[TradeLike]:
        start = now_ns - self.lookback
        return [t for t in trades if start <= t.exit_ns <= now_ns]

    def check(
        self, trades: Sequence[TradeLike], now_ns: int, pair: str | None, balance: float
    ) -> Lock | None:
        raise NotImplementedError


class StoplossGuard(_Rule):
    """`trade_limit` losing stop-outs within the lookback lock the market (or only that pair / side)."""

    def check(
        self, trades: Sequence[TradeLike], now_ns: int, pair: str | None, balance: float
    ) -> Lock | None:
        cfg = self.cfg
        hits = [
            t
            for t in self.window(trades, now_ns)
            if t.exit_reason in STOP_REASONS and t.pnl_pct < cfg.required_profit
        ]
        if cfg.only_per_pair and pair is not None:
            hits = [t for t in hits if t.symbol == pair]
        for side_name in ("long", "short") if cfg.only_per_side else ("*",):
            group = (
                hits if side_name == "*" else [t for t in hits if _side_name(t.side) == side_name]
            )
            if len(group) >= cfg.trade_limit:
                until = max(t.exit_ns for t in group) + self.duration
                return Lock(
                    pair if cfg.only_per_pair else None,
                    until,
                    f"{len(group)} stoplosses in {self.lookback // NS_PER_MINUTE} min",
                    "StoplossGuard",
                    side_name,
                )
        return None


class MaxDrawdown(_Rule):
    """A drawdown of the closed trades' cumulative P&L beyond `max_allowed_drawdown` locks everything."""

    def check(
        self, trades: Sequence[TradeLike], now_ns: int, pair: str | None, balance: float
    ) -> Lock | None:
        window = sorted(self.window(trades, now_ns), key=lambda t: t.exit_ns)
        if len(window) < self.cfg.trade_limit or balance <= 0:
            return None
        start = balance - sum(t.pnl for t in window)  # the balance before the window
        equity = peak = start
        worst = 0.0
        for t in window:
            equity += t.pnl
            peak = max(peak, equity)
            if peak > 0:
                worst = max(worst, 1.0 - equity / peak)
        if worst < self.cfg.max_allowed_drawdown:
            return None
        until = window[-1].exit_ns + self.duration
        return Lock(
            None, until, f"drawdown {worst:.1%} over the last {len(window)} trades", "MaxDrawdown"
        )


class CooldownPeriod(_Rule):
    """After a trade on a pair closes, no new entry on that pair for `stop_duration`."""

    def check(
        self, trades: Sequence[TradeLike], now_ns: int, pair: str | None, balance: float
    ) -> Lock | None:
        if pair is None:
            return None
        start = now_ns - self.duration
        recent = [t for t in trades if t.symbol == pair and start <= t.exit_ns <= now_ns]
        if len(recent) < self.cfg.trade_limit:
            return None
        until = max(t.exit_ns for t in recent) + self.duration
        return Lock(pair, until, "cooldown after a closed trade", "CooldownPeriod")


class LowProfitPairs(_Rule):
    """A pair whose trades in the lookback made less than `required_profit` (summed ratio) is locked."""

    def check(
        self, trades: Sequence[TradeLike], now_ns: int, pair: str | None, balance: float
    ) -> Lock | None:
        if pair is None:
            return None
        window = [t for t in self.window(trades, now_ns) if t.symbol == pair]
        if len(window) < self.cfg.trade_limit:
            return None
        profit = sum(t.pnl_pct for t in window)
        if profit >= self.cfg.required_profit:
            return None
        until = max(t.exit_ns for t in window) + self.duration
        return Lock(
            pair,
            until,
            f"profit {profit:.2%} below {self.cfg.required_profit:.2%}",
            "LowProfitPairs",
        )


RULES: dict[str, type[_Rule]] = {
    "StoplossGuard": StoplossGuard,
    "MaxDrawdown": MaxDrawdown,
    "CooldownPeriod": CooldownPeriod,
    "LowProfitPairs": LowProfitPairs,
}


class ProtectionSet:
    """The protections of one scope (global or one strategy) and the locks they hold."""

    def __init__(
        self,
        configs: Iterable[ProtectionSettings],
        *,
        candle_minutes: float = 5.0,
        balance: float = 0.0,
    ) -> None:
        self.candle_minutes = candle_minutes
        self.rules = [RULES[c.method](c, candle_minutes) for c in configs]
        self.balance = balance  # for MaxDrawdown; the live engine keeps it at current equity
        self.locks: list[Lock] = []
        self._seen: tuple[int, int, str] | None = None

    def __bool__(self) -> bool:
        return bool(self.rules)

    def reconfigure(self, configs: Iterable[ProtectionSettings]) -> None:
        """New rules from now on; locks already in force stay until they expire."""
        self.rules = [RULES[c.method](c, self.candle_minutes) for c in configs]
        self._seen = None

    def evaluate(
        self, trades: Sequence[TradeLike], now_ns: int, pair: str | None = None
    ) -> list[Lock]:
        """Run every rule for `pair` (and globally); store and return locks that are new."""
        new = []
        for rule in self.rules:
            for scope in {pair, None}:
                lock = rule.check(trades, now_ns, scope, self.balance)
                if lock is not None and lock.until_ns > now_ns and lock not in self.locks:
                    # A later lock of the same rule and scope supersedes the earlier one (it
                    # covers everything the earlier one did): one line per lock, not a pile.
                    self.locks = [
                        lk
                        for lk in self.locks
                        if (lk.method, lk.pair, lk.side) != (lock.method, lock.pair, lock.side)
                        or lk.until_ns > lock.until_ns
                    ]
                    self.locks.append(lock)
                    new.append(lock)
        self.locks = [lk for lk in self.locks if lk.until_ns > now_ns]
        return new

    def lock_for(self, pair: str, side: int, now_ns: int) -> Lock | None:
        return next((lk for lk in self.locks if lk.covers(pair, side, now_ns)), None)

    def allows_entry(
        self, symbol: str, time_ns: int, side: int, closed: Sequence[TradeLike]
    ) -> bool:
        """The backtester's seam: re-evaluate when trades closed, then check the locks."""
        key = (len(closed), time_ns, symbol)
        if key != self._seen:
            self.evaluate(closed, time_ns, symbol)
            self._seen = key
        return self.lock_for(symbol, side, time_ns) is None

    def active(self, now_ns: int) -> list[Lock]:
        return [lk for lk in self.locks if lk.until_ns > now_ns]
