"""The risk engine the trading engine owns: breakers, protections, sizing and live metrics.

Pre-trade checks (`checks.py`) ask it whether trading is halted and whether a protection
locks a pair; fills feed its trade tracker; `state()` is what `EngineSnapshot.extra["risk"]`
carries to the risk pane (documented in docs/risk.md). `export_state` / `restore_state` carry
breakers, protection locks and open round trips across restarts (closed trades are reported one
by one through `on_closed`); `reconfigure` swaps every limit at once.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tui_trader.config.risk import RiskSettings
from tui_trader.core.clock import Clock
from tui_trader.core.enums import OrderType
from tui_trader.core.fills import Fill
from tui_trader.core.market import Candle
from tui_trader.core.orders import Order, OrderRequest
from tui_trader.core.positions import Position
from tui_trader.execution.portfolio import Portfolio
from tui_trader.risk.breakers import BreakerLimits, Breakers, Trip
from tui_trader.risk.checks import CheckContext, free_cash
from tui_trader.risk.metrics import heat, returns, value_at_risk
from tui_trader.risk.protections import ClosedTrade, Lock, ProtectionSet, to_ns
from tui_trader.risk.sizing import CustomStake, Sizer, SizingInput, TrackRecord, sizing_for
from tui_trader.risk.trades import TradeTracker

log = logging.getLogger(__name__)
# A symbol's closed daily candles, oldest first: the last `var_lookback_days + 1` (since None),
# or those opening at or after `since` (the bars after what was read before, with its last one).
Closes = Callable[[str, datetime | None], Awaitable[Sequence[Candle]]]
Bar = tuple[datetime, float]  # a closed daily bar: its open time and close
# A daily history is read again at most this often: after a failed read, and while a bar that
# should have closed is not there (a weekend, a holiday).
RETRY = timedelta(hours=1)


class RiskManager:
    def __init__(
        self,
        settings: RiskSettings,
        portfolio: Portfolio,
        clock: Clock,
        on_trip: Callable[[Trip], None] = lambda trip: None,
    ) -> None:
        self.settings = settings
        self.portfolio = portfolio
        self.clock = clock
        self.on_trip = on_trip
        self.breakers = Breakers(_breaker_limits(settings))
        self.trades = TradeTracker()
        self.protections = ProtectionSet(settings.protections)
        self.strategy_protections = {
            name: ProtectionSet(lim.protections)
            for name, lim in settings.strategies.items()
            if lim.protections
        }
        # Persistence hooks (the engine stores what they report): state changed that must
        # survive a crash (a trip, a lock, a fill), and a round trip that closed.
        self.on_change: Callable[[], None] = lambda: None
        self.on_closed: Callable[[ClosedTrade], None] = lambda trade: None
        # Equity is observed only once the account is loaded (the engine says so after its
        # venues' balances): fills reconciled at start must not look like a day's loss.
        self.ready = True
        self.returns: dict[str, list[float]] = {}  # daily returns per symbol, for VaR
        self._returns_due: dict[str, datetime] = {}  # when each symbol's daily history can have changed
        self._daily: dict[str, list[Bar]] = {}  # the daily bars read so far (closed ones), per symbol
        # The daily bars to keep across a restart (the engine stores them): a restart then asks
        # only for the bars since, not a year of each symbol (on the paper venue, ~0.25 s of
        # CPU a symbol in a thread beside the first quotes and orders).
        self.on_daily: Callable[[dict[str, Any]], Awaitable[None]] | None = None
        # Symbols whose daily history is read before a position opens in them (the engine's
        # strategies' symbols): reading a year of it then costs nothing at the first fill.
        self.expected: Callable[[], Iterable[str]] = tuple
        self._metrics: dict[str, Any] = {}
        self._metrics_at = -1e18
        self.open_orders: Callable[[], list[Order]] = list

    # -- breakers ----------------------------------------------------------------------------

    def observe(self, now: datetime | None = None) -> list[Trip]:
        """Feed current equity to the breakers; trips are reported through `on_trip`."""
        if not self.ready:
            return []  # the account is not loaded yet: its equity would be a false loss
        now = now or self.clock.now()
        day = self.breakers.day
        trips = self.breakers.observe_equity(self.portfolio.equity(now), now)
        for trip in trips:
            self.on_trip(trip)
        if trips or day != self.breakers.day:
            self.on_change()
        return trips

    def transfer(self, amount: float) -> None:
        """A deposit or withdrawal (cash read again from a venue): the breakers' day start and
        peak move with it (`Breakers.transfer`), stored."""
        if amount and self.ready:
            self.breakers.transfer(amount)
            self.on_change()

    def reset(self, which: str | None = None) -> list[str]:
        """Clear breakers (all, or one by name; ValueError for an unknown one) and store it."""
        cleared = self.breakers.reset(which)
        self.on_change()
        return cleared

    def kill(self, actor: str, now: datetime) -> Trip:
        """The kill switch: new entries refused (exits pass) until `reset`, stored."""
        trip = self.breakers.kill(
            now, f"pressed by {actor} at {now:%Y-%m-%d %H:%M:%S} UTC; new entries are refused until it is reset"
        )
        self.on_change()
        return trip

    def halt_reason(self) -> str | None:
        self.observe()
        return self.breakers.halt_reason()

    def on_fill(self, order: Order, fill: Fill, position: Position, realized: Decimal) -> None:
        """OMS fill listener: close round trips, count losses, re-run protections."""
        trade = self.trades.on_fill(order, fill, position, realized)
        if trade is not None:
            self.on_closed(trade)
            for trip in self.breakers.observe_trade(trade.pnl, fill.ts):
                self.on_trip(trip)
            now_ns = to_ns(fill.ts)
            equity = self.portfolio.equity(fill.ts)
            self.protections.balance = equity
            self.protections.evaluate(self.trades.closed, now_ns, trade.symbol)
            scoped = self.strategy_protections.get(trade.strategy or "")
            if scoped is not None:
                scoped.balance = equity
                scoped.evaluate(self.trades.for_strategy(trade.strategy), now_ns, trade.symbol)
        self.observe(fill.ts)
        self.on_change()

    # -- persistence and reload --------------------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        """Breakers, protection locks and open round trips, JSON-able (closed trades go row by row)."""
        locks = {"*": [lk.to_state() for lk in self.protections.locks]}
        for name, scope in self.strategy_protections.items():
            if scope.locks:
                locks[name] = [lk.to_state() for lk in scope.locks]
        return {
            "breakers": self.breakers.to_state(),
            "locks": locks,
            "open_trades": self.trades.open_state(),
        }

    def restore_state(self, state: dict[str, Any], closed: list[ClosedTrade]) -> None:
        """Resume where a previous run stopped (before any equity is observed)."""
        if state.get("breakers"):
            self.breakers.restore(state["breakers"])
        for scope_name, rows in (state.get("locks") or {}).items():
            locks = [Lock.from_state(r) for r in rows]
            if scope_name == "*":
                self.protections.locks = locks
            else:  # a lock stays in force even if its strategy's protections left the config
                scope = self.strategy_protections.get(scope_name)
                if scope is None:
                    scope = self.strategy_protections[scope_name] = ProtectionSet([])
                scope.locks = locks
        self.trades.restore(state.get("open_trades") or [], closed)

    def reconfigure(self, settings: RiskSettings) -> None:
        """New limits for every breaker and protection at once. Trips and locks already in force
        stay (only `risk.reset` clears a halt); a lower limit trips at the next observation."""
        self.settings = settings
        self.breakers.limits = _breaker_limits(settings)
        self.protections.reconfigure(settings.protections)
        for name, lim in settings.strategies.items():
            scope = self.strategy_protections.get(name)
            if scope is None:
                if lim.protections:
                    self.strategy_protections[name] = ProtectionSet(lim.protections)
            else:
                scope.reconfigure(lim.protections or [])
        for name, scope in self.strategy_protections.items():
            if name not in settings.strategies:
                scope.reconfigure([])
        self._metrics_at = -1e18  # recompute with the new settings at the next refresh
        self.observe()
        self.on_change()

    # -- protections -------------------------------------------------------------------------

    def lock_for(self, req: OrderRequest, ctx: CheckContext) -> str | None:
        """Protections lock automated entries (strategies, signals, copy trading), not manual orders."""
        if not ctx.automated:
            return None
        now_ns = to_ns(self.clock.now())
        side = 1 if req.side.sign > 0 else -1
        for scope in (self.protections, self.strategy_protections.get(req.strategy or "")):
            if scope is None:
                continue
            lock = scope.lock_for(req.symbol, side, now_ns)
            if lock is not None:
                where = "all pairs" if lock.pair is None else lock.pair
                return f"{lock.method} locks {where} until {lock.until:%Y-%m-%d %H:%M} UTC: {lock.reason}"
        return None

    def locks(self) -> list[dict[str, Any]]:
        now_ns = to_ns(self.clock.now())
        out = [lk.to_dict() for lk in self.protections.active(now_ns)]
        for name, scope in self.strategy_protections.items():
            out += [{**lk.to_dict(), "strategy": name} for lk in scope.active(now_ns)]
        return out

    # -- sizing ------------------------------------------------------------------------------

    def sizer_for(self, strategy: str | None, custom_stake: CustomStake | None = None) -> Sizer:
        return Sizer(
            sizing_for(strategy, self.settings.sizing, self.settings.strategies), custom_stake
        )

    def sizing_input(
        self,
        symbol: str,
        side: int,
        price: float,
        *,
        strategy: str | None = None,
        stop_price: float | None = None,
        atr: float | None = None,
        quote: str | None = None,
        venue: str | None = None,
    ) -> SizingInput:
        """What the live engine knows for a sizing decision: equity, free cash, the strategy's
        record. The free cash in `quote` is on `venue`, the one the order goes to, as the
        balance check reads it, fees set aside (`free_cash`); summed over venues for a routed
        order (its router splits it) or where the venue reports no balance in `quote`."""
        equity = self.portfolio.equity(self.clock.now())
        free = None if venue is None or not quote else free_cash(self.portfolio, self.open_orders(), venue, quote)
        if free is not None:
            cash = free / (1.0 + self.settings.fee_estimate)
        else:
            cash = float(self.portfolio.cash.get(quote, Decimal(0))) if quote else self.portfolio.cash_value()
        track = None
        if sizing_for(strategy, self.settings.sizing, self.settings.strategies).mode == "kelly":
            # only Kelly reads the record: scanning up to 1,000 closed trades on every entry
            # was most of the sizing's time on the candle -> order path
            closed = self.trades.for_strategy(strategy)
            track = TrackRecord.from_returns([t.pnl_pct for t in closed]) if closed else None
        return SizingInput(symbol, price, side, equity, max(0.0, cash), stop_price, atr, track)

    # -- metrics -----------------------------------------------------------------------------

    async def refresh(self, closes: Closes | None = None, *, force: bool = False) -> dict[str, Any]:
        """Recompute metrics (at most every `metrics_interval_s` unless forced)."""
        mono = self.clock.monotonic()
        if not force and mono - self._metrics_at < self.settings.metrics_interval_s:
            return self._metrics
        self._metrics_at = mono
        self.observe()
        positions = self.portfolio.open_positions()
        exposures: dict[str, float] = {}
        for p in positions:
            exposures[p.symbol] = exposures.get(p.symbol, 0.0) + p.market_value
        if closes is not None:
            await self._read_returns(closes, [*exposures, self.benchmark or "", *self.expected()])
        bench = self.returns.get(self.benchmark or "") or None
        var = value_at_risk(exposures, self.returns, self.settings.var_lookback_days, bench)
        stops = self._stops()
        h, unprotected = heat(
            [(p.symbol, float(p.quantity), p.mark or float(p.average_price)) for p in positions],
            stops,
        )
        snap = self.portfolio.snapshot(self.clock.now())
        self._metrics = {
            "exposure": {s: round(v, 2) for s, v in exposures.items()},
            "heat": h,
            "heat_pct": h / snap.equity if snap.equity > 0 else None,
            "unprotected": unprotected,
            "var": {k: var[k] for k in var if k.startswith(("hist", "param", "cvar"))}
            | {"days": var["days"]},
            "correlation": {"symbols": var["symbols"], "matrix": var["correlation"]},
            "beta": var["beta"],
            "benchmark": self.benchmark,
        }
        return self._metrics

    async def _read_returns(self, closes: Closes, symbols: Iterable[str]) -> None:
        """Daily returns of `symbols`, each read again only once a new daily bar can have
        closed (a read costs a request to the venue, or on the paper venue its minute path:
        once a day, not at every refresh). After the first read only the new bars are asked
        for (`_daily_bars`)."""
        now = self.clock.now()
        changed = False
        for symbol in dict.fromkeys(s for s in symbols if s):
            due = self._returns_due.get(symbol)
            if due is not None and now < due:
                continue
            known = self._daily.get(symbol)
            try:
                bars = await self._daily_bars(closes, symbol, now)
            except Exception as exc:  # a missing history only blanks the figure
                log.info("no daily history for %s: %s", symbol, exc)
                self.returns[symbol] = []
                self._returns_due[symbol] = now + RETRY
                continue
            changed = changed or bars != known
            self.returns[symbol] = returns([close for _, close in bars])
            self._returns_due[symbol] = _next_read(bars, now)
        if changed and self.on_daily is not None:
            await self.on_daily(self.export_daily())

    async def _daily_bars(self, closes: Closes, symbol: str, now: datetime) -> list[Bar]:
        """The symbol's last `var_lookback_days + 1` closed daily bars. Once read (in this run
        or, restored, in the one before), only the bars from the last one read on are asked for
        (one or two, not a year: a request of a few bytes, or on the paper venue a day of its
        path), and they are added on when they carry on from it: its bar again, unchanged.
        Anything else (the venue's history changed, a gap too long for the answer to reach
        today, an answer that is not what was asked) reads the whole lookback again: never a
        guess at how the two fit. So is a history shorter than the lookback (a longer
        `var_lookback_days`, a symbol listed lately): the new bars alone would not fill it."""
        keep = self.settings.var_lookback_days + 1
        known = self._daily.get(symbol)
        bars: list[Bar] | None = None
        if known and len(known) >= keep and now - known[-1][0] < timedelta(days=keep):
            bars = _carried_on(known, await closes(symbol, known[-1][0]))
        if bars is None:
            bars = [(c.open_time, c.close) for c in await closes(symbol, None) if c.closed]
        self._daily[symbol] = bars = bars[-keep:]
        return bars

    def export_daily(self) -> dict[str, Any]:
        """The daily bars read in this run, JSON-able: {symbol: [[open time in epoch seconds,
        close], ...]} (a symbol kept from an earlier run and not read in this one is left out)."""
        return {
            symbol: [[int(t.timestamp()), c] for t, c in bars]
            for symbol, bars in self._daily.items()
            if symbol in self.returns
        }

    def restore_daily(self, state: dict[str, Any]) -> None:
        """The daily bars a previous run read: the next read of each asks only for what came
        since (and reads the whole lookback again if that does not carry on from them)."""
        for symbol, rows in state.items() if isinstance(state, dict) else ():
            try:
                bars = [(datetime.fromtimestamp(int(t), UTC), float(c)) for t, c in rows]
            except (TypeError, ValueError, OverflowError):
                continue  # not what export_daily wrote: read it all again
            if bars and all(a[0] < b[0] for a, b in itertools.pairwise(bars)):
                self._daily[symbol] = bars

    @property
    def benchmark(self) -> str | None:
        if self.settings.benchmark:
            return self.settings.benchmark
        quoted = {symbol for _, symbol in self.portfolio.marks}
        return next((s for s in ("SPY", "BTC/USDT", "BTC/USD") if s in quoted), None)

    def _stops(self) -> dict[str, float]:
        """The protective stop per symbol (nearest to the mark) among open exit orders."""
        out: dict[str, float] = {}
        for pos in self.portfolio.open_positions():
            exit_side = -1 if pos.quantity > 0 else 1
            levels = [
                float(o.stop_price)
                for o in self.open_orders()
                if o.symbol == pos.symbol
                and o.side.sign == exit_side
                and o.stop_price is not None
                and o.type in (OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP)
            ]
            if levels:
                out[pos.symbol] = max(levels) if pos.quantity > 0 else min(levels)
        return out

    def limits(self) -> dict[str, Any]:
        """The limits in force (what the risk pane shows and reload audits)."""
        s = self.settings
        return {
            k: getattr(s, k)
            for k in (
                "max_order_notional",
                "max_position_notional",
                "max_gross_exposure",
                "max_open_positions",
                "max_open_orders",
                "max_open_orders_per_symbol",
                "price_band_pct",
                "daily_loss_limit",
                "max_drawdown",
                "max_consecutive_losses",
            )
        }

    def state(self, halted: str | None = None) -> dict[str, Any]:
        """The risk pane's data (`EngineSnapshot.extra["risk"]`); cheap, metrics are cached."""
        snap = self.portfolio.snapshot(self.clock.now())
        b = self.breakers
        limit = self.settings.daily_loss_limit
        s = self.settings
        return {
            "equity": snap.equity,
            "cash": snap.cash,
            "gross_exposure": snap.gross_exposure,
            "net_exposure": snap.net_exposure,
            "day_pnl": b.day_pnl,
            "daily_loss_limit": limit,
            "day_loss_used": (max(0.0, -b.day_pnl) / limit) if limit else None,
            "drawdown": b.drawdown,
            "max_drawdown": s.max_drawdown,
            "peak_equity": b.peak_equity,
            "consecutive_losses": b.consecutive_losses,
            "max_consecutive_losses": s.max_consecutive_losses,
            "breakers": b.state()["tripped"],
            "halted": halted,
            "locks": self.locks(),
            "limits": self.limits(),
            "closed_trades": len(self.trades.closed),
            **self._metrics,
        }


def _breaker_limits(settings: RiskSettings) -> BreakerLimits:
    return BreakerLimits(settings.daily_loss_limit, settings.max_drawdown, settings.max_consecutive_losses)


def _carried_on(known: list[Bar], new: Sequence[Candle]) -> list[Bar] | None:
    """`known` with the bars of `new` after its last one, when `new` starts with that bar as
    it was read (the same open time and close) and goes on in time order; None otherwise."""
    last = known[-1]
    if not new or new[0].open_time != last[0] or new[0].close != last[1]:
        return None
    added = [(c.open_time, c.close) for c in new[1:] if c.closed]
    if any(after[0] <= before[0] for before, after in itertools.pairwise([last, *added])):
        return None
    return known + added


def _next_read(bars: Sequence[Bar], now: datetime) -> datetime:
    """When daily history ending in `bars` (closed ones) can next be different: once the bar
    after its last one has closed too (whatever hour the venue's days start), and not within
    the hour."""
    if not bars:
        return now + RETRY
    return max(bars[-1][0] + timedelta(days=2), now + RETRY)
