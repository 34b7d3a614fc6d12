"""Where research candles come from: stored Parquet series, or the connected venue's history.

A new user has no stored data, so the screens also offer what the venue (the paper venue by
default) can serve through `client.candles`; stored datasets come from CandleStore.list().
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UserError
from tui_trader.core.market import Candle

if TYPE_CHECKING:
    import pandas as pd

VENUE_LIMIT = 2000  # candles asked from the venue: enough for a quick run, fast to serve


@dataclass(frozen=True)
class DataSource:
    """One choice in the data picker: a stored series (`venue` set) or the live venue's history."""

    symbol: str
    timeframe: str = ""  # "" for venue history: the strategy's own timeframe
    venue: str | None = None  # None: ask the connected venue through the client
    rows: int | None = None
    start: datetime | None = None
    end: datetime | None = None

    @property
    def stored(self) -> bool:
        return self.venue is not None

    @property
    def key(self) -> str:
        return f"{self.venue or '@venue'}|{self.symbol}|{self.timeframe}"

    @property
    def label(self) -> str:
        if not self.stored:
            return f"{self.symbol} · venue history (last {VENUE_LIMIT} bars, strategy timeframe)"
        span = ""
        if self.start and self.end:
            span = f" {self.start:%Y-%m-%d}→{self.end:%Y-%m-%d}"
        return f"{self.symbol} {self.timeframe} · {self.venue} ({self.rows or 0} rows{span})"


def stored_sources(data_dir: Path | None) -> list[DataSource]:
    """Every dataset in the home's candle store (none without a home)."""
    if data_dir is None:
        return []
    from tui_trader.data.store import CandleStore

    return [
        DataSource(i.symbol, i.timeframe, i.venue, i.rows, i.start, i.end)
        for i in CandleStore(data_dir).list()
    ]


def all_sources(data_dir: Path | None, symbols: Iterable[str]) -> list[DataSource]:
    """Stored datasets first (real history), then each symbol's history from the venue."""
    return [*stored_sources(data_dir), *(DataSource(s) for s in symbols)]


def parse_day(text: str, what: str) -> pd.Timestamp | None:
    """A range bound typed by the user (`2024-01-01`, ISO time), or None when blank."""
    text = text.strip()
    if not text:
        return None
    import pandas as pd

    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise UserError(f"{what} {text!r} is not a date: use YYYY-MM-DD") from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def candles_frame(candles: Sequence[Candle]) -> pd.DataFrame:
    """Closed Candle objects -> the OHLCV frame strategies and backtests read."""
    from tui_trader.strategy.window import BarWindow

    window = BarWindow(max(1, len(candles)))  # the live runner's bar -> frame conversion
    for candle in candles:
        if candle.closed:
            window.add(candle)
    return window.frame()


def load_stored(
    data_dir: Path, source: DataSource, start: Any = None, end: Any = None, warmup: int = 0
) -> pd.DataFrame:
    """A stored series, with `warmup` bars before `start` so indicators are ready on its first bar."""
    import pandas as pd

    from tui_trader.data.store import CandleStore
    from tui_trader.data.timeframes import timeframe_to_seconds

    assert source.venue is not None
    if start is not None and warmup:
        start = start - pd.Timedelta(seconds=warmup * timeframe_to_seconds(source.timeframe))
    return CandleStore(data_dir).load(source.venue, source.symbol, source.timeframe, start, end)
