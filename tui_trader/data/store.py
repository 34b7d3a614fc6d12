"""Candle history on disk: one Parquet file per venue / symbol / timeframe."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tui_trader.core.clock import utc
from tui_trader.core.errors import DataError
from tui_trader.data.filenames import parse_file_name, symbol_to_stem
from tui_trader.data.timeframes import timeframe_to_seconds
from tui_trader.data.validate import OHLCV_COLUMNS, require_columns

if TYPE_CHECKING:
    import pandas as pd

_META_PREFIX = b"tui_trader."


@dataclass(frozen=True)
class DatasetInfo:
    """One stored series, as `tui-trader data list` shows it."""

    venue: str
    symbol: str
    timeframe: str
    rows: int
    start: datetime | None
    end: datetime | None
    path: Path


class CandleStore:
    """`data_dir/<venue>/<BASE_QUOTE>-<tf>.parquet`; writes are atomic (temp file + rename)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)

    def path_for(self, venue: str, symbol: str, timeframe: str) -> Path:
        timeframe_to_seconds(timeframe)  # reject nonsense before it becomes a file name
        venue = venue.strip().lower()
        if not venue or "/" in venue or venue.startswith("."):
            raise DataError(f"invalid venue name {venue!r}: use a plain name such as binance")
        if not symbol.strip() or ".." in symbol:
            raise DataError(f"invalid symbol {symbol!r}: use e.g. BTC/USDT")
        return (
            self.data_dir / venue / f"{symbol_to_stem(symbol.strip().upper())}-{timeframe}.parquet"
        )

    def save(self, venue: str, symbol: str, timeframe: str, df: pd.DataFrame) -> DatasetInfo:
        """Merge `df` into the stored series: new rows win on equal timestamps; sorted by date."""
        import pandas as pd

        require_columns(df)
        new = df[list(OHLCV_COLUMNS)].copy()
        new["date"] = new["date"].astype("datetime64[ns, UTC]")
        for col in OHLCV_COLUMNS[1:]:
            new[col] = new[col].astype("float64")
        path = self.path_for(venue, symbol, timeframe)
        merged = pd.concat([self._read(path), new], ignore_index=True) if path.exists() else new
        merged = (
            merged.drop_duplicates(subset="date", keep="last")
            .sort_values("date", kind="stable")
            .reset_index(drop=True)
        )
        self._write(
            path,
            merged,
            venue=venue.strip().lower(),
            symbol=symbol.strip().upper(),
            timeframe=timeframe,
        )
        return self._info_from_frame(
            path, merged, venue.strip().lower(), symbol.strip().upper(), timeframe
        )

    def load(
        self,
        venue: str,
        symbol: str,
        timeframe: str,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
    ) -> pd.DataFrame:
        """Candles with start <= date < end (both optional); DataError when nothing is stored."""
        import pandas as pd

        path = self.path_for(venue, symbol, timeframe)
        if not path.exists():
            raise DataError(
                f"no stored candles for {venue} {symbol} {timeframe}: "
                "run `tui-trader data download` or `tui-trader data import` first"
            )
        filters = []
        if start is not None:
            filters.append(("date", ">=", _ts(start)))
        if end is not None:
            filters.append(("date", "<", _ts(end)))
        df = self._read(path, filters=filters or None)
        df.attrs = {
            "symbol": symbol.strip().upper(),
            "timeframe": timeframe,
            "venue": venue.strip().lower(),
        }
        return df.reset_index(drop=True) if not isinstance(df.index, pd.RangeIndex) else df

    def last_timestamp(self, venue: str, symbol: str, timeframe: str) -> datetime | None:
        """Open time of the newest stored candle (where a download resumes), or None."""
        info = self.info(venue, symbol, timeframe)
        return info.end if info else None

    def first_timestamp(self, venue: str, symbol: str, timeframe: str) -> datetime | None:
        info = self.info(venue, symbol, timeframe)
        return info.start if info else None

    def info(self, venue: str, symbol: str, timeframe: str) -> DatasetInfo | None:
        path = self.path_for(venue, symbol, timeframe)
        return self._info_from_file(path) if path.exists() else None

    def list(self) -> list[DatasetInfo]:
        """Every stored series, sorted by venue, symbol and timeframe length."""
        if not self.data_dir.is_dir():
            return []
        out = []
        for path in sorted(self.data_dir.glob("*/*.parquet")):
            info = self._info_from_file(path)
            if info is not None:
                out.append(info)
        out.sort(key=lambda i: (i.venue, i.symbol, timeframe_to_seconds(i.timeframe)))
        return out

    # -- files ------------------------------------------------------------------------

    @staticmethod
    def _read(path: Path, filters: Sequence[tuple[str, str, object]] | None = None) -> pd.DataFrame:
        import pyarrow.parquet as pq

        from tui_trader.data.parquet import read_parquet_ohlcv

        try:
            df = read_parquet_ohlcv(path, filters)
            if df is None:  # not the shape the store writes: the general (slower) reader
                df = pq.read_table(path, columns=[*OHLCV_COLUMNS], filters=filters).to_pandas()
                df["date"] = df["date"].astype("datetime64[ns, UTC]")
        except Exception as exc:  # pyarrow's errors are its own types
            raise DataError(
                f"cannot read {path}: {str(exc).splitlines()[0]}: delete it and download again"
            ) from None
        return df

    @staticmethod
    def _write(path: Path, df: pd.DataFrame, *, venue: str, symbol: str, timeframe: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(df, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta.update(
            {
                _META_PREFIX + b"venue": venue.encode(),
                _META_PREFIX + b"symbol": symbol.encode(),
                _META_PREFIX + b"timeframe": timeframe.encode(),
            }
        )
        table = table.replace_schema_metadata(meta)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            pq.write_table(table, tmp, compression="zstd")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _info_from_frame(
        path: Path, df: pd.DataFrame, venue: str, symbol: str, timeframe: str
    ) -> DatasetInfo:
        start = df["date"].iloc[0].to_pydatetime() if len(df) else None
        end = df["date"].iloc[-1].to_pydatetime() if len(df) else None
        return DatasetInfo(venue, symbol, timeframe, len(df), start, end, path)

    @staticmethod
    def _info_from_file(path: Path) -> DatasetInfo | None:
        """Rows from the Parquet footer, span from the date column (the prices stay on disk)."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except Exception:
            return None  # not ours or corrupt: `list` skips it rather than failing
        meta = pf.schema_arrow.metadata or {}
        named = parse_file_name(path)
        venue = meta.get(_META_PREFIX + b"venue", path.parent.name.encode()).decode()
        symbol = meta.get(_META_PREFIX + b"symbol", (named.symbol or path.stem).encode()).decode()
        timeframe = meta.get(_META_PREFIX + b"timeframe", (named.timeframe or "").encode()).decode()
        if not timeframe:
            return None
        rows = pf.metadata.num_rows
        start = end = None
        if rows:
            column = pf.read(columns=["date"]).column("date")
            bounds = pc.min_max(column).as_py()
            start, end = utc(bounds["min"]), utc(bounds["max"])
        return DatasetInfo(venue, symbol, timeframe, rows, start, end, path)


def _ts(value: datetime | str) -> pd.Timestamp:
    import pandas as pd

    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.as_unit("ns")
