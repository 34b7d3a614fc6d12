"""The paper market's price path: for each (seed, symbol), a pure function of time.

Every candle, quote and trade of the paper exchange reads this one path, so any window of
history is the same whoever asks, every timeframe aggregates the same minutes, and a restart
finds the market where the clock says it is. It is built in three layers, each generated per
block of time from random numbers keyed on (seed, symbol, layer, block), so a window never
needs the path from the epoch:

1. *Pins*, the log price at each week boundary: a Brownian bridge filled in top-down
   (Lévy's construction) between anchors 16 weeks apart, which are drawn independently
   around the symbol's level (their spread matches the volatility over 16 weeks, so the
   path is a random walk up to a few months and stays near its level beyond). Each week
   has a regime (normal, trend up, trend down, range, high volatility) from a persistent
   Markov chain; it sets that week's variance and drift.
2. *Minutes* between two pins: a Brownian bridge whose per-minute variance follows the
   market's hours (zero while a stock exchange is shut, an opening gap, busier opens and
   closes), an hourly stochastic volatility and rare jumps. Each minute's high and low are
   drawn from the exact distribution of a Brownian bridge's maximum and minimum.
3. *Ticks* inside a minute (for live quotes): a 240-step (250 ms) path from the minute's
   open to its close through its high and low.

A named paper venue other than the reference market quotes the same path times its own
*basis* (`Basis`): a fixed premium plus noise that wanders over minutes to hours, constant
within each minute, so its bars and quotes stay consistent and two venues trade the same
market at slightly different prices, as real venues do.
"""

from __future__ import annotations

import itertools
import math
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from tui_trader.core.hours import MarketHours
from tui_trader.venues.paper.instruments import SimProfile

MINUTES_PER_BLOCK = 7 * 1440  # a block is one week of minutes, aligned to the epoch
BLOCK_SECONDS = MINUTES_PER_BLOCK * 60
WEEKS_PER_ANCHOR = 16  # pins are bridged between anchors this many weeks apart
TICKS_PER_MINUTE = 240  # the live path inside a minute: 250 ms steps
WEEKS_PER_YEAR = 365.25 / 7

# Layers of random numbers (part of the key, with seed, symbol and block index).
_ANCHOR, _PINS, _REGIME, _MINUTES, _TICKS, _BASIS = 1, 2, 3, 4, 5, 6
_INDEX_OFFSET = 1 << 40  # keys must be non-negative

# Regimes: normal, trend up, trend down, range, high volatility.
REGIMES = ("normal", "trend_up", "trend_down", "range", "high_vol")
_REGIME_P = np.array([0.36, 0.16, 0.16, 0.20, 0.12])
_REGIME_VOL = np.array([1.0, 0.9, 1.15, 0.55, 2.0])  # multiplies the volatility
_REGIME_DRIFT = np.array([0.0, 0.8, -0.9, 0.0, 0.0])  # weekly drift in weekly standard deviations
_REGIME_STAY = 0.8  # a regime lasts five weeks on average
_VAR_NORM = float(_REGIME_P @ (_REGIME_VOL**2))  # so the long-run variance is the profile's

_SV_STD, _SV_PHI = 0.35, 0.9  # hourly log-volatility: stationary std, AR(1) persistence


def _rng(seed: int, symbol_key: int, layer: int, index: int) -> np.random.Generator:
    """A counter-based generator keyed on what is being generated, never on what came before."""
    entropy = [seed & 0xFFFFFFFF, symbol_key, layer, index + _INDEX_OFFSET]
    return np.random.Generator(np.random.Philox(np.random.SeedSequence(entropy)))


BASIS_PERIODS_MIN = (20.0, 2_000.0)  # the basis noise wanders on periods in this range (minutes)
_BASIS_WAVES = 4
_BASIS_WHITE = 0.2  # share of the noise variance that is independent from minute to minute


@dataclass(frozen=True, slots=True)
class Basis:
    """A venue's premium over the shared market: `bps` fixed, plus noise with a standard
    deviation of `noise_bps`, a pure function of (seed, symbol, minute). Most of the noise is a
    few slow waves with periods of 20 minutes to 33 hours (seeded phases and periods), so the
    gap between two venues persists for a while and mean-reverts, the rest is per minute."""

    seed: int
    bps: float = 0.0
    noise_bps: float = 0.0

    @property
    def active(self) -> bool:
        return bool(self.bps or self.noise_bps)

    def log_offsets(self, symbol_key: int, first_minute: int, n: int) -> np.ndarray:
        """The log premium of each of `n` minutes from `first_minute` on."""
        out = np.full(n, math.log1p(self.bps / 1e4))
        if not self.noise_bps:
            return out
        sigma = self.noise_bps / 1e4
        rng = _rng(self.seed, symbol_key, _BASIS, -1)  # the waves: one draw per (seed, symbol)
        lo, hi = BASIS_PERIODS_MIN
        periods = np.exp(rng.uniform(math.log(lo), math.log(hi), _BASIS_WAVES))
        phases = rng.uniform(0.0, 2 * math.pi, _BASIS_WAVES)
        amp = sigma * math.sqrt((1 - _BASIS_WHITE) * 2 / _BASIS_WAVES)
        t = (first_minute + np.arange(n, dtype=np.float64))[:, None]
        out += amp * np.sin(2 * math.pi * t / periods + phases).sum(axis=1)
        # minute noise, keyed per block so any window gives the same values
        first_block, last_block = first_minute // MINUTES_PER_BLOCK, (first_minute + n - 1) // MINUTES_PER_BLOCK
        white_sd = sigma * math.sqrt(_BASIS_WHITE)
        for b in range(first_block, last_block + 1):
            z = _rng(self.seed, symbol_key, _BASIS, b).standard_normal(MINUTES_PER_BLOCK)
            start = b * MINUTES_PER_BLOCK
            a, e = max(first_minute, start), min(first_minute + n, start + MINUTES_PER_BLOCK)
            out[a - first_minute : e - first_minute] += white_sd * z[a - start : e - start]
        return out


@dataclass(frozen=True, slots=True)
class Block:
    """One week of 1-minute bars; `trades` is False where the market is shut (no bar)."""

    index: int
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    sigma: np.ndarray  # float32: std of the log move inside each minute (for the tick path)
    trades: np.ndarray  # bool
    regime: int

    @property
    def first_minute(self) -> int:
        return self.index * MINUTES_PER_BLOCK


class _Lru:
    """A small thread-safe LRU cache (blocks are shared by every path of the same symbol)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


_BLOCKS = _Lru(48)  # ~0.45 MB each
_ANCHORS = _Lru(512)


class PricePath:
    """The price of one symbol as a function of time (epoch seconds or minutes)."""

    def __init__(
        self,
        seed: int,
        symbol: str,
        profile: SimProfile,
        hours: MarketHours,
        price_decimals: int,
        basis: Basis | None = None,
    ) -> None:
        self.seed = seed
        self.symbol = symbol
        self.profile = profile
        self.hours = hours
        self.decimals = price_decimals
        self._key = zlib.crc32(symbol.encode())
        self._cache_key = (seed, symbol, profile, hours.name, price_decimals)
        self.basis = basis if basis is not None and basis.active else None
        self._block_key = (*self._cache_key, self.basis)  # pins are shared, bars carry the basis
        self._week_var = profile.annual_vol**2 / WEEKS_PER_YEAR / _VAR_NORM
        # Two independent anchors differ by as much as a random walk moves between them.
        self._anchor_sd = profile.annual_vol * math.sqrt(WEEKS_PER_ANCHOR / WEEKS_PER_YEAR / 2)
        self._last: Block | None = None
        self._before: Block | None = None  # the block before: the 24 h statistics read back into it
        self._ticks: tuple[int, np.ndarray] | None = None

    @property
    def bars_key(self) -> tuple[Any, ...]:
        """What this path's bars depend on (a cache key): the market and this venue's basis."""
        return self._block_key

    # -- queries --------------------------------------------------------------------------------

    def block(self, index: int, *, keep: bool = True) -> Block:
        """Week `index` of minutes. `keep=False` is for history that reaches far back (a year of
        daily bars for the value at risk): a week not computed yet is computed and dropped, so
        it neither evicts the weeks the live quotes read from the shared cache nor holds
        ~0.5 MB a week in it (the caller keeps the bars it aggregates)."""
        last = self._last
        if last is not None and last.index == index:
            return last
        before = self._before
        if before is not None and before.index == index:
            if keep:
                self._last, self._before = before, last
            return before
        blk = self._shared(index, keep)
        if keep:
            self._last, self._before = blk, last
        return blk

    def warm(self, index: int) -> None:
        """Compute week `index` into the shared cache before its first quote needs it. Safe
        in a thread: the cache is thread-safe, and a week's numbers depend on the seed alone."""
        self._shared(index, keep=True)

    def _shared(self, index: int, keep: bool) -> Block:
        key = (*self._block_key, index)
        blk = _BLOCKS.get(key)
        if blk is None:
            if self.basis is None:
                blk = self._make_block(index)
            else:  # the shared market's bars times this venue's premium
                base_key = (*self._cache_key, None, index)
                base = _BLOCKS.get(base_key)
                if base is None:
                    base = self._make_block(index)
                    if keep:
                        _BLOCKS.put(base_key, base)
                blk = self._with_basis(base, self.basis)
            if keep:
                _BLOCKS.put(key, blk)
        return blk

    def _with_basis(self, blk: Block, basis: Basis) -> Block:
        """`blk` at this venue: every price times its premium, constant within each minute, so a
        bar's high and low keep their places; volumes and the tick path's shape are the market's."""
        factor = np.exp(basis.log_offsets(self._key, blk.first_minute, MINUTES_PER_BLOCK))
        nd = self.decimals
        o, c = np.round(blk.open * factor, nd), np.round(blk.close * factor, nd)
        hi = np.maximum(np.round(blk.high * factor, nd), np.maximum(o, c))
        lo = np.minimum(np.round(blk.low * factor, nd), np.minimum(o, c))
        return Block(blk.index, o, hi, lo, c, blk.volume, blk.sigma, blk.trades, blk.regime)

    def minute(self, minute: int) -> tuple[Block, int]:
        b, i = divmod(minute, MINUTES_PER_BLOCK)
        return self.block(b), i

    def price(self, ts: float) -> float:
        """The mid price at `ts` (epoch seconds): the close of the minute before at each
        minute boundary, the 250 ms tick path in between."""
        minute = math.floor(ts / 60.0)
        blk, i = self.minute(minute)
        o, c = float(blk.open[i]), float(blk.close[i])
        frac = ts / 60.0 - minute
        if frac <= 0.0:
            return o
        if blk.high[i] == blk.low[i]:
            return c
        ticks = self._tick_path(minute, blk, i)
        x = frac * TICKS_PER_MINUTE
        j = min(int(x), TICKS_PER_MINUTE - 1)
        w = x - j
        return float(ticks[j] * (1.0 - w) + ticks[j + 1] * w)

    def regime(self, ts: float) -> str:
        return REGIMES[self.minute(math.floor(ts / 60.0))[0].regime]

    def minute_volume(self, ts: float) -> float:
        blk, i = self.minute(math.floor(ts / 60.0))
        return float(blk.volume[i])

    def minute_sigma(self, ts: float) -> float:
        blk, i = self.minute(math.floor(ts / 60.0))
        return float(blk.sigma[i])

    # -- layer 1: pins ----------------------------------------------------------------------------

    def _anchor(self, j: int) -> float:
        key = (*self._cache_key, "anchor", j)
        value = _ANCHORS.get(key)
        if value is None:
            z = float(_rng(self.seed, self._key, _ANCHOR, j).standard_normal())
            value = math.log(self.profile.start) + self._anchor_sd * z
            _ANCHORS.put(key, value)
        return float(value)

    def _span(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Pins (log prices at the 17 week boundaries) and regimes of anchor span `j`."""
        key = (*self._cache_key, "span", j)
        hit = _ANCHORS.get(key)
        if hit is not None:
            return hit
        n = WEEKS_PER_ANCHOR
        rng = _rng(self.seed, self._key, _REGIME, j)
        stay = rng.random(n) < _REGIME_STAY
        draws = rng.choice(len(REGIMES), size=n, p=_REGIME_P)
        regimes = np.empty(n, dtype=np.int64)
        current = int(draws[0])
        for w in range(n):
            if w and not stay[w]:
                current = int(draws[w])
            regimes[w] = current
        var = self._week_var * _REGIME_VOL[regimes] ** 2
        drift = _REGIME_DRIFT[regimes] * np.sqrt(var)
        cum_v = np.concatenate([[0.0], np.cumsum(var)])
        cum_d = np.concatenate([[0.0], np.cumsum(drift)])
        pins = np.empty(n + 1)
        pins[0], pins[n] = self._anchor(j), self._anchor(j + 1)
        z = _rng(self.seed, self._key, _PINS, j).standard_normal(n - 1)
        used, step = 0, n
        while step > 1:
            half = step // 2
            left = np.arange(0, n, step)
            mid, right = left + half, left + step
            v1, v2 = cum_v[mid] - cum_v[left], cum_v[right] - cum_v[mid]
            d1, d2 = cum_d[mid] - cum_d[left], cum_d[right] - cum_d[mid]
            mean = pins[left] + d1 + v1 / (v1 + v2) * (pins[right] - pins[left] - d1 - d2)
            pins[mid] = mean + np.sqrt(v1 * v2 / (v1 + v2)) * z[used : used + len(mid)]
            used += len(mid)
            step = half
        out = (pins, regimes)
        _ANCHORS.put(key, out)
        return out

    # -- layer 2: minutes -------------------------------------------------------------------------

    def _make_block(self, index: int) -> Block:
        j, w = divmod(index, WEEKS_PER_ANCHOR)
        pins, regimes = self._span(j)
        x0, x1, regime = float(pins[w]), float(pins[w + 1]), int(regimes[w])
        n = MINUTES_PER_BLOCK
        first = index * n
        prof = self.profile
        trades, since_open, to_close = self.hours.minute_table(first, n)
        rng = _rng(self.seed, self._key, _MINUTES, index)

        # Activity through the day: busier around opens and closes, quieter at night.
        hour = ((first + np.arange(n)) % 1440) / 60.0
        if np.isinf(since_open).all():  # 24/7: the US/EU overlap is busiest, weekends calmer
            weekday = ((first + np.arange(n)) // 1440 + 3) % 7  # 1970-01-01 was a Thursday
            shape = (1.0 + 0.35 * np.cos((hour - 15.0) / 24.0 * 2 * np.pi)) * np.where(weekday >= 5, 0.75, 1.0)
        else:
            shape = 1.0 + 1.2 * np.exp(-np.minimum(since_open, 1e6) / 30.0) + 0.6 * np.exp(
                -np.minimum(to_close, 1e6) / 30.0
            )
        # Hourly stochastic volatility: an AR(1) in log volatility, interpolated to minutes.
        hours_n = n // 60 + 1
        eps = rng.standard_normal(hours_n) * _SV_STD * math.sqrt(1 - _SV_PHI**2)
        h = np.empty(hours_n)
        h[0] = rng.standard_normal() * _SV_STD
        for k in range(1, hours_n):
            h[k] = _SV_PHI * h[k - 1] + eps[k]
        sv = np.exp(np.interp(np.arange(n) / 60.0, np.arange(hours_n), h) - _SV_STD**2)
        var_min = np.where(trades, shape * sv**2, 0.0)
        gap = np.zeros(n)
        if prof.gap_minutes:
            starts = trades & ~np.concatenate([[False], trades[:-1]])
            if index > 0 and trades[0]:  # a session that began in the previous block is no new open
                starts[0] = not self.hours.minute_table(first - 1, 1)[0][0]
            gap[starts] = prof.gap_minutes * (var_min[trades].mean() if trades.any() else 0.0)
        total = var_min.sum() + gap.sum()
        if total <= 0:  # a market shut all week: a flat line from pin to pin is all we can do
            var_min = np.where(trades, 1.0, 0.0) if trades.any() else np.ones(n)
            total = var_min.sum()
        week_var = self._week_var * _REGIME_VOL[regime] ** 2
        scale = week_var / total
        var_min *= scale
        gap *= scale

        # Increments: (gap, move) for each minute, so a bar's open carries its opening gap.
        z = rng.standard_normal((2, n))
        moves = np.sqrt(var_min) * z[0]
        gaps = np.sqrt(gap) * z[1]
        jumps = rng.poisson(prof.jumps_per_week) if prof.jumps_per_week and trades.any() else 0
        jump_var = np.zeros(n)
        if jumps:
            p = var_min / var_min.sum()
            where = rng.choice(n, size=jumps, p=p)
            sizes = rng.normal(0.0, prof.jump_std, jumps)
            np.add.at(moves, where, sizes)
            np.add.at(jump_var, where, sizes**2)
        inc = np.empty(2 * n)
        inc[0::2], inc[1::2] = gaps, moves
        var = np.empty(2 * n)
        var[0::2], var[1::2] = gap, var_min + jump_var
        cum = np.cumsum(inc)
        cum_var = np.cumsum(var)
        path = x0 + cum - cum_var / cum_var[-1] * (cum[-1] - (x1 - x0))
        log_open, log_close = path[0::2], path[1::2]

        # The minute's extremes: a Brownian bridge's maximum and minimum, sampled exactly.
        sig2 = var_min + jump_var
        move = log_close - log_open
        u = rng.random((2, n))
        reach = np.sqrt(move**2 - 2.0 * sig2 * np.log(1.0 - u))
        log_high = log_open + (move + reach[0]) / 2.0
        log_low = log_open + (move - reach[1]) / 2.0

        nd = self.decimals
        o = np.round(np.exp(log_open), nd)
        c = np.round(np.exp(log_close), nd)
        hi = np.maximum(np.round(np.exp(log_high), nd), np.maximum(o, c))
        lo = np.minimum(np.round(np.exp(log_low), nd), np.minimum(o, c))
        sigma = np.sqrt(var_min + jump_var).astype(np.float32)
        mean_sig = float(np.sqrt(var_min[trades].mean())) if trades.any() else 1.0
        activity = np.where(trades, shape * sv, 0.0)
        activity /= activity[trades].mean() if trades.any() else 1.0
        size = np.abs(moves) / (mean_sig or 1.0)
        vol = prof.volume_per_minute * activity * rng.lognormal(-0.08, 0.4, n) * (0.6 + 0.4 * size)
        return Block(index, o, hi, lo, c, np.round(vol, 6), sigma, trades, regime)

    # -- layer 3: ticks ---------------------------------------------------------------------------

    def _tick_path(self, minute: int, blk: Block, i: int) -> np.ndarray:
        """241 prices at 250 ms steps from the minute's open to its close, through its high and
        low, never outside them."""
        cached = self._ticks
        if cached is not None and cached[0] == minute:
            return cached[1]
        o, c = float(blk.open[i]), float(blk.close[i])
        hi, lo = float(blk.high[i]), float(blk.low[i])
        n = TICKS_PER_MINUTE
        rng = _rng(self.seed, self._key, _TICKS, minute)
        knots = {0: o, n: c}
        slots = list(range(1, n))
        if hi > max(o, c):
            k = int(rng.integers(1, n))
            knots[k] = hi
            slots.remove(k)
        if lo < min(o, c):
            knots[int(slots[int(rng.integers(0, len(slots)))])] = lo
        step_sd = max(float(blk.sigma[i]), 1e-12) * (o + c) / 2.0 / math.sqrt(n)
        out = np.empty(n + 1)
        marks = sorted(knots)
        for a, b in itertools.pairwise(marks):
            m = b - a
            t = np.arange(1, m + 1) / m
            walk = np.cumsum(rng.standard_normal(m) * step_sd)
            bridge = walk - t * walk[-1]
            out[a + 1 : b + 1] = knots[a] + (knots[b] - knots[a]) * t + bridge
            out[b] = knots[b]
        out[0] = o
        np.clip(out, lo, hi, out=out)
        self._ticks = (minute, out)
        return out
