"""Futures mode of the backtester: perpetuals at a leverage on isolated margin, both sides, with
funding from history, as Freqtrade's futures backtests compute them.

- The stake is the margin; the position is stake x leverage / price (truncated to the amount
  step, the margin then recomputed from it, as Freqtrade does). Fees are on the notional.
- Stoploss, ROI, trailing offsets and exit_profit_offset are ratios of the margin (Freqtrade's
  `profit_ratio` is leveraged): a 9 % stop at 3x is a 3 % move of the price. The exit search
  runs on the price with every ratio divided by the leverage.
- Funding: at every funding time from the trade's open to its close (both included), the
  position pays (a long when the rate is positive) or receives rate x mark price x amount.
  The table is Freqtrade's: funding-rate candles joined with mark-price candles on their dates
  (`combine_funding_and_mark`), the mark at the candle's open.
- The leverage is the strategy's `leverage()` answer (1 when it has none), clamped to
  [1, max_leverage]; it is asked at every entry and must be the same each time.
- Liquidation is not simulated: a position is assumed to reach its stop first (refused when
  its stop is beyond the liquidation distance 1 / leverage).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_trader.backtest.rules import ExitRules
from tui_trader.core.clock import utc_datetime
from tui_trader.core.errors import DataError, UsageError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class FundingTable:
    """One symbol's funding times (ns, sorted) and what one unit pays there (rate x mark)."""

    times: np.ndarray
    per_unit: np.ndarray

    def paid(self, side: int, amount: float, open_ns: int, close_ns: int) -> float:
        """Freqtrade's `funding_fees` of a trade: > 0 received, < 0 paid."""
        first = int(np.searchsorted(self.times, open_ns, "left"))
        last = int(np.searchsorted(self.times, close_ns, "right"))
        # summed as Python floats in order, as Freqtrade sums them
        fees = sum((self.per_unit[first:last] * amount).tolist())
        return float(fees) if side < 0 else -float(fees)


@dataclass(frozen=True, slots=True)
class Futures:
    leverage: float
    funding: Mapping[str, FundingTable] = field(default_factory=dict)
    max_leverage: float = 125.0

    def rules(self, rules: ExitRules) -> ExitRules:
        """The exit rules on the price: every ratio of the margin divided by the leverage."""
        lev = self.leverage
        return dataclasses.replace(
            rules,
            stoploss=rules.stoploss / lev,
            roi_values=rules.roi_values / lev,
            trailing_stop_positive=None if rules.trailing_stop_positive is None else rules.trailing_stop_positive / lev,
            trailing_stop_positive_offset=rules.trailing_stop_positive_offset / lev,
            exit_profit_offset=rules.exit_profit_offset / lev,
            can_short=rules.can_short,
        )

    def funding_of(self, symbol: str, side: int, amount: float, open_ns: int, close_ns: int) -> float:
        table = self.funding.get(symbol)
        return 0.0 if table is None else table.paid(side, amount, open_ns, close_ns)

    def check_leverage(self, strategy: Any, symbol: str, time_ns: int, rate: float, side: int, tag: str | None) -> None:
        """The strategy's leverage for this entry must be the run's."""
        lev = strategy_leverage(strategy, symbol, time_ns, rate, side, tag, self.max_leverage)
        if lev != self.leverage:
            raise UsageError(
                f"{symbol}: the strategy's leverage() gave {lev:g} for the entry at "
                f"{_pd().Timestamp(time_ns, tz='UTC')} and {self.leverage:g} before; futures backtests "
                "trade one leverage per run: return the same value for every trade"
            )


def strategy_leverage(
    strategy: Any, symbol: str, time_ns: int, rate: float, side: int, tag: str | None, max_leverage: float
) -> float:
    hook = getattr(strategy, "leverage", None)
    if hook is None:
        return 1.0
    when: datetime = utc_datetime(time_ns)
    value = hook(
        pair=symbol, current_time=when, current_rate=rate, proposed_leverage=1.0, max_leverage=max_leverage,
        entry_tag=tag, side="long" if side > 0 else "short",
    )  # fmt: skip
    return float(min(max(float(value or 1.0), 1.0), max_leverage))


def funding_table(funding_rates: pd.DataFrame, mark: pd.DataFrame) -> FundingTable:
    """Funding-rate candles (`funding_rate`, else `open`) joined with mark-price candles (`open`)
    on their dates, as Freqtrade's `combine_funding_and_mark` (times without both are dropped)."""
    for name, df in (("funding rates", funding_rates), ("mark prices", mark)):
        if "date" not in df.columns:
            raise DataError(f"{name}: no date column")
    col = "funding_rate" if "funding_rate" in funding_rates.columns else "open"
    rates = funding_rates.loc[:, ["date", col]].rename(columns={col: "open_fund"})
    marks = mark.loc[:, ["date", "open"]].rename(columns={"open": "open_mark"})
    joined = marks.merge(rates, on="date", how="inner").sort_values("date")
    times = _pd().to_datetime(joined["date"], utc=True).dt.as_unit("ns").astype("int64").to_numpy()
    return FundingTable(times, (joined["open_fund"] * joined["open_mark"]).to_numpy(dtype="float64"))


def futures_mode(
    strategy: Any,
    frames: Mapping[str, pd.DataFrame],
    funding: Mapping[str, FundingTable | tuple[pd.DataFrame, pd.DataFrame]] | None,
    rules: ExitRules,
    max_leverage: float = 125.0,
) -> Futures:
    """The run's futures settings: the leverage the strategy asks for at its first candle, and
    each symbol's funding table (symbols without one pay no funding)."""
    from tui_trader.backtest.reference import needs_reference

    if needs_reference(strategy):
        raise UsageError(
            "futures backtests do not run per-candle exit hooks (custom_stoploss, custom_exit, "
            "adjust_trade_position ...) yet: use the strategy's stoploss, ROI and exit signals"
        )
    first = next(iter(frames))
    df = frames[first]
    t0 = int(_pd().Timestamp(df["date"].iloc[0]).value)
    lev = strategy_leverage(strategy, first, t0, float(df["open"].iloc[0]), 1, None, max_leverage)
    if rules.stoploss <= -1.0 / lev + 1e-12 and lev > 1:
        raise UsageError(
            f"stoploss {rules.stoploss:g} at {lev:g}x is beyond the liquidation distance "
            f"({-1 / lev:.3f} of the margin); liquidation is not simulated: set a tighter stoploss"
        )
    tables = {
        s: f if isinstance(f, FundingTable) else funding_table(*f) for s, f in (funding or {}).items() if s in frames
    }
    return Futures(lev, tables, max_leverage)


def _pd() -> Any:
    import pandas as pd

    return pd
