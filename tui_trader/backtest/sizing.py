"""Stake sizing and entry protections: the seams where the risk engine's rules plug in."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tui_trader.core.clock import utc_datetime
from tui_trader.core.errors import ConfigError
from tui_trader.risk.protections import ClosedTrade  # one type for live and backtest
from tui_trader.strategy.hooks import overridden_hook

if TYPE_CHECKING:
    from tui_trader.risk.sizing import StakeFunction

UNLIMITED = "unlimited"


@dataclass(slots=True)  # not frozen: built once per trade, and a frozen one costs ~8x to build
class StakeRequest:
    """What a sizer knows when a trade wants to open (amounts in quote currency)."""

    symbol: str
    time_ns: int
    price: float
    side: int
    entry_tag: str | None
    available: float  # what may still be staked (tradable share less open stakes, <= free cash)
    tied: float  # stakes of open trades (fees are paid from each trade's profit)
    open_trades: int
    max_open_trades: int | None  # None = no limit
    fee: float
    closed: Sequence[ClosedTrade] = ()  # trades closed so far, oldest first (Kelly sizing)

    @property
    def time(self) -> datetime:
        return utc_datetime(self.time_ns)


@runtime_checkable
class Sizer(Protocol):
    """Returns the stake in quote currency; 0 or less skips the trade."""

    def stake(self, req: StakeRequest) -> float: ...


def stake_function(sizer: Sizer, fee: float, max_open_trades: int | None) -> StakeFunction | None:
    """The sizer's stake as a function of (price, side, available, tied), when it offers one
    (`stake_function(fee, max_open_trades)`) and the stake reads nothing else; else None."""
    make = getattr(sizer, "stake_function", None)
    return make(fee, max_open_trades) if callable(make) else None


@runtime_checkable
class Protection(Protocol):
    """Freqtrade-style protection (StoplossGuard, MaxDrawdown, CooldownPeriod, LowProfitPairs)."""

    def allows_entry(
        self, symbol: str, time_ns: int, side: int, closed: Sequence[ClosedTrade]
    ) -> bool: ...


class StakeSizer:
    """Freqtrade's `stake_amount`: a fixed quote amount or "unlimited" (the tradable balance,
    open stakes included, split over max_open_trades).

    `tradable_balance_ratio` (Freqtrade's, 0.99 there by default) is the share of the balance
    that may be staked; the simulation reads it to know what is available. A strategy's
    `custom_stake_amount` hook, when overridden, gets the proposed stake and may return another
    amount (clamped to what the wallet can pay).
    """

    def __init__(
        self,
        stake_amount: float | str = UNLIMITED,
        strategy: Any = None,
        tradable_balance_ratio: float = 1.0,
    ) -> None:
        if not 0.0 < tradable_balance_ratio <= 1.0:
            raise ConfigError(
                f"tradable_balance_ratio must be in (0, 1] (got {tradable_balance_ratio})"
            )
        self.tradable_balance_ratio = float(tradable_balance_ratio)
        if isinstance(stake_amount, str) and stake_amount != UNLIMITED:
            try:
                stake_amount = float(stake_amount)
            except ValueError:
                raise ConfigError(
                    f'stake_amount must be a number or "unlimited" (got {stake_amount!r})'
                ) from None
        if isinstance(stake_amount, float | int) and not stake_amount > 0:
            raise ConfigError(f"stake_amount must be positive (got {stake_amount})")
        self.stake_amount = stake_amount
        self._hook = overridden_hook(strategy, "custom_stake_amount")

    def stake_function(self, fee: float, max_open_trades: int | None) -> StakeFunction | None:
        """`stake` as a function of (price, side, available, tied), without a request per
        entry (`backtest.single`); None with a custom_stake_amount hook, or "unlimited" without a
        slot count (`stake` then says what is wrong)."""
        if self._hook is not None:
            return None
        if self.stake_amount != UNLIMITED:
            amount = float(self.stake_amount)
            return lambda price, side, available, tied: amount
        if max_open_trades is None:
            return None
        slots = max_open_trades
        return lambda price, side, available, tied: min((available + tied) / slots, available)

    def stake(self, req: StakeRequest) -> float:
        """`req.available` is what may still be staked (the tradable share of the balance less
        the open stakes, at most the free cash), as Freqtrade's wallet reports it."""
        max_stake = req.available
        if self.stake_amount == UNLIMITED:
            slots = req.max_open_trades
            if slots is None:
                raise ConfigError('stake_amount "unlimited" needs a finite max_open_trades')
            proposed = min((req.available + req.tied) / slots, max_stake)
        else:
            proposed = float(self.stake_amount)
        if self._hook is not None:
            value = self._hook(
                pair=req.symbol,
                current_time=req.time,
                current_rate=req.price,
                proposed_stake=proposed,
                min_stake=None,
                max_stake=max_stake,
                leverage=1.0,
                entry_tag=req.entry_tag,
                side="long" if req.side > 0 else "short",
            )
            proposed = float(value) if value is not None and math.isfinite(float(value)) else 0.0
            proposed = min(proposed, max_stake)
        return proposed
