"""Candle history of the paper market: every timeframe aggregated from the same 1-minute path.

A bar of any timeframe (aligned to the epoch, like ccxt) is its minutes' first open, highest
high, lowest low, last close and summed volume; minutes when the market is shut (a stock
exchange at night, forex at the weekend) have no bar, as in real data. Only closed bars are
returned: the bar still forming at `end` is left out, and the last bar's close is the price
at its end, where the live quotes carry on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from tui_trader.core.market import Candle
from tui_trader.venues.paper.path import MINUTES_PER_BLOCK, PricePath, _Lru

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
MAX_BLOCKS = 52 * 40  # never look back further than 40 years for bars
_PARTIALS = _Lru(512)  # per-block bars of 15 minutes and longer: at most ~32 KB each


def tf_seconds(timeframe: str) -> int:
    """Seconds per bar; the paper market's history is per minute, so 1m is the shortest."""
    try:
        secs = int(timeframe[:-1]) * _UNITS[timeframe[-1]]
    except (KeyError, ValueError):
        raise ValueError(f"unknown timeframe {timeframe!r}; use e.g. 1m, 5m, 15m, 1h, 4h, 1d") from None
    if secs <= 0:
        raise ValueError(f"unknown timeframe {timeframe!r}; use e.g. 1m, 5m, 15m, 1h, 4h, 1d")
    return secs


@dataclass(frozen=True, slots=True)
class Bars:
    """Bars as arrays: `ts` is each bar's open time in epoch seconds."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    def tail(self, n: int) -> Bars:
        return self.slice(max(0, len(self) - n), len(self))

    def slice(self, a: int, b: int) -> Bars:
        return Bars(*(x[a:b] for x in (self.ts, self.open, self.high, self.low, self.close, self.volume)))

    def candles(self, symbol: str, timeframe: str) -> list[Candle]:
        out = []
        for t, o, h, low, c, v in zip(
            self.ts.tolist(),
            self.open.tolist(),
            self.high.tolist(),
            self.low.tolist(),
            self.close.tolist(),
            self.volume.tolist(),
            strict=True,
        ):
            out.append(Candle(symbol, timeframe, datetime.fromtimestamp(t, UTC), o, h, low, c, v))
        return out


def _empty() -> Bars:
    return Bars(*(np.empty(0, dtype=np.int64 if i == 0 else float) for i in range(6)))


def _concat(parts: list[Bars]) -> Bars:
    """Join per-block bars in time order, merging a bar that spans a block boundary."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty()
    merged = [parts[0]]
    for p in parts[1:]:
        last = merged[-1]
        if last.ts[-1] == p.ts[0]:
            joint = Bars(
                last.ts[-1:],
                last.open[-1:],
                np.maximum(last.high[-1:], p.high[:1]),
                np.minimum(last.low[-1:], p.low[:1]),
                p.close[:1],
                last.volume[-1:] + p.volume[:1],
            )
            merged[-1] = last.slice(0, len(last) - 1)
            merged.append(joint)
            p = p.slice(1, len(p))
        merged.append(p)
    return Bars(*(np.concatenate([getattr(m, f) for m in merged]) for f in Bars.__slots__))


def block_bars(path: PricePath, index: int, secs: int) -> Bars:
    """The bars of `secs` seconds that a block's trading minutes make (the first and last may be
    parts of bars that carry on into the neighbouring blocks)."""
    key = (*path.bars_key, index, secs)
    if secs >= 900:
        hit = _PARTIALS.get(key)
        if hit is not None:
            return hit
    blk = path.block(index, keep=secs < 900)  # bars of 15m and longer are cached above instead
    idx = np.flatnonzero(blk.trades)
    if len(idx) == 0:
        return _empty()
    minute_ts = (blk.first_minute + idx).astype(np.int64) * 60
    if secs == 60:
        return Bars(minute_ts, blk.open[idx], blk.high[idx], blk.low[idx], blk.close[idx], blk.volume[idx])
    bar = minute_ts // secs
    starts = np.flatnonzero(np.concatenate([[True], bar[1:] != bar[:-1]]))
    ends = np.concatenate([starts[1:], [len(idx)]]) - 1
    out = Bars(
        bar[starts] * secs,
        blk.open[idx[starts]],
        np.maximum.reduceat(blk.high[idx], starts),
        np.minimum.reduceat(blk.low[idx], starts),
        blk.close[idx[ends]],
        np.add.reduceat(blk.volume[idx], starts),
    )
    if secs >= 900:
        _PARTIALS.put(key, out)
    return out


def bars_before(path: PricePath, secs: int, end: float, limit: int) -> Bars:
    """The last `limit` bars that closed at or before `end` (epoch seconds)."""
    if limit <= 0:
        return _empty()
    end_bar = math.floor(end / secs)  # the forming bar: excluded
    last_minute = end_bar * secs // 60 - 1
    block = math.floor(last_minute / MINUTES_PER_BLOCK)
    parts: list[Bars] = []
    count = 0
    for _ in range(MAX_BLOCKS):
        if block < 0:
            break
        part = block_bars(path, block, secs)
        part = part.slice(0, int(np.searchsorted(part.ts, end_bar * secs, "left")))
        parts.insert(0, part)
        count += len(part)
        first_complete = len(part) and part.ts[0] >= block * MINUTES_PER_BLOCK * 60
        if count > limit or (count >= limit and first_complete):
            break
        block -= 1
    return _concat(parts).tail(limit)


def bars_between(path: PricePath, secs: int, start: float, end: float, limit: int | None = None) -> Bars:
    """Bars opening at or after `start` that closed at or before `end`, at most `limit`."""
    first_bar = math.ceil(start / secs)
    end_bar = math.floor(end / secs)
    if end_bar <= first_bar:
        return _empty()
    block = math.floor(first_bar * secs / 60 / MINUTES_PER_BLOCK)
    last_block = math.floor((end_bar * secs // 60 - 1) / MINUTES_PER_BLOCK)
    parts: list[Bars] = []
    count = 0
    while block <= last_block:
        part = block_bars(path, block, secs)
        lo = int(np.searchsorted(part.ts, first_bar * secs, "left"))
        hi = int(np.searchsorted(part.ts, end_bar * secs, "left"))
        part = part.slice(lo, hi)
        parts.append(part)
        count += len(part)
        block += 1
        if limit is not None and count > limit:
            break
    bars = _concat(parts)
    return bars.slice(0, limit) if limit is not None else bars


def history(path: PricePath, timeframe: str, end: datetime, limit: int, since: datetime | None = None) -> list[Candle]:
    """`limit` closed candles: the last ones before `end`, or the first ones from `since`."""
    secs = tf_seconds(timeframe)
    if secs % 60:
        raise ValueError(f"the paper market's history is per minute: {timeframe} is not a whole number of minutes")
    if since is not None:
        bars = bars_between(path, secs, since.timestamp(), end.timestamp(), limit)
    else:
        bars = bars_before(path, secs, end.timestamp(), limit)
    return bars.candles(path.symbol, timeframe)
