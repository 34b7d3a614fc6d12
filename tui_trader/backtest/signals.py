"""Turn an analyzed DataFrame (enter_long, exit_long, ...) into fill-bar index arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tui_trader.backtest.kernel import MarketArrays
from tui_trader.backtest.rules import ExitRules


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


def flag(df: pd.DataFrame, name: str) -> np.ndarray:
    """A signal column as bool (missing column, NaN and 0 are False)."""
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
    return None if value is None or pd.isna(value) is True else value  # type: ignore[return-value]


def _column(df: pd.DataFrame, name: str) -> np.ndarray:
    """The tag column as an object array without normalising it: a year of 1-minute bars is
    525,600 cells, and only the few at entry or exit-signal bars are ever read."""
    if name not in df.columns:
        return np.full(len(df), None, dtype=object)
    return df[name].to_numpy(dtype=object)


def _tags_at(df: pd.DataFrame, name: str, rows: np.ndarray) -> np.ndarray:
    """Tags of `rows` as an object array, None where untagged."""
    out = np.full(len(rows), None, dtype=object)
    if name in df.columns and len(rows):
        values = df[name].to_numpy(dtype=object)[rows]
        tagged = ~pd.isna(values)  # as _tag, for all of them at once
        out[tagged] = values[tagged]
    return out


def market_arrays(df: pd.DataFrame, bar_seconds: int) -> MarketArrays:
    """Float64 columns, int64-ns open times and each month's price tick from a validated
    candle frame."""
    from tui_trader.strategy.precision import month_ticks

    times = np.ascontiguousarray(pd.DatetimeIndex(df["date"]).as_unit("ns").asi8, dtype=np.int64)
    o, h, lo, c = (df[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close"))
    return MarketArrays(
        time=times,
        open=o,
        high=h,
        low=lo,
        close=c,
        volume=df["volume"].to_numpy(dtype=np.float64),
        bar_ns=int(bar_seconds) * 1_000_000_000,
        tick=month_ticks(times, o, h, lo, c),
    )


def detail_arrays(main: MarketArrays, df: pd.DataFrame, bar_seconds: int) -> MarketArrays:
    """The finer candles inside the main candles' range, each priced on its main candle's tick
    (Freqtrade takes the tick from the main timeframe)."""
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
    """A signal on closed candle i fills at the open of candle i + 1 + latency.

    Freqtrade's rules: an entry needs no exit signal of its direction and no entry of the other
    direction on its candle; an exit signal on a candle that also carries an entry in the same
    direction is ignored; no trade opens on the last candle (the data ends there).
    """
    n = len(df)
    shift = 1 + int(latency_bars)
    enter_long = flag(df, "enter_long")
    exit_long = flag(df, "exit_long")
    if rules.can_short:
        enter_short, exit_short = flag(df, "enter_short"), flag(df, "exit_short")
    else:
        enter_short = exit_short = np.zeros(n, dtype=bool)
    go_long = enter_long & ~exit_long & ~enter_short
    go_short = enter_short & ~exit_short & ~enter_long
    sig = np.flatnonzero(go_long | go_short)
    fill = sig + shift
    keep = fill < n - 1
    sig, fill = sig[keep], fill[keep]
    sides = np.where(go_long[sig], 1, -1).astype(np.int8)
    tags = _tags_at(df, "enter_tag", sig)
    if rules.use_exit_signal:
        xl = np.flatnonzero(exit_long & ~enter_long) + shift
        xs = np.flatnonzero(exit_short & ~enter_short) + shift
    else:
        xl = xs = np.empty(0, dtype=np.int64)
    market = market_arrays(df, bar_seconds)
    return SymbolSignals(
        symbol=symbol,
        market=market,
        entry_bars=fill.astype(np.int64),
        entry_sides=sides,
        entry_tags=tags,
        exit_long=xl[xl < n].astype(np.int64),
        exit_short=xs[xs < n].astype(np.int64),
        exit_tags=_column(df, "exit_tag"),
        enter_long_flag=enter_long,
        enter_short_flag=enter_short,
        shift=shift,
        detail=None if detail is None else detail_arrays(market, detail, detail_seconds),
    )
