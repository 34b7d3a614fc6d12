"""Price ticks read from the candles, and prices rounded to them, as Freqtrade's backtester does.

Freqtrade knows no exchange tick in a backtest, so it takes the tick of each calendar month from
the data: the most decimals any open/high/low/close of that month shows (prices read to 14
significant digits). Stops are rounded to that tick away from the position (up for longs, down
for shorts), every other exit price to the nearest tick. We do the same, so a stop or ROI price
equals Freqtrade's to the last digit.
"""

from __future__ import annotations

import math

import numpy as np

_MAX_DECIMALS = 20
_SIG = 1e-13  # a price is read to ~14 significant digits: residues below this are float noise
_SAMPLE = 64  # bars per month read first to guess the month's decimals


def _fits_columns(columns: tuple[np.ndarray, ...], p10: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Per bar: every column's price has at most log10(p10) decimals, up to `tol` (the float
    noise of 14 significant digits at the month's largest price). One column at a time, in
    place: a year of 1-minute bars is 2 million prices."""
    ok = np.ones(len(p10), dtype=bool)
    for col in columns:
        scaled = col * p10
        scaled -= np.rint(scaled)
        np.abs(scaled, out=scaled)
        ok &= scaled <= tol
    return ok


def _fits(values: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    """Per value: it has at most `decimals` decimals (read to 14 significant digits)."""
    scaled = values * np.power(10.0, decimals)
    return np.abs(scaled - np.rint(scaled)) <= _SIG * np.abs(scaled) + 1e-300


def _month_starts(time_ns: np.ndarray) -> np.ndarray:
    """Index of the first bar of each calendar month present (bars sorted by time)."""
    first = np.datetime64(int(time_ns[0]), "ns").astype("datetime64[M]")
    last = np.datetime64(int(time_ns[-1]), "ns").astype("datetime64[M]")
    bounds = np.arange(first, last + 1).astype("datetime64[ns]").view(np.int64)
    starts = np.searchsorted(time_ns, bounds, side="left")  # ascending: unique without a sort
    starts = starts[starts < len(time_ns)]
    return starts[np.concatenate(([True], np.diff(starts) != 0))]


def month_ticks(time_ns: np.ndarray, *columns: np.ndarray) -> np.ndarray:
    """The tick (10 ** -decimals) of every bar's calendar month, from the given price columns."""
    n = len(time_ns)
    if n == 0:
        return np.empty(0)
    starts = _month_starts(time_ns)
    counts = np.diff(np.append(starts, n))
    # a guess per month from its first bars, then one pass over every bar to confirm it
    guess = np.zeros(len(starts), dtype=np.int64)
    for m, (s, c) in enumerate(zip(starts, counts, strict=True)):
        sample = np.concatenate([col[s : s + min(c, _SAMPLE)] for col in columns])
        # a set, not np.unique: that imports numpy.ma (~5 ms) for its masked-array check
        guess[m] = max(_decimals(v) for v in set(sample.tolist()))
    p10 = np.power(10.0, guess.astype(np.float64))
    top = np.maximum.reduce([np.maximum.reduceat(np.abs(col), starts) for col in columns])
    tol = np.repeat(_SIG * top * p10 + 1e-300, counts)
    ok = np.logical_and.reduceat(_fits_columns(columns, np.repeat(p10, counts), tol), starts)
    lo = guess.copy()
    hi = np.where(ok, guess, _MAX_DECIMALS)
    todo = np.flatnonzero(~ok)
    # months where a later bar shows more decimals: binary search on those months only
    while len(todo):
        mid = (lo[todo] + hi[todo]) // 2
        for m, d in zip(todo.tolist(), mid.tolist(), strict=True):
            block = np.column_stack([col[starts[m] : starts[m] + counts[m]] for col in columns])
            if _fits(block, np.asarray(d)).all():
                hi[m] = d
            else:
                lo[m] = d + 1
        todo = todo[lo[todo] < hi[todo]]
    return np.repeat(np.power(10.0, -hi.astype(np.float64)), counts)


def _decimals(value: float) -> int:
    """Decimals of `value` written with 14 significant digits, trailing zeros dropped."""
    if value == 0 or not math.isfinite(value):
        return 0
    text = np.format_float_positional(value, precision=14, unique=False, fractional=False, trim="-")
    _, _, frac = text.partition(".")
    return min(len(frac.rstrip("0")), _MAX_DECIMALS)


def _scale(price: np.ndarray | float, tick: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(price, 10 ** decimals of the tick, price in ticks) as float arrays."""
    p10 = np.power(10.0, np.rint(-np.log10(tick)))
    values = np.asarray(price, dtype=np.float64)
    return values, p10, values * p10


def _on_tick(values: np.ndarray, p10: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """The price's shortest decimal form (what Freqtrade rounds) is exactly `whole` ticks."""
    return whole / p10 == values


def round_up(price: np.ndarray | float, tick: np.ndarray | float) -> np.ndarray:
    """Up to the next tick (a price already on a tick stays): a long's stop."""
    values, p10, scaled = _scale(price, tick)
    up = np.ceil(scaled)
    up = np.where(up / p10 < values, up + 1, up)
    up = np.where((up - 1) / p10 >= values, up - 1, up)
    return np.where(_on_tick(values, p10, np.rint(scaled)), values, np.round(up / p10, 14))


def round_down(price: np.ndarray | float, tick: np.ndarray | float) -> np.ndarray:
    """Down to the tick below (a price already on a tick stays): a short's stop."""
    values, p10, scaled = _scale(price, tick)
    down = np.floor(scaled)
    down = np.where(down / p10 > values, down - 1, down)
    down = np.where((down + 1) / p10 <= values, down + 1, down)
    return np.where(_on_tick(values, p10, np.rint(scaled)), values, np.round(down / p10, 14))


def round_nearest(price: np.ndarray | float, tick: np.ndarray | float) -> np.ndarray:
    """To the nearest tick, halves up: every exit price that is not a stop."""
    values, p10, scaled = _scale(price, tick)
    low = np.floor(scaled)
    low = np.where(low / p10 > values, low - 1, low)
    half = (low + 0.5) / p10
    up = (values > half) | (half == values)
    out = np.where(up, low + 1, low)
    return np.where(_on_tick(values, p10, np.rint(scaled)), values, np.round(out / p10, 14))


def price_round_up(price: float, tick: float | None) -> float:
    """`round_up` for one price; no tick (None) leaves it as it is."""
    return price if not tick else float(round_up(price, tick))


def price_round_down(price: float, tick: float | None) -> float:
    return price if not tick else float(round_down(price, tick))


def price_round(price: float, tick: float | None) -> float:
    return price if not tick else float(round_nearest(price, tick))
