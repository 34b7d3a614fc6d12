"""Position sizing: pure rules plus a `Sizer` the live engine and the backtester both use.

Modes (config `[risk.sizing]`, per strategy `[risk.strategies.NAME.sizing]`): fixed quantity,
fixed notional, percent of equity, fixed-fractional risk to the stop, fractional Kelly from
the strategy's own closed trades (capped), and volatility targeting with ATR. A strategy's
`custom_stake_amount` may then change the stake (clamped to what the wallet can pay).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_trader.config.risk import SizingSettings
    from tui_trader.core.instrument import Instrument

# -- pure rules: each returns a quantity in base units (0 = do not trade) -------------------


def fixed_quantity(quantity: float) -> float:
    return max(0.0, quantity)


def fixed_notional(notional: float, price: float) -> float:
    return notional / price if price > 0 else 0.0


def percent_of_equity(equity: float, fraction: float, price: float) -> float:
    return max(0.0, equity) * fraction / price if price > 0 else 0.0


def risk_to_stop(equity: float, risk_fraction: float, entry: float, stop: float) -> float:
    """Fixed-fractional: lose `risk_fraction` of equity if the stop is hit."""
    distance = abs(entry - stop)
    return max(0.0, equity) * risk_fraction / distance if distance > 0 else 0.0


def kelly_fraction(win_rate: float, avg_win: float, avg_loss: float) -> float:
    """Full Kelly f* = p - (1 - p) / b with b = avg win / avg loss; 0 when there is no edge."""
    if avg_loss <= 0 or avg_win <= 0 or not 0 <= win_rate <= 1:
        return 0.0
    return max(0.0, win_rate - (1.0 - win_rate) / (avg_win / avg_loss))


def volatility_target(equity: float, target: float, atr: float) -> float:
    """Size so that a one-ATR move costs `target` of equity."""
    return max(0.0, equity) * target / atr if atr > 0 else 0.0


def average_true_range(
    high: Sequence[float], low: Sequence[float], close: Sequence[float], period: int
) -> float | None:
    """Wilder's ATR (TA-Lib) of the last bar; None with too little history."""
    import numpy as np
    import talib

    if len(close) <= period:
        return None
    values = talib.ATR(
        np.asarray(high, float), np.asarray(low, float), np.asarray(close, float), timeperiod=period
    )
    last = float(values[-1])
    return last if math.isfinite(last) and last > 0 else None


@dataclass(frozen=True, slots=True)
class TrackRecord:
    """A strategy's own closed-trade statistics (profit ratios), for Kelly."""

    trades: int
    win_rate: float
    avg_win: float
    avg_loss: float  # positive

    @classmethod
    def from_returns(cls, returns: Sequence[float]) -> TrackRecord:
        wins = [r for r in returns if r > 0]
        losses = [-r for r in returns if r < 0]
        n = len(returns)
        return cls(
            n,
            len(wins) / n if n else 0.0,
            sum(wins) / len(wins) if wins else 0.0,
            sum(losses) / len(losses) if losses else 0.0,
        )


@dataclass(slots=True)  # not frozen: one per entry, a backtest's ~10,000 (frozen costs ~8x to build)
class SizingInput:
    """What a sizer knows about one intended entry (amounts in quote currency)."""

    symbol: str
    price: float
    side: int  # +1 buy / long, -1 sell / short
    equity: float
    available: float  # cash the wallet can pay
    stop_price: float | None = None
    atr: float | None = None
    track: TrackRecord | None = None


CustomStake = Callable[[float, float], float | None]  # (proposed stake, max stake) -> stake
StakeFunction = Callable[[float, int, float, float], float]  # (price, side, available, tied) -> stake


class Sizer:
    """One strategy's sizing rule. `quantity` for the live engine, `stake` for the backtester."""

    def __init__(self, settings: SizingSettings, custom_stake: CustomStake | None = None) -> None:
        self.settings = settings
        self.custom_stake = custom_stake

    def quantity(self, inp: SizingInput) -> float:
        """Base units to trade (before lot rounding); 0 skips the trade."""
        s = self.settings
        if inp.price <= 0:
            return 0.0
        stop = inp.stop_price
        if stop is None and inp.atr:
            stop = inp.price - inp.side * s.atr_multiple * inp.atr
        if s.mode == "fixed_quantity":
            qty = fixed_quantity(s.quantity or 0.0)
        elif s.mode == "fixed_notional":
            qty = fixed_notional(s.notional or 0.0, inp.price)
        elif s.mode == "percent_equity":
            qty = percent_of_equity(inp.equity, s.percent, inp.price)
        elif s.mode == "risk_per_trade":
            qty = (
                0.0 if stop is None else risk_to_stop(inp.equity, s.risk_per_trade, inp.price, stop)
            )
        elif s.mode == "kelly":
            track = inp.track
            if track is None or track.trades < s.kelly_min_trades:
                qty = percent_of_equity(inp.equity, min(s.percent, s.kelly_cap), inp.price)
            else:
                f = min(
                    s.kelly_cap,
                    s.kelly_fraction
                    * kelly_fraction(track.win_rate, track.avg_win, track.avg_loss),
                )
                qty = percent_of_equity(inp.equity, f, inp.price)
        else:  # volatility
            qty = (
                0.0 if not inp.atr else volatility_target(inp.equity, s.target_volatility, inp.atr)
            )
        return self.capped(qty * inp.price, inp.equity, inp.available) / inp.price

    def capped(self, stake: float, equity: float, available: float) -> float:
        """A rule's stake at most `max_percent` of the equity and what the wallet can pay,
        then as `custom_stake` changes it."""
        max_stake = max(0.0, min(available, equity * self.settings.max_percent))
        stake = min(stake, max_stake)
        if self.custom_stake is not None:
            value = self.custom_stake(stake, max_stake)
            stake = float(value) if value is not None and math.isfinite(float(value)) else 0.0
            stake = max(0.0, min(stake, max_stake))
        return stake

    def order_quantity(self, inp: SizingInput, instrument: Instrument) -> Decimal:
        """`quantity` rounded down to the lot; 0 when below the instrument's minimums."""
        qty = instrument.round_qty(Decimal(str(self.quantity(inp))))
        if (
            qty <= 0
            or qty < instrument.min_qty
            or (instrument.min_notional and qty * Decimal(str(inp.price)) < instrument.min_notional)
        ):
            return Decimal(0)
        return qty

    # -- the backtester's `Sizer` seam ---------------------------------------------------------

    def stake(self, req: Any) -> float:
        """Stake in quote currency for a backtest `StakeRequest` (see `BacktestSizer` for stops/ATR)."""
        return BacktestSizer(self).stake(req)


class BacktestSizer:
    """Adapts a `Sizer` to the backtester: equity = free + tied cash, stop from the strategy's
    `stoploss` ratio, ATR from `atr_of(symbol, time_ns)`, Kelly from `req.closed` if present."""

    def __init__(
        self,
        sizer: Sizer,
        *,
        stoploss: float | None = None,
        atr_of: Callable[[str, int], float | None] | None = None,
        strategy: Any = None,
    ) -> None:
        self.sizer = sizer
        self.stoploss = stoploss if stoploss is not None else getattr(strategy, "stoploss", None)
        self.atr_of = atr_of
        if strategy is not None and sizer.custom_stake is None:
            from tui_trader.strategy.hooks import overridden_hook

            hook = overridden_hook(strategy, "custom_stake_amount")
            self._hook = hook
        else:
            self._hook = None

    def stake(self, req: Any) -> float:
        side = 1 if req.side > 0 else -1
        stop = None
        if self.stoploss:
            stop = req.price * (1.0 - side * abs(self.stoploss))
        closed = getattr(req, "closed", None)
        track = TrackRecord.from_returns([t.pnl_pct for t in closed]) if closed else None
        inp = SizingInput(
            req.symbol,
            req.price,
            side,
            req.available + req.tied,
            req.available / (1.0 + req.fee),
            stop,
            self.atr_of(req.symbol, req.time_ns) if self.atr_of else None,
            track,
        )
        stake = self.sizer.quantity(inp) * req.price
        if self._hook is not None:
            value = self._hook(
                pair=req.symbol,
                current_time=req.time,
                current_rate=req.price,
                proposed_stake=stake,
                min_stake=None,
                max_stake=inp.available,
                leverage=1.0,
                entry_tag=req.entry_tag,
                side="long" if side > 0 else "short",
            )
            stake = float(value) if value is not None and math.isfinite(float(value)) else 0.0
            stake = max(0.0, min(stake, inp.available))
        return stake

    def stake_function(self, fee: float, max_open_trades: int | None = None) -> StakeFunction | None:
        """`stake` as a function of (price, side, available, tied) with this fee, the same
        numbers without a request per entry (`backtest.single`), when that is all it reads: no
        custom_stake_amount, ATR or track record. None otherwise."""
        sizer = self.sizer
        rule = _plain_rule(sizer.settings, self.stoploss)
        if rule is None or self._hook is not None or self.atr_of is not None or sizer.custom_stake is not None:
            return None
        grow = 1.0 + fee
        most = sizer.settings.max_percent

        def stake(price: float, side: int, available: float, tied: float) -> float:
            if price <= 0:
                return 0.0 * price
            equity = available + tied
            qty = rule(price, 1 if side > 0 else -1, equity)
            # `Sizer.capped` without a custom stake, then `quantity`'s / price, `stake`'s * price
            return min(qty * price, max(0.0, min(available / grow, equity * most))) / price * price

        return stake


def _plain_rule(settings: SizingSettings, stoploss: float | None) -> Callable[[float, int, float], float] | None:
    """`Sizer.quantity`'s rule as (price, side +1/-1, equity) -> quantity, for the modes that
    read nothing else (no ATR, no track record; risk_per_trade with a stoploss); else None."""
    s = settings
    if s.mode == "fixed_quantity":
        quantity = fixed_quantity(s.quantity or 0.0)
        return lambda price, side, equity: quantity
    if s.mode == "fixed_notional":
        notional = s.notional or 0.0
        return lambda price, side, equity: fixed_notional(notional, price)
    if s.mode == "percent_equity":
        percent = s.percent
        return lambda price, side, equity: percent_of_equity(equity, percent, price)
    if s.mode == "risk_per_trade" and stoploss:
        fraction, loss = s.risk_per_trade, abs(stoploss)
        return lambda price, side, equity: risk_to_stop(equity, fraction, price, price * (1.0 - side * loss))
    return None


def sizing_for(
    strategy: str | None, default: SizingSettings, overrides: dict[str, Any]
) -> SizingSettings:
    """The sizing of a strategy: its own `[risk.strategies.NAME.sizing]` or the default."""
    override = overrides.get(strategy or "")
    own = getattr(override, "sizing", None)
    return own if own is not None else default
