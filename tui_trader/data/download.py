"""Download candle history through ccxt into the CandleStore: paginated, rate-limited, resumable."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui_trader.core.clock import Clock, SystemClock, utc
from tui_trader.core.errors import DataError
from tui_trader.data.timeframes import timeframe_to_seconds

if TYPE_CHECKING:
    import pandas as pd

    from tui_trader.data.store import CandleStore

FLUSH_ROWS = 50_000  # write to disk every this many candles, so an interruption loses little


@dataclass(frozen=True)
class DownloadResult:
    venue: str
    symbol: str
    timeframe: str
    requested_from: datetime
    fetched_from: datetime | None
    """Where this run started (after resuming); None when there was nothing to fetch."""
    new_rows: int
    requests: int
    retries: int
    stored_rows: int
    stored_end: datetime | None


def make_exchange(venue: str, config: dict[str, Any] | None = None) -> Any:
    """A public (no keys) synchronous ccxt exchange with its rate limiter on."""
    import ccxt

    venue = venue.strip().lower()
    if venue not in ccxt.exchanges:
        raise DataError(
            f"unknown venue {venue!r} for downloads: use a ccxt exchange id such as binance"
        )
    options: dict[str, Any] = {"enableRateLimit": True}
    options.update(config or {})
    options["enableRateLimit"] = True  # never hammer a venue, whatever the caller passed
    return getattr(ccxt, venue)(options)


def download_ohlcv(
    store: CandleStore,
    venue: str,
    symbol: str,
    timeframe: str,
    since: datetime,
    until: datetime | None = None,
    *,
    exchange: Any | None = None,
    clock: Clock | None = None,
    limit: int | None = None,
    progress: bool = True,
    max_retries: int = 5,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DownloadResult:
    """Fetch [since, until) into the store, resuming after the newest stored candle.

    The candle still forming at `clock.now()` is never stored. Network errors and rate-limit
    answers are retried `max_retries` times with exponential backoff (backoff * 2**n s).
    """
    import ccxt

    clock = clock or SystemClock()
    venue = venue.strip().lower()
    step_ms = timeframe_to_seconds(timeframe) * 1000
    since = utc(since)
    now_ms = int(clock.now().timestamp() * 1000)
    end_ms = (now_ms // step_ms) * step_ms  # open time of the forming candle: exclusive end
    if until is not None:
        end_ms = min(end_ms, int(utc(until).timestamp() * 1000))
    since_ms = -(-int(since.timestamp() * 1000) // step_ms) * step_ms  # first bar at or after since

    exchange = exchange or make_exchange(venue)
    retries = 0

    def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        nonlocal retries
        for attempt in range(max_retries + 1):
            try:
                return fn(*args, **kwargs)
            except (ccxt.NetworkError, ccxt.RateLimitExceeded) as exc:
                if attempt == max_retries:
                    reason = str(exc).splitlines()[0][:200]
                    raise DataError(
                        f"{venue} kept failing after {max_retries} retries "
                        f"({type(exc).__name__}: {reason}); "
                        "run the same command later to resume"
                    ) from None
                retries += 1
                sleep(backoff * 2**attempt)
            except ccxt.BaseError as exc:
                reason = str(exc).splitlines()[0][:200]
                raise DataError(
                    f"{venue} refused the request ({type(exc).__name__}: {reason})"
                ) from None
        raise AssertionError("unreachable")

    markets = call(exchange.load_markets)
    if symbol not in markets:
        close = [s for s in markets if s.split("/")[0] == symbol.split("/")[0]][:5]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise DataError(
            f"{venue} has no market {symbol!r}{hint}: use the ccxt symbol, e.g. BTC/USDT"
        )
    timeframes = getattr(exchange, "timeframes", None) or {}
    if timeframes and timeframe not in timeframes:
        raise DataError(
            f"{venue} has no {timeframe} candles: choose one of {', '.join(timeframes)}"
        )

    start_ms = since_ms
    first, last = (
        store.first_timestamp(venue, symbol, timeframe),
        store.last_timestamp(venue, symbol, timeframe),
    )
    if first is not None and last is not None and int(first.timestamp() * 1000) <= since_ms:
        start_ms = max(since_ms, int(last.timestamp() * 1000) + step_ms)  # resume

    requests = new_rows = 0
    buffer: list[list[float]] = []
    total_bars = max(0, (end_ms - start_ms) // step_ms)

    def flush() -> None:
        nonlocal new_rows
        if buffer:
            store.save(venue, symbol, timeframe, _to_frame(buffer))
            new_rows += len(buffer)
            buffer.clear()

    bar = _progress(progress, f"{venue} {symbol} {timeframe}", total_bars)
    cursor = start_ms
    try:
        while cursor < end_ms:
            page = call(exchange.fetch_ohlcv, symbol, timeframe, since=cursor, limit=limit)
            requests += 1
            rows = [r for r in page if cursor <= int(r[0]) < end_ms]
            if not rows:
                break  # nothing new before the end (or the venue ignored `since`): done
            buffer.extend(rows)
            bar.advance(len(rows))
            cursor = int(rows[-1][0]) + step_ms
            if len(buffer) >= FLUSH_ROWS:
                flush()
    finally:
        flush()
        bar.close()

    info = store.info(venue, symbol, timeframe)
    return DownloadResult(
        venue=venue,
        symbol=symbol,
        timeframe=timeframe,
        requested_from=since,
        fetched_from=_dt(start_ms) if start_ms < end_ms else None,
        new_rows=new_rows,
        requests=requests,
        retries=retries,
        stored_rows=info.rows if info else 0,
        stored_end=info.end if info else None,
    )


def _to_frame(rows: list[list[float]]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(
        [r[:6] for r in rows], columns=["ms", "open", "high", "low", "close", "volume"]
    )
    frame.insert(
        0,
        "date",
        pd.to_datetime(frame.pop("ms"), unit="ms", utc=True).astype("datetime64[ns, UTC]"),
    )
    return frame.astype({c: "float64" for c in ("open", "high", "low", "close", "volume")})


def _dt(ms: int) -> datetime:
    from datetime import UTC

    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class _Bar:
    """A rich progress bar on stderr, or nothing."""

    def __init__(self, enabled: bool, label: str, total: int) -> None:
        self._progress = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(label, total=total or None)

    def advance(self, n: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _progress(enabled: bool, label: str, total: int) -> _Bar:
    return _Bar(enabled, label, total)
