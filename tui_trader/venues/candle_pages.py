"""Candles read back after an outage, page after page (`read_back`), and what they could not reach.

A venue's OHLCV endpoint answers a bounded page (ccxt's `exchanges.ohlcv_page`: Kraken its newest
720 whatever `since` says, Binance 1000 from `startTime`, OKX 100 of its history, ...; OANDA's
candles 5000 from `from`; Interactive Brokers' historical bars, its newest of the duration asked). The gap is
read from its start (or, when it is longer than `pages` pages, from where the newest `pages`
pages begin: the candles a strategy reads are the newest) up to the last closed candle. Each
answer is judged, never trusted:

- rows out of order or twice: sorted, one per open time;
- a row not on the timeframe's grid (its open time not a whole number of bars from the last
  candle seen): the answer is for another timeframe, nothing of it is used, the rest said;
- a full page that begins after `since`: the venue answered its newest, the span before said;
- a page with nothing after `since` (the same page again: `since` ignored; ccxt drops the rows
  before `since`, so it is most often empty): the rest said, unless the venue omits bars without
  trades (`sparse`: Coinbase, KuCoin), whose empty page is a quiet window: the next one asked;
- a page short of the present: the next one is asked from its newest (a venue that cuts the
  page shorter than asked, OKX's history at 100, is read on);
- a request that fails after the adapter's retries (silent, rate-limited to the end): the
  rest said, with the venue's reason.

Every span that stays missing is a `Gap`, which the adapter says (a notice, the venue's holes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Row = list[Any]  # [open ms, open, high, low, close, volume]


@dataclass(frozen=True, slots=True)
class Gap:
    """Candles from `start_ms` (the first missing bar's open) to `end_ms` (the open of the first
    bar after them) that stay missing, and why (a phrase for the notice)."""

    start_ms: int
    end_ms: int
    why: str


@dataclass(slots=True)
class ReadBack:
    rows: list[Row] = field(default_factory=list)  # new rows, in time order, one per open time
    gaps: list[Gap] = field(default_factory=list)
    pages: int = 0  # requests answered


async def read_back(
    fetch: Callable[[int, int], Awaitable[list[Row]]],
    *,
    last_ms: int,
    present_ms: int,
    tf_ms: int,
    limit: int,
    pages: int,
    on_grid: bool = True,
    sparse: bool = False,
) -> ReadBack:
    """The candles after `last_ms` (the last one seen before the gap) up to `present_ms` (the
    newest closed bar's open) and the open one after it, by `fetch(since, limit)`. `on_grid`:
    bars lie a whole number of `tf_ms` apart (not months). `sparse`: the venue has no row for a
    bar without trades."""
    out = ReadBack()
    got: dict[int, Row] = {}
    first = last_ms + tf_ms
    since = max(first, present_ms - (pages * limit - 1) * tf_ms)
    if since > first:
        out.gaps.append(Gap(first, since, f"older than the {pages} pages of {limit} read back (a page limit)"))
    while since <= present_ms:
        if out.pages == pages:
            out.gaps.append(Gap(since, present_ms + tf_ms, f"not reached in {pages} pages (a page limit)"))
            break
        try:
            answer = await fetch(since, limit)
        except Exception as exc:  # the adapter's retries are spent: silent, rate-limited, refused
            out.gaps.append(Gap(since, present_ms + tf_ms, f"the venue stopped answering ({exc})"))
            break
        out.pages += 1
        page = sorted({int(r[0]): r for r in answer}.items())
        if on_grid and any((ts - last_ms) % tf_ms for ts, _ in page):
            out.gaps.append(Gap(since, present_ms + tf_ms, "the venue answered candles of another timeframe"))
            break
        new = [(ts, r) for ts, r in page if ts >= since]
        if len(page) >= limit and new and new[0][0] > since:  # its newest, not from `since`
            out.gaps.append(Gap(since, new[0][0], f"the venue's history answered its {len(page)} newest"))
        if not new and sparse:  # no trades in this window: the next one
            since += limit * tf_ms
            continue
        if not new:  # the same page again (`since` ignored), or none: nothing more to be had
            out.gaps.append(Gap(since, present_ms + tf_ms, "the venue answered no candles after the last it gave"))
            break
        got.update(new)
        since = new[-1][0] + tf_ms
    out.rows = [got[ts] for ts in sorted(got)]
    return out
