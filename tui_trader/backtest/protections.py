"""A strategy's own `protections` as Freqtrade's backtester applies them (`--enable-protections`).

Freqtrade evaluates its protections each time a trade closes, at that trade's close, and locks
the pair (or every pair, "*") until the lock's end rounded up to the next candle; an entry is
refused while its candle's open is before the end of a lock on its pair, or a global one, for
its side. The four protections, with Freqtrade's settings and defaults:

- StoplossGuard: `trade_limit` (10) stop exits with a profit below `required_profit` within
  `lookback_period` lock every pair (unless `only_per_pair`), and the pair on its own trades;
  `only_per_side` counts and locks one side.
- CooldownPeriod: a trade of the pair closed within `lookback_period` locks the pair.
- LowProfitPairs: the pair's trades within `lookback_period` (at least `trade_limit`, 1) whose
  profits sum below `required_profit` lock the pair.
- MaxDrawdown: the trades within `lookback_period` (at least `trade_limit`, 1) whose summed
  profit ratios fell more than `max_allowed_drawdown` from their high lock every pair.

Lookbacks and durations are minutes (`lookback_period`, `stop_duration`, default 60) or candles
(`*_candles`); `unlock_at` ("HH:MM") ends a lock at that time of day instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tui_trader.core.errors import ConfigError, UsageError
from tui_trader.risk.protections import STOP_REASONS, ClosedTrade

_NS_MIN = 60_000_000_000
_DAY = 1440 * _NS_MIN
METHODS = ("StoplossGuard", "CooldownPeriod", "LowProfitPairs", "MaxDrawdown")


@dataclass(frozen=True, slots=True)
class PairLockNs:
    pair: str  # "*": every pair
    side: str  # "long", "short" or "*"
    end_ns: int
    reason: str


class _Rule:
    def __init__(self, cfg: Mapping[str, Any], candle_minutes: int) -> None:
        self.cfg = dict(cfg)
        self.method = str(cfg.get("method"))
        if "stop_duration_candles" in cfg:
            self.duration = int(cfg["stop_duration_candles"]) * candle_minutes * _NS_MIN
        else:
            self.duration = int(cfg.get("stop_duration", 60)) * _NS_MIN
        self.unlock_at = cfg.get("unlock_at") if "stop_duration_candles" not in cfg else None
        if "lookback_period_candles" in cfg:
            self.lookback = int(cfg["lookback_period_candles"]) * candle_minutes * _NS_MIN
        else:
            self.lookback = int(cfg.get("lookback_period", 60)) * _NS_MIN

    def lock_end(self, trades: Sequence[ClosedTrade]) -> int:
        last = max(t.exit_ns for t in trades)
        if self.unlock_at is None or "stop_duration" in self.cfg:
            return last + self.duration
        hour, minute = (int(x) for x in str(self.unlock_at).split(":"))
        day = last - last % _DAY
        end = day + (hour * 60 + minute) * _NS_MIN
        return end if end >= last else end + _DAY

    def recent(self, closed: Sequence[ClosedTrade], now: int, pair: str | None) -> list[ClosedTrade]:
        start = now - self.lookback
        return [t for t in closed if t.exit_ns >= start and (pair is None or t.symbol == pair)]


def _side(side: int) -> str:
    return "long" if side > 0 else "short"


class FreqtradeProtections:
    """Freqtrade's protection manager for one backtest: the `Protection` seam of the simulator."""

    def __init__(self, configs: Sequence[Mapping[str, Any]], timeframe_seconds: int) -> None:
        self.candle_ns = int(timeframe_seconds) * 1_000_000_000
        minutes = max(1, int(timeframe_seconds) // 60)
        self.rules: list[_Rule] = []
        for cfg in configs:
            method = cfg.get("method")
            if method not in METHODS:
                raise ConfigError(
                    f"protection method {method!r} is not one of {', '.join(METHODS)}"
                )
            self.rules.append(_Rule(cfg, minutes))
        self.locks: list[PairLockNs] = []
        self._seen = 0

    def __bool__(self) -> bool:
        return bool(self.rules)

    # ---- locks ----------------------------------------------------------------------------------
    def _locked(self, pair: str, now: int, side: str) -> bool:
        return any(
            lock.end_ns > now and lock.pair in (pair, "*") and lock.side in ("*", side)
            for lock in self.locks
        )

    def _lock(self, pair: str, end_ns: int, side: str, reason: str) -> None:
        # Freqtrade rounds the end up to the next candle (an end on a candle's open stays)
        end = -(-end_ns // self.candle_ns) * self.candle_ns
        if not self._locked(pair, end_ns, side):
            self.locks.append(PairLockNs(pair, side, end, reason))

    # ---- Freqtrade's checks, run when a trade closes ---------------------------------------------
    def on_close(self, closed: Sequence[ClosedTrade], trade: ClosedTrade) -> None:
        now, pair, side = trade.exit_ns, trade.symbol, _side(trade.side)
        for rule in self.rules:  # per pair first, then globally, as Freqtrade runs them
            found = self._check(rule, closed, now, pair, side)
            if found is not None:
                self._lock(pair, *found)
        for rule in self.rules:
            if rule.method == "StoplossGuard" and rule.cfg.get("only_per_pair", False):
                continue
            if rule.method in ("StoplossGuard", "MaxDrawdown"):
                found = self._check(rule, closed, now, None, side)
                if found is not None:
                    self._lock("*", *found)

    def _check(self, rule: _Rule, closed: Sequence[ClosedTrade], now: int, pair: str | None,
               side: str) -> tuple[int, str, str] | None:  # fmt: skip
        cfg = rule.cfg
        if rule.method == "StoplossGuard":
            per_side = cfg.get("only_per_side", False)
            hits = [t for t in rule.recent(closed, now, pair)
                    if t.exit_reason in STOP_REASONS and t.pnl_pct
                    and t.pnl_pct < cfg.get("required_profit", 0.0)
                    and (not per_side or _side(t.side) == side)]  # fmt: skip
            if len(hits) < cfg.get("trade_limit", 10):
                return None
            return rule.lock_end(hits), side if per_side else "*", "StoplossGuard"
        if rule.method == "CooldownPeriod":
            if pair is None:
                return None
            recent = rule.recent(closed, now, pair)
            if not recent:
                return None
            return rule.lock_end([max(recent, key=lambda t: t.exit_ns)]), "*", "CooldownPeriod"
        if rule.method == "LowProfitPairs":
            if pair is None:
                return None
            recent = rule.recent(closed, now, pair)
            if len(recent) < cfg.get("trade_limit", 1):
                return None
            per_side = cfg.get("only_per_side", False)
            profit = sum(t.pnl_pct for t in recent if t.pnl_pct and (not per_side or _side(t.side) == side))
            if profit >= cfg.get("required_profit", 0.0):
                return None
            return rule.lock_end(recent), side if per_side else "*", "LowProfitPairs"
        # MaxDrawdown (global): the drop of the summed profit ratios from their high
        if pair is not None:
            return None
        recent = sorted(rule.recent(closed, now, None), key=lambda t: t.exit_ns)
        if len(recent) < cfg.get("trade_limit", 1):
            return None
        total = high = worst = 0.0
        for t in recent:
            total += t.pnl_pct
            high = max(high, total)
            worst = max(worst, high - total)
        if worst <= cfg.get("max_allowed_drawdown", 0.0):
            return None
        return rule.lock_end(recent), "*", "MaxDrawdown"

    # ---- the simulator's seam --------------------------------------------------------------------
    def allows_entry(self, symbol: str, time_ns: int, side: int, closed: Sequence[ClosedTrade]) -> bool:
        """Run the checks of every trade closed since the last call (in closing order), then
        look for a lock on this pair, or a global one, at the candle's open."""
        while self._seen < len(closed):
            self.on_close(closed[: self._seen + 1], closed[self._seen])
            self._seen += 1
        return not self._locked(symbol, time_ns, _side(side))


def strategy_protections(strategy: Any) -> list[dict[str, Any]]:
    """The strategy's own Freqtrade `protections` (an attribute or a property), as dicts."""
    try:
        found = getattr(strategy, "protections", None) or []
    except Exception as exc:
        raise UsageError(f"the strategy's protections could not be read: {exc}") from None
    if not isinstance(found, list | tuple) or not all(isinstance(p, dict) for p in found):
        raise UsageError("a strategy's protections must be a list of dicts with a 'method'")
    return [dict(p) for p in found]


def attach_wallets(strategy: Any, symbols: Sequence[str], timeframe: str, capital: float,
                   stake_amount: float | str | None, tradable_balance_ratio: float) -> None:  # fmt: skip
    """An IStrategy's `self.wallets` for a backtest and fresh pair locks (Freqtrade's
    backtest view, without the DataProvider, which `engine.attach_backtest_data` adds)."""
    from tui_trader.strategy.dataprovider import BacktestWallets
    from tui_trader.strategy.locks import PairLocks

    currency = strategy.config.get("stake_currency") or next(iter(symbols), "/").partition("/")[2]
    ratio = tradable_balance_ratio if stake_amount is not None else 1.0
    strategy.wallets = BacktestWallets(currency or "QUOTE", capital, ratio)
    PairLocks.reset_locks()
    PairLocks.timeframe = timeframe
