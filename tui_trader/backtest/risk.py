"""The live risk engine's sizing and protections, set up for a backtest.

Live, `RiskManager.sizer_for(name)` sizes a strategy's entries from `[risk.sizing]` (or
`[risk.strategies.NAME.sizing]`) and `ProtectionSet`s from `[[risk.protections]]` and
`[[risk.strategies.NAME.protections]]` lock them. The backtester uses the same objects through
its `Sizer` / `Protection` seams, so a strategy sizes and locks in a backtest as it would live.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from tui_trader.backtest.sizing import Protection
    from tui_trader.config.risk import RiskSettings
    from tui_trader.risk.sizing import BacktestSizer, StakeFunction


def strategy_name(strategy: Any) -> str:
    return getattr(strategy, "name", "") or type(strategy).__name__


@dataclass(frozen=True, slots=True)
class RiskSizer:
    """The live `BacktestSizer`, plus what its mode reads, so the simulation skips the rest.

    Only Kelly reads the closed trades (BacktestSizer rebuilds its track record from all of
    them at every entry: quadratic in the trade count), only volatility targeting (and
    risk_per_trade without a stoploss) reads the ATR.
    """

    inner: BacktestSizer
    reads_closed_trades: bool
    stake: Callable[[Any], float] = field(init=False)  # the inner sizer's (one call per trade)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stake", self.inner.stake)

    def stake_function(self, fee: float, max_open_trades: int | None) -> StakeFunction | None:
        """The inner sizer's stake as a plain function (`BacktestSizer.stake_function`)."""
        return self.inner.stake_function(fee, max_open_trades)


def risk_sizer(
    strategy: Any, risk: RiskSettings, frames: Mapping[str, pd.DataFrame] | Mapping[str, dict[str, Any]]
) -> RiskSizer:
    """The strategy's live sizing rule (its override or `[risk.sizing]`), custom_stake_amount
    included; the stop comes from its `stoploss`, the ATR from the last closed bar (of each
    symbol's frame, or of its dict of arrays: date in int64 ns, high, low, close)."""
    from tui_trader.risk.sizing import BacktestSizer, Sizer, sizing_for

    settings = sizing_for(strategy_name(strategy), risk.sizing, risk.strategies)
    wants_atr = settings.mode == "volatility" or (
        settings.mode == "risk_per_trade" and not getattr(strategy, "stoploss", None)
    )
    inner = BacktestSizer(
        Sizer(settings),
        strategy=strategy,
        atr_of=_atr_lookup(frames, settings.atr_period) if wants_atr else None,
    )
    return RiskSizer(inner, reads_closed_trades=settings.mode == "kelly")


def risk_protections(
    strategy: Any, risk: RiskSettings, *, candle_minutes: float, capital: float
) -> list[Protection]:
    """Global protections, then the strategy's own, as the live RiskManager holds them."""
    from tui_trader.risk.protections import ProtectionSet

    scopes = [risk.protections]
    own = risk.strategies.get(strategy_name(strategy))
    if own is not None and own.protections:
        scopes.append(own.protections)
    sets = [
        ProtectionSet(configs, candle_minutes=candle_minutes, balance=capital)
        for configs in scopes
        if configs
    ]
    # ProtectionSet.allows_entry takes any closed-trade shape: a Protection for the backtester
    return cast("list[Protection]", sets)


def _atr_lookup(
    frames: Mapping[str, pd.DataFrame] | Mapping[str, dict[str, Any]], period: int
) -> Callable[[str, int], float | None]:
    """atr_of(symbol, entry_time_ns): Wilder's ATR of the bar closed before the entry's open,
    computed once per symbol on first use (only the ATR-based sizing modes ask)."""
    import math

    import numpy as np

    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def atr_of(symbol: str, time_ns: int) -> float | None:
        if symbol not in cache:
            import talib

            df = frames[symbol]
            if isinstance(df, dict):  # the pandas-free backtest's arrays (date in int64 ns)
                times, high, low, close = (df[k] for k in ("date", "high", "low", "close"))
            else:
                times = df["date"].to_numpy(dtype="datetime64[ns]").view("int64")
                high, low, close = (df[k].to_numpy(np.float64) for k in ("high", "low", "close"))
            atr = talib.ATR(high, low, close, timeperiod=period)
            cache[symbol] = (times, atr)
        times, atr = cache[symbol]
        i = int(np.searchsorted(times, time_ns, side="left")) - 1
        if i < 0:
            return None
        value = float(atr[i])
        return value if math.isfinite(value) and value > 0 else None

    return atr_of
