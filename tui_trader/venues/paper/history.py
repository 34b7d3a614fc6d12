"""Synthetic candle history for the simulated symbols, so charts and strategies with a
`startup_candle_count` have bars from the first second. Seeded per symbol and timeframe,
and ending at the simulator's starting price."""

from __future__ import annotations

import math
import zlib
from datetime import UTC, datetime, timedelta

import numpy as np

from tui_trader.core.market import Candle
from tui_trader.venues.paper.instruments import profile_for
from tui_trader.venues.paper.simulator import SECONDS_PER_YEAR

_TF_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def tf_seconds(timeframe: str) -> int:
    try:
        return int(timeframe[:-1]) * _TF_SECONDS[timeframe[-1]]
    except (KeyError, ValueError):
        raise ValueError(f"unknown timeframe {timeframe!r}; use e.g. 1m, 5m, 15m, 1h, 4h, 1d") from None


def synthetic_history(symbol: str, timeframe: str, end: datetime, limit: int, seed: int) -> list[Candle]:
    """`limit` closed candles whose last one closes at or before `end`."""
    secs = tf_seconds(timeframe)
    prof = profile_for(symbol)
    rng = np.random.default_rng([seed, zlib.crc32(f"{symbol}|{timeframe}".encode())])
    sigma = prof.annual_vol * math.sqrt(secs / SECONDS_PER_YEAR)
    vol = sigma * np.exp(np.cumsum(rng.normal(0, 0.05, limit)))  # slowly varying volatility
    rets = rng.standard_normal(limit) * vol
    # Walk backwards from the start price so the history joins the live simulation.
    closes = prof.start * np.exp(-np.concatenate([[0.0], np.cumsum(rets[::-1])[:-1]]))[::-1]
    opens = np.concatenate([[closes[0] * math.exp(-rets[0])], closes[:-1]])
    wick = np.abs(rng.normal(0, 0.6, (2, limit))) * vol * closes
    highs = np.maximum(opens, closes) + wick[0]
    lows = np.minimum(opens, closes) - wick[1]
    volumes = prof.level_size * rng.lognormal(1.0, 0.5, limit) * max(1.0, secs / 60)
    last_open = datetime.fromtimestamp((int(end.timestamp()) // secs) * secs - secs, UTC)
    out = []
    for i in range(limit):
        t = last_open - timedelta(seconds=secs * (limit - 1 - i))
        out.append(
            Candle(
                symbol,
                timeframe,
                t,
                float(opens[i]),
                float(highs[i]),
                float(lows[i]),
                float(closes[i]),
                float(volumes[i]),
            )
        )
    return out
