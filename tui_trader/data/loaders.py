"""Read candle files (CSV, Parquet, Freqtrade feather/json/trades) into one checked shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import DataError
from tui_trader.data.filenames import file_suffix, parse_file_name
from tui_trader.data.parquet import ALIASES as _ALIASES
from tui_trader.data.parquet import pick_columns, read_parquet_ohlcv
from tui_trader.data.timeframes import timeframe_to_pandas_freq
from tui_trader.data.validate import (
    OHLCV_COLUMNS,
    PRICE_COLUMNS,
    CandleReport,
    check_candles,
    clean_candles,
)

if TYPE_CHECKING:
    import pandas as pd

TRADE_COLUMNS: tuple[str, ...] = ("timestamp", "id", "type", "side", "price", "amount", "cost")


def load_ohlcv(
    path: str | Path,
    *,
    timeframe: str | None = None,
    symbol: str | None = None,
    clean: bool = False,
) -> pd.DataFrame:
    """Candles from a file: columns date (UTC) + float64 OHLCV, sorted, RangeIndex.

    Raises DataError on duplicates, unsorted rows, NaNs or a timeframe mismatch unless
    `clean=True` (see load_ohlcv_with_report for what cleaning does). Gaps are never filled.
    """
    return load_ohlcv_with_report(path, timeframe=timeframe, symbol=symbol, clean=clean)[0]


def load_ohlcv_with_report(
    path: str | Path,
    *,
    timeframe: str | None = None,
    symbol: str | None = None,
    clean: bool = False,
) -> tuple[pd.DataFrame, CandleReport]:
    """Like load_ohlcv, and also the CandleReport of the file (with the cleaning steps taken).

    `df.attrs` carries "symbol" and "timeframe" (given, or implied by a Freqtrade file name).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    named = parse_file_name(path)
    timeframe = timeframe or named.timeframe
    symbol = symbol or named.symbol
    df = None
    if file_suffix(path) == ".parquet" and not named.trades:
        df = _guarded(path, read_parquet_ohlcv, path)  # no pandas detour for the common case
    if df is None:
        raw = _read_any(path, timeframe=timeframe, trades_by_name=named.trades)
        df = normalize_ohlcv(raw, source=path.name)
        del raw
    report = check_candles(df, timeframe)
    refuse_unusable(path, report, timeframe, clean=clean)
    if not report.ok:
        df = clean_candles(df, report)
    df.attrs = {"symbol": symbol, "timeframe": timeframe, "source": str(path)}
    return df, report


def refuse_unusable(path: Path, report: CandleReport, timeframe: str | None, *, clean: bool = False) -> None:
    """The one DataError of a file whose candles cannot be used as they are: bars at another
    spacing than the timeframe, or (unless they are to be cleaned) unsorted, duplicate or NaN
    rows. The pandas-free backtest checks its arrays with the same words."""
    if report.timeframe_mismatch:
        raise DataError(
            f"{path.name}: bars are {_fmt(report)} apart but the timeframe is {timeframe}: "
            "pass the right --timeframe (candles are not resampled)"
        )
    if not report.ok and not clean:
        raise DataError(
            f"{path.name}: {'; '.join(report.problems())}: "
            "pass --clean (clean=True) to sort, drop duplicates (keep last) and drop NaN rows"
        )


def load_values(path: str | Path) -> pd.DataFrame:
    """Values per time in a candle file (Freqtrade's mark prices and funding rates: funding
    every 8 h in a file named 1h): read and normalized as candles, their spacing not checked."""
    path = Path(path)
    raw = _read_any(path, timeframe=None, trades_by_name=False)
    return normalize_ohlcv(raw, source=path.name)


def _fmt(report: CandleReport) -> str:
    from tui_trader.data.validate import _fmt_seconds

    return _fmt_seconds(report.detected_timeframe_seconds)


def _guarded(path: Path, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """fn(*args) with file and decoding errors turned into one DataError line."""
    try:
        return fn(*args, **kwargs)
    except DataError:
        raise
    except Exception as exc:  # OSError, ValueError, JSON errors, pyarrow's own error types
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"cannot read {path.name}: {reason}") from None


def _read_any(path: Path, *, timeframe: str | None, trades_by_name: bool) -> pd.DataFrame:
    frame = _guarded(path, _read_frame, path)
    if trades_by_name or _looks_like_trades(frame):
        if not timeframe:
            raise DataError(
                f"{path.name} holds trades, not candles: "
                "pass --timeframe (e.g. 1m) to build candles"
            )
        return trades_to_ohlcv(frame, timeframe)
    return frame


def _read_frame(path: Path) -> pd.DataFrame:
    import pandas as pd

    suffix = file_suffix(path)
    if suffix in (".csv", ".csv.gz"):
        return _read_csv(path)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".feather":
        return pd.read_feather(path)
    if suffix in (".json", ".json.gz"):
        return _read_json(path)
    raise DataError(
        f"{path.name}: unknown file type {suffix or '(none)'}: "
        "use .csv, .parquet, .feather, .json or .json.gz"
    )


def _read_csv(path: Path) -> pd.DataFrame:
    import pandas as pd

    with _open_text(path, "utf-8-sig") as fh:
        first = fh.readline()
    fields = [f.strip().strip('"') for f in first.split(",")]
    if len(fields) < 6:
        raise DataError(
            f"{path.name}: expected at least 6 comma-separated columns "
            "(date, open, high, low, close, volume)"
        )
    has_header = not all(_is_number(f) for f in fields[1:6])
    if has_header:
        return pd.read_csv(path)
    frame = pd.read_csv(path, header=None)
    return frame.rename(columns=dict(enumerate(OHLCV_COLUMNS)))


def _open_text(path: Path, encoding: str) -> Any:
    """The file as text, gunzipped when its name ends in .gz (gzip imported only then)."""
    if path.name.lower().endswith(".gz"):
        import gzip

        return gzip.open(path, "rt", encoding=encoding)
    return open(path, encoding=encoding)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_json(path: Path) -> pd.DataFrame:
    import pandas as pd

    with _open_text(path, "utf-8") as fh:
        data = json.load(fh)
    if isinstance(data, dict):  # column-oriented (pandas to_json default)
        return pd.DataFrame(data)
    if not isinstance(data, list):
        raise DataError(
            f"{path.name}: expected a JSON list of candles [ms, open, high, low, close, volume]"
        )
    if not data:
        return pd.DataFrame(columns=list(OHLCV_COLUMNS))
    if isinstance(data[0], dict):
        return pd.DataFrame.from_records(data)
    width = len(data[0])
    if width == len(TRADE_COLUMNS):
        return pd.DataFrame(data, columns=list(TRADE_COLUMNS))
    if width < 6:
        raise DataError(
            f"{path.name}: rows have {width} values; "
            "candles need [ms, open, high, low, close, volume]"
        )
    frame = pd.DataFrame([row[:6] for row in data], columns=list(OHLCV_COLUMNS))
    return frame


def _looks_like_trades(frame: pd.DataFrame) -> bool:
    cols = {str(c).lower() for c in frame.columns}
    return {"price", "amount"} <= cols and "open" not in cols


def trades_to_ohlcv(trades: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """Candles from Freqtrade trades (timestamp ms, price, amount); empty intervals are gaps."""
    import pandas as pd

    cols = {str(c).lower(): c for c in trades.columns}
    missing = [c for c in ("timestamp", "price", "amount") if c not in cols]
    if missing:
        raise DataError(f"trades data lacks column(s) {', '.join(missing)}")
    frame = pd.DataFrame(
        {
            "date": parse_timestamps(trades[cols["timestamp"]], "timestamp"),
            "price": pd.to_numeric(trades[cols["price"]], errors="coerce").astype("float64"),
            "amount": pd.to_numeric(trades[cols["amount"]], errors="coerce").astype("float64"),
        }
    )
    if frame.empty:
        return pd.DataFrame(columns=list(OHLCV_COLUMNS))
    frame = frame.sort_values("date", kind="stable")
    grouped = frame.set_index("date").resample(
        timeframe_to_pandas_freq(timeframe), label="left", closed="left", origin="epoch"
    )
    ohlc = grouped["price"].ohlc()
    ohlc["volume"] = grouped["amount"].sum()
    ohlc = ohlc.dropna(subset=["open"])  # no trades in the interval: a gap, not a flat candle
    return ohlc.reset_index().rename(columns={"index": "date"})


def parse_timestamps(values: pd.Series, name: str = "date") -> pd.Series:
    """ISO strings, datetimes or epoch numbers (s / ms / µs / ns by magnitude) as UTC ns."""
    import numpy as np
    import pandas as pd

    series = pd.Series(values).reset_index(drop=True)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    if pd.api.types.is_datetime64_dtype(series.dtype):
        return series.dt.tz_localize("UTC").astype("datetime64[ns, UTC]")  # naive means UTC
    numeric = series if pd.api.types.is_numeric_dtype(series.dtype) else None
    if numeric is None:
        as_number = pd.to_numeric(series, errors="coerce")
        if series.notna().any() and as_number[series.notna()].notna().all():
            numeric = as_number
    if numeric is not None:
        finite = numeric[np.isfinite(numeric.astype("float64"))]
        biggest = float(finite.abs().max()) if len(finite) else 0.0
        unit = "s"
        for threshold, candidate in ((1e17, "ns"), (1e14, "us"), (1e11, "ms")):
            if biggest >= threshold:
                unit = candidate
                break
        try:
            parsed = pd.to_datetime(numeric, unit=unit, utc=True)
        except (ValueError, OverflowError) as exc:
            raise DataError(f"cannot read timestamps in column {name!r}: {exc}") from None
        return parsed.astype("datetime64[ns, UTC]")
    try:
        parsed = pd.to_datetime(series, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        try:
            parsed = pd.to_datetime(series, utc=True, format="mixed")
        except (ValueError, TypeError):
            sample = str(series.dropna().iloc[0]) if series.notna().any() else "?"
            raise DataError(
                f"cannot read timestamps in column {name!r} (e.g. {sample!r}): "
                "use ISO 8601, epoch seconds or epoch milliseconds"
            ) from None
    return parsed.astype("datetime64[ns, UTC]")


def normalize_ohlcv(frame: pd.DataFrame, *, source: str = "data") -> pd.DataFrame:
    """Pick and rename the OHLCV columns, time as UTC, prices as float64 (rows untouched)."""
    import pandas as pd

    if frame.index.name and str(frame.index.name).lower() in _ALIASES["date"]:
        frame = frame.reset_index()
    chosen = pick_columns(frame.columns)
    missing = [c for c in OHLCV_COLUMNS if c not in chosen]
    if missing:
        raise DataError(
            f"{source}: missing column(s) {', '.join(missing)}: "
            "need date, open, high, low, close, volume "
            f"(found {', '.join(map(str, frame.columns))})"
        )
    out = pd.DataFrame({"date": parse_timestamps(frame[chosen["date"]], str(chosen["date"]))})
    for col in PRICE_COLUMNS:
        values = pd.to_numeric(frame[chosen[col]].reset_index(drop=True), errors="coerce")
        out[col] = values.astype("float64")
    return out
