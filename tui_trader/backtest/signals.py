"""Turn an analyzed DataFrame (enter_long, exit_long, ...) into fill-bar index arrays.

`signals_from_arrays` does it from the signal columns as arrays: the DataFrame path
(`symbol_signals`) and the pandas-free backtest of a rule strategy (`backtest.arrays`) both
call it, so the fill rules live in one place.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tui_trader.backtest.kernel import MarketArrays
from tui_trader.backtest.rules import ExitRules

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class SymbolSignals:
    """One symbol ready to simulate: candles plus the bars where orders would fill."""

    symbol: str
    market: MarketArrays
    entry_bars: np.ndarray  # bar at whose open an entry fills, ascending
    entry_sides: np.ndarray  # +1 long, -1 short
    entry_tags: np.ndarray  # object array, None where untagged
    exit_long: np.ndarray  # bars at whose open an exit signal for a long fills
    exit_short: np.ndarray
    exit_tags: np.ndarray  # exit_tag column per bar as stored (object); read with exit_tag(i)
    enter_long_flag: np.ndarray  # per bar, for ignore_roi_if_entry_signal and the reference path
    enter_short_flag: np.ndarray
    shift: int = 1  # bars from a signal candle to its fill: 1 + latency
    detail: MarketArrays | None = None  # finer candles of the same symbol (--timeframe-detail)

    def exit_fills(self, side: int) -> np.ndarray:
        return self.exit_long if side > 0 else self.exit_short

    def enter_flag(self, side: int) -> np.ndarray:
        return self.enter_long_flag if side > 0 else self.enter_short_flag

    def roi_blocked(self, side: int) -> np.ndarray:
        """Per bar: the candle whose signals this bar acts on carried an entry of `side`
        (ignore_roi_if_entry_signal)."""
        flags = self.enter_flag(side)
        out = np.zeros(len(flags), dtype=bool)
        out[self.shift :] = flags[: len(flags) - self.shift]
        return out

    def exit_tag(self, bar: int) -> str | None:
        """The exit_tag of candle `bar` (None for NaN, "" or no tag)."""
        return _tag(self.exit_tags[bar])


def untagged(values: np.ndarray) -> np.ndarray:
    """Per cell of an object array: no tag (None, NaN, pandas' NA or NaT), as `pd.isna`."""
    pd = sys.modules.get("pandas")
    if pd is not None:  # a cell can only hold pandas' NA or NaT once pandas is imported
        return np.asarray(pd.isna(values), dtype=bool)
    return np.fromiter((v is None or v != v for v in values.tolist()), dtype=bool, count=len(values))


def flag(df: pd.DataFrame, name: str) -> np.ndarray:
    """A signal column as bool (missing column, NaN and 0 are False)."""
    import pandas as pd

    if name not in df.columns:
        return np.zeros(len(df), dtype=bool)
    col = df[name]
    if col.dtype == bool:
        return col.to_numpy()
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iu":  # analyze's int8 0/1
        return col.to_numpy() != 0
    return pd.to_numeric(col, errors="coerce").fillna(0).to_numpy(dtype=np.float64) != 0


def _tag(value: object) -> str | None:
    """None for a missing tag (None, NaN, NA), else the tag as the strategy wrote it."""
    if value is None or type(value) is str:
        return value
    pd = sys.modules.get("pandas")
    if pd is not None:
        return None if pd.isna(value) is True else value  # type: ignore[return-value]
    return None if isinstance(value, float) and value != value else value  # type: ignore[return-value]


def _column(df: pd.DataFrame, name: str) -> np.ndarray:
    """The tag column as an object array without normalising it: a year of 1-minute bars is
    525,600 cells, and only the few at entry or exit-signal bars are ever read."""
    if name not in df.columns:
        return np.full(len(df), None, dtype=object)
    return df[name].to_numpy(dtype=object)


def tags_at(column: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A tag column's cells at `rows` as an object array, None where untagged."""
    out = np.full(len(rows), None, dtype=object)
    if len(rows):
        values = column[rows]
        tagged = ~untagged(values)  # as _tag, for all of them at once
        out[tagged] = values[tagged]
    return out


def market_arrays(df: pd.DataFrame, bar_seconds: int) -> MarketArrays:
    """Float64 columns, int64-ns open times and each month's price tick from a validated
    candle frame."""
    import pandas as pd

    times = pd.DatetimeIndex(df["date"]).as_unit("ns").asi8
    o, h, lo, c, v = (df[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close", "volume"))
    return market_from_arrays(times, o, h, lo, c, v, bar_seconds)


def market_from_arrays(times: np.ndarray, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray,
                       v: np.ndarray, bar_seconds: int) -> MarketArrays:  # fmt: skip
    """MarketArrays from int64-ns open times and float64 OHLCV columns, each month's tick read
    from its prices."""
    from tui_trader.strategy.precision import month_ticks

    times = np.ascontiguousarray(times, dtype=np.int64)
    return MarketArrays(
        time=times,
        open=o,
        high=h,
        low=lo,
        close=c,
        volume=v,
        bar_ns=int(bar_seconds) * 1_000_000_000,
        tick=month_ticks(times, o, h, lo, c),
    )


def detail_arrays(main: MarketArrays, df: pd.DataFrame, bar_seconds: int) -> MarketArrays:
    """The finer candles inside the main candles' range, each priced on its main candle's tick
    (Freqtrade takes the tick from the main timeframe)."""
    import pandas as pd

    times = np.ascontiguousarray(pd.DatetimeIndex(df["date"]).as_unit("ns").asi8, dtype=np.int64)
    keep = (times >= main.time[0]) & (times < main.time[-1] + main.bar_ns)
    owner = np.searchsorted(main.time, times[keep], side="right") - 1
    return MarketArrays(
        time=times[keep],
        open=df["open"].to_numpy(dtype=np.float64)[keep],
        high=df["high"].to_numpy(dtype=np.float64)[keep],
        low=df["low"].to_numpy(dtype=np.float64)[keep],
        close=df["close"].to_numpy(dtype=np.float64)[keep],
        volume=df["volume"].to_numpy(dtype=np.float64)[keep],
        bar_ns=int(bar_seconds) * 1_000_000_000,
        tick=main.tick[owner],
    )


def symbol_signals(
    symbol: str,
    df: pd.DataFrame,
    rules: ExitRules,
    *,
    bar_seconds: int,
    latency_bars: int = 0,
    detail: pd.DataFrame | None = None,
    detail_seconds: int = 0,
) -> SymbolSignals:
    """`signals_from_arrays` on an analyzed frame's signal and tag columns."""
    n = len(df)
    market = market_arrays(df, bar_seconds)
    no_short = not rules.can_short
    return signals_from_arrays(
        symbol,
        market,
        rules,
        enter_long=flag(df, "enter_long"),
        exit_long=flag(df, "exit_long"),
        enter_short=np.zeros(n, dtype=bool) if no_short else flag(df, "enter_short"),
        exit_short=np.zeros(n, dtype=bool) if no_short else flag(df, "exit_short"),
        enter_tags=_column(df, "enter_tag"),
        exit_tags=_column(df, "exit_tag"),
        latency_bars=latency_bars,
        detail=None if detail is None else detail_arrays(market, detail, detail_seconds),
    )


def signals_from_arrays(
    symbol: str,
    market: MarketArrays,
    rules: ExitRules,
    *,
    enter_long: np.ndarray,
    exit_long: np.ndarray,
    enter_short: np.ndarray,
    exit_short: np.ndarray,
    enter_tags: np.ndarray,
    exit_tags: np.ndarray,
    latency_bars: int = 0,
    detail: MarketArrays | None = None,
) -> SymbolSignals:
    """A signal on closed candle i fills at the open of candle i + 1 + latency.

    Freqtrade's rules: an entry needs no exit signal of its direction and no entry of the other
    direction on its candle; an exit signal on a candle that also carries an entry in the same
    direction is ignored; no trade opens on the last candle (the data ends there). The signal
    columns are bool arrays (the short ones all False unless the rules can short), the tag
    columns object arrays as the strategy wrote them.
    """
    n = len(market.time)
    shift = 1 + int(latency_bars)
    go_long = enter_long & ~exit_long & ~enter_short
    go_short = enter_short & ~exit_short & ~enter_long
    sig = np.flatnonzero(go_long | go_short)
    fill = sig + shift
    keep = fill < n - 1
    sig, fill = sig[keep], fill[keep]
    sides = np.where(go_long[sig], 1, -1).astype(np.int8)
    tags = tags_at(enter_tags, sig)
    if rules.use_exit_signal:
        xl = np.flatnonzero(exit_long & ~enter_long) + shift
        xs = np.flatnonzero(exit_short & ~enter_short) + shift
    else:
        xl = xs = np.empty(0, dtype=np.int64)
    return SymbolSignals(
        symbol=symbol,
        market=market,
        entry_bars=fill.astype(np.int64),
        entry_sides=sides,
        entry_tags=tags,
        exit_long=xl[xl < n].astype(np.int64),
        exit_short=xs[xs < n].astype(np.int64),
        exit_tags=exit_tags,
        enter_long_flag=enter_long,
        enter_short_flag=enter_short,
        shift=shift,
        detail=detail,
    )
