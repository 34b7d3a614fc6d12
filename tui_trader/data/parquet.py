"""Parquet candles straight into float64 NumPy columns: one column at a time, no wide copies.

Why: `pd.read_parquet` decodes the whole table into Arrow's memory pool, converts it to
pandas and leaves the pool holding the freed pages, about 5x the frame's size at peak.
Reading column by column and copying each into a NumPy array keeps the peak near the
frame's own size plus one column, and lets the pool give its memory back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

# Accepted spellings of each column (lower-case), first match wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("date", "datetime", "timestamp", "time", "open_time", "opentime", "ts", "t"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c"),
    "volume": ("volume", "vol", "v", "base_volume"),
}
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def pick_columns(names: Sequence[Any]) -> dict[str, Any]:
    """OHLCV target name -> the source column that holds it (case-insensitive aliases)."""
    lower: dict[str, Any] = {}
    for col in names:
        lower.setdefault(str(col).strip().lower(), col)
    chosen: dict[str, Any] = {}
    for target, aliases in ALIASES.items():
        for alias in aliases:
            if alias in lower:
                chosen[target] = lower[alias]
                break
    return chosen


def read_parquet_ohlcv(
    path: Path, filters: Sequence[tuple[str, str, object]] | None = None
) -> pd.DataFrame | None:
    """date (UTC, ns) + float64 OHLCV from a Parquet file, or None when the file's columns
    need the general reader (a missing column, text or epoch-number dates, nulls in dates).

    `filters` are pyarrow row filters (e.g. [("date", ">=", ts)]) applied to every column.
    """
    import pandas as pd

    found = read_ohlcv_arrays(path, filters)
    if found is None:
        return None
    ns, columns = found
    dates = pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC")
    return pd.DataFrame({"date": dates, **columns}, copy=False)


def read_ohlcv_arrays(
    path: Path,
    filters: Sequence[tuple[str, str, object]] | None = None,
    *,
    feather: bool = False,
    at_once: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    """(open times in int64 ns, float64 open/high/low/close/volume) from a Parquet file (an
    Arrow IPC / Feather file with `feather`), or None as `read_parquet_ohlcv`: without pandas,
    for the pandas-free backtest of a rule strategy. `at_once` reads the six Parquet columns
    in one call on Arrow's threads (quicker; the peak holds them twice, ~50 MB a year of 1m
    bars: the DataFrame path reads column by column to keep its peak low)."""
    import numpy as np
    import pyarrow as pa

    reader = None
    if feather:
        import pyarrow.ipc as ipc

        with pa.memory_map(str(path)) as source:
            schema = ipc.open_file(source).schema
    elif not filters:
        reader = _parquet_reader(path, pre_buffer=at_once)
        schema = reader.schema_arrow
    else:
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
    chosen = pick_columns(schema.names)
    if len(chosen) < len(ALIASES):
        return None
    date_type = schema.field(chosen["date"]).type
    if not pa.types.is_timestamp(date_type):
        return None
    ns = np.empty(0, dtype=np.int64)
    columns: dict[str, Any] = {}
    table = None
    if reader is not None and at_once:
        indices = [reader.column_name_idx(name) for name in chosen.values()]
        table = reader.read_all(column_indices=indices, use_threads=True)
    for target, source_name in chosen.items():
        if table is not None:
            arr = table.column(source_name)
        elif feather:
            arr = _read_feather_column(path, source_name)
        elif reader is not None:
            arr = reader.read_all(column_indices=[reader.column_name_idx(source_name)], use_threads=False).column(0)
        else:
            arr = _read_column(path, source_name, filters)
        if target == "date":
            if arr.null_count:
                return None
            ns = np.empty(len(arr), dtype=np.int64)
            _fill(ns, arr)  # a timestamp's values are int64
            ns *= _NS_PER_UNIT[date_type.unit]
        else:
            if not (pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type)):
                return None
            view = _view(arr) if table is not None else None
            if view is not None:  # the table's own buffer, read-only: no copy
                columns[target] = view
                continue
            values = np.empty(len(arr), dtype=np.float64)
            _fill(values, arr if arr.type == pa.float64() else arr.cast(pa.float64()))
            columns[target] = values
        del arr
        if table is None:
            pa.default_memory_pool().release_unused()
    del table
    pa.default_memory_pool().release_unused()
    return ns, columns


def _parquet_reader(path: Path, *, pre_buffer: bool = True) -> Any:
    """pyarrow's Parquet reader opened on `path` as `pyarrow.parquet.ParquetFile(path)` opens
    it, without importing `pyarrow.parquet`: that module loads pyarrow's filesystems (S3, GCS,
    Azure, HDFS), dataset, Acero and Substrait libraries, ~27 ms and ~5 MB of resident pages
    in a command that reads one local file. `pre_buffer`: read each requested column chunk
    whole first (quicker when all columns are read at once; ParquetFile's default is off)."""
    from pyarrow._parquet import ParquetReader

    reader = ParquetReader()
    reader.open(str(path), use_memory_map=False, pre_buffer=pre_buffer, arrow_extensions_enabled=True)
    return reader


def _read_feather_column(path: Path, name: str) -> pa.ChunkedArray:
    import pyarrow.feather as feather

    return feather.read_table(path, columns=[name], use_threads=False, memory_map=False).column(0)


def _read_column(
    path: Path, name: str, filters: Sequence[tuple[str, str, object]] | None
) -> pa.ChunkedArray:
    import pyarrow.parquet as pq

    if filters:
        table = pq.read_table(path, columns=[name], filters=list(filters), use_threads=False)
    else:
        table = pq.ParquetFile(path).read(columns=[name], use_threads=False)
    return table.column(0)


def _view(arr: pa.ChunkedArray) -> np.ndarray | None:
    """A float64 column of one chunk without nulls as a read-only NumPy view of its buffer
    (it keeps the buffer alive), else None."""
    import numpy as np
    import pyarrow as pa

    if arr.num_chunks != 1 or arr.null_count or arr.type != pa.float64():
        return None
    chunk = arr.chunk(0)
    return np.frombuffer(chunk.buffers()[1], dtype=np.float64, count=len(chunk), offset=chunk.offset * 8)


def _fill(out: Any, arr: pa.ChunkedArray) -> None:
    """Copy a chunked Arrow array of float64, or of timestamps without nulls, into a
    preallocated float64 or int64 NumPy array (nulls become NaN). Each chunk's values are
    read from its buffer: Arrow's own conversion (`to_numpy`) imports pandas, which the
    pandas-free backtest never does."""
    import numpy as np

    offset = 0
    for chunk in arr.chunks:
        n = len(chunk)
        if chunk.null_count:  # only in prices (dates with nulls take the general reader)
            chunk = chunk.fill_null(float("nan"))
        values = np.frombuffer(chunk.buffers()[1], dtype=out.dtype, count=n, offset=chunk.offset * out.dtype.itemsize)
        out[offset : offset + n] = values
        offset += n
