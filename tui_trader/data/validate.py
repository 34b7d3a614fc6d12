"""Candle checks: gaps, duplicates, order, NaNs and timeframe, reported and never silently fixed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import DataError
from tui_trader.data.timeframes import seconds_to_timeframe, timeframe_to_seconds

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

OHLCV_COLUMNS: tuple[str, ...] = ("date", "open", "high", "low", "close", "volume")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")


@dataclass
class CandleReport:
    """What a candle table looks like; `ok` means load_ohlcv would accept it as is."""

    timeframe: str | None
    rows: int
    start: datetime | None
    end: datetime | None
    gaps: list[tuple[datetime, datetime, int]] = field(default_factory=list)
    """(first missing bar, last missing bar, number of missing bars), in time order."""
    duplicates: int = 0
    """Rows whose timestamp repeats an earlier row's."""
    unsorted: bool = False
    nan_rows: int = 0
    timeframe_mismatch: bool = False
    detected_timeframe_seconds: int | None = None
    """The most common spacing between bars, for the mismatch message."""
    actions: list[str] = field(default_factory=list)
    """Cleaning steps applied by load_ohlcv(clean=True); empty when nothing was changed."""

    @property
    def missing_bars(self) -> int:
        return sum(n for _, _, n in self.gaps)

    @property
    def ok(self) -> bool:
        """No duplicates, order problems, NaNs or timeframe mismatch (gaps are warnings)."""
        return not (self.duplicates or self.unsorted or self.nan_rows or self.timeframe_mismatch)

    def problems(self) -> list[str]:
        """One phrase per blocking problem, for error messages."""
        out = []
        if self.unsorted:
            out.append("rows are not sorted by time")
        if self.duplicates:
            out.append(f"{self.duplicates} duplicate timestamp(s)")
        if self.nan_rows:
            out.append(f"{self.nan_rows} row(s) with missing values")
        if self.timeframe_mismatch:
            out.append(
                f"bars are {_fmt_seconds(self.detected_timeframe_seconds)} apart, "
                f"not {self.timeframe}"
            )
        return out

    def summary(self) -> list[str]:
        """Readable lines for the terminal."""
        span = f"{_iso(self.start)} → {_iso(self.end)}" if self.rows else "empty"
        lines = [f"{self.rows} candles ({self.timeframe or '?'}), {span}"]
        if self.gaps:
            lines.append(
                f"{len(self.gaps)} gap(s), {self.missing_bars} missing bar(s) (not filled):"
            )
            for start, end, n in self.gaps[:5]:
                lines.append(f"  {_iso(start)} → {_iso(end)}: {n} bar(s)")
            if len(self.gaps) > 5:
                lines.append(f"  ... and {len(self.gaps) - 5} more")
        else:
            lines.append("no gaps")
        lines.extend(f"problem: {p}" for p in self.problems())
        lines.extend(f"cleaned: {a}" for a in self.actions)
        if self.ok and not self.gaps:
            lines.append("ok")
        return lines

    def to_dict(self, max_gaps: int | None = None) -> dict[str, Any]:
        """JSON-ready; `max_gaps` keeps the first N gaps (gap_count always has them all)."""
        gaps = self.gaps if max_gaps is None else self.gaps[:max_gaps]
        return {
            "timeframe": self.timeframe,
            "rows": self.rows,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "gap_count": len(self.gaps),
            "gaps": [[_iso(s), _iso(e), n] for s, e, n in gaps],
            "missing_bars": self.missing_bars,
            "duplicates": self.duplicates,
            "unsorted": self.unsorted,
            "nan_rows": self.nan_rows,
            "timeframe_mismatch": self.timeframe_mismatch,
            "actions": list(self.actions),
            "ok": self.ok,
        }


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.isoformat().replace("+00:00", "Z")


def _fmt_seconds(seconds: int | None) -> str:
    return seconds_to_timeframe(seconds) if seconds else "?"


def require_columns(df: pd.DataFrame) -> None:
    """DataError naming the missing OHLCV columns."""
    missing = [c for c in OHLCV_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(
            f"candle data lacks column(s) {', '.join(missing)}: need {', '.join(OHLCV_COLUMNS)}"
        )


def check_candles(df: pd.DataFrame, timeframe: str | None) -> CandleReport:
    """Inspect candles without changing them. Needs the columns of OHLCV_COLUMNS."""
    import pandas as pd

    require_columns(df)
    dates = df["date"]
    if not isinstance(dates.dtype, pd.DatetimeTZDtype):
        raise DataError(
            "candle column 'date' is not timezone-aware datetimes: load files with load_ohlcv"
        )
    missing_time = dates.isna().to_numpy()
    ns = dates.to_numpy(dtype="datetime64[ns]").view("int64")[~missing_time]
    nan_mask = missing_time.copy()
    for col in PRICE_COLUMNS:  # column by column: no wide temporary frame
        nan_mask |= df[col].isna().to_numpy()
    nan_rows = int(nan_mask.sum())
    del nan_mask
    return check_candle_times(ns, timeframe, rows=len(df), nan_rows=nan_rows)


def check_candle_times(ns: np.ndarray, timeframe: str | None, *, rows: int, nan_rows: int) -> CandleReport:
    """`check_candles` on the candles' open times (int64 ns, missing ones left out) and the
    count of rows with a missing value: what the pandas-free backtest checks its arrays with."""
    import numpy as np

    from tui_trader.core.clock import utc_datetime

    unsorted = bool(len(ns) > 1 and (np.diff(ns) < 0).any())
    ordered = np.sort(ns, kind="stable") if unsorted else ns  # np.unique is slow on 500k rows
    uniq = ordered[np.concatenate(([True], np.diff(ordered) != 0))] if len(ordered) else ordered
    duplicates = int(len(ns) - len(uniq))
    report = CandleReport(
        timeframe=timeframe,
        rows=rows,
        start=utc_datetime(uniq[0]) if len(uniq) else None,
        end=utc_datetime(uniq[-1]) if len(uniq) else None,
        duplicates=duplicates,
        unsorted=unsorted,
        nan_rows=nan_rows,
    )
    if len(uniq) < 2:
        return report
    steps = np.diff(uniq)
    step = timeframe_to_seconds(timeframe) * 1_000_000_000 if timeframe is not None else 0
    modal = _modal_step(steps, step)
    report.detected_timeframe_seconds = modal // 1_000_000_000
    if timeframe is None:
        return report
    report.timeframe_mismatch = modal != step
    if report.timeframe_mismatch:
        return report  # gaps measured in the wrong unit would only mislead
    for i in np.flatnonzero(steps > step):
        missing = int(steps[i] // step) - (1 if steps[i] % step == 0 else 0)
        if missing <= 0:
            continue
        first = utc_datetime(uniq[i] + step)
        last = utc_datetime(uniq[i] + missing * step)
        report.gaps.append((first, last, missing))
    return report


def _modal_step(steps: np.ndarray, expected: int) -> int:
    """The most common spacing (the smallest of equally common ones). A spacing held by more
    than half of them is it: the expected one (or the median) is checked first, so a year of
    1m bars is not sorted (np.unique sorts 525,600 values, ~15 ms)."""
    import numpy as np

    candidate = expected or int(np.partition(steps, len(steps) // 2)[len(steps) // 2])
    if 2 * int(np.count_nonzero(steps == candidate)) > len(steps):
        return candidate
    values, counts = np.unique(steps, return_counts=True)
    return int(values[np.argmax(counts)])


def clean_candles(df: pd.DataFrame, report: CandleReport) -> pd.DataFrame:
    """The documented cleaning: drop NaN rows, sort by time, keep the last row per timestamp.

    NaN rows go first so a broken duplicate never shadows a good one; "last" means last in
    file order (a stable sort keeps it). Gaps are left alone. Records each step in the report.
    """
    out = df
    if report.nan_rows:
        out = out.dropna(subset=list(OHLCV_COLUMNS))
        report.actions.append(f"dropped {report.nan_rows} row(s) with missing values")
    if report.unsorted:
        out = out.sort_values("date", kind="stable")
        report.actions.append("sorted rows by time")
    before = len(out)
    out = out.drop_duplicates(subset="date", keep="last")
    if len(out) != before:
        report.actions.append(
            f"dropped {before - len(out)} duplicate timestamp(s), keeping the last row of each"
        )
    return out.reset_index(drop=True)
