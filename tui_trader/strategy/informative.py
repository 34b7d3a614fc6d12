"""Higher-timeframe and other-pair data merged without look-ahead (Freqtrade's semantics).

A higher bar becomes visible on the base row whose candle closes when the higher bar closes:
the 10:00 1h bar appears on the 10:55 5m row, never earlier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui_trader.strategy.timeframes import timeframe_to_seconds

if TYPE_CHECKING:
    import pandas as pd

OHLCV = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class InformativeData:
    """What @informative records on a populate_indicators_* method."""

    timeframe: str
    asset: str = ""
    fmt: str | Callable[..., str] | None = None
    ffill: bool = True


def informative(
    timeframe: str,
    asset: str = "",
    fmt: str | Callable[..., str] | None = None,
    *,
    candle_type: Any = None,
    ffill: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate `populate_indicators_<x>(self, dataframe, metadata)` to add `<col>_<tf>` columns."""
    timeframe_to_seconds(timeframe)  # fail early on a typo

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        marks = list(getattr(fn, "_ft_informative", []))
        marks.append(InformativeData(timeframe, asset, fmt, ffill))
        fn._ft_informative = marks  # type: ignore[attr-defined]
        return fn

    return decorator


def resample_ohlcv(dataframe: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """Build `timeframe` bars from a finer OHLCV frame with a `date` column (bar open times)."""
    seconds = timeframe_to_seconds(timeframe)
    frame = dataframe.set_index("date")[list(OHLCV)]
    import pandas as pd

    # weeks start on Monday 00:00 UTC (1970-01-05); a tz-aware origin, as the index is UTC
    origin: str | pd.Timestamp = "epoch"
    if seconds % 604800 == 0:
        index_tz = getattr(frame.index, "tz", None)
        origin = pd.Timestamp("1970-01-05", tz=index_tz) if index_tz else pd.Timestamp("1970-01-05")
    out = frame.resample(f"{seconds}s", label="left", closed="left", origin=origin).agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    )
    out = out.dropna(subset=["close"]).reset_index()
    return out


def merge_informative_pair(
    dataframe: pd.DataFrame,
    informative: pd.DataFrame,
    timeframe: str,
    timeframe_inf: str,
    ffill: bool = True,
    append_timeframe: bool = True,
    date_column: str = "date",
    suffix: str | None = None,
) -> pd.DataFrame:
    """Freqtrade's helper: columns of `informative` renamed `<col>_<tf>` and joined to each base row
    only once the informative bar has closed."""
    if suffix and append_timeframe:
        raise ValueError("use either suffix or append_timeframe, not both")
    tag = suffix or (timeframe_inf if append_timeframe else "")
    renamed = (
        informative.rename(columns={c: f"{c}_{tag}" for c in informative.columns})
        if tag
        else informative
    )
    inf_date = f"{date_column}_{tag}" if tag else date_column
    return merge_closed(
        dataframe, renamed, timeframe, timeframe_inf, inf_date, ffill=ffill, date_column=date_column
    )


def merge_closed(
    dataframe: pd.DataFrame,
    informative: pd.DataFrame,
    timeframe: str,
    timeframe_inf: str,
    inf_date_column: str,
    *,
    ffill: bool = True,
    date_column: str = "date",
) -> pd.DataFrame:
    """Join already-renamed informative columns onto base rows whose bar closes at or after the
    informative bar's close."""
    import pandas as pd

    base_s = timeframe_to_seconds(timeframe)
    inf_s = timeframe_to_seconds(timeframe_inf)
    if inf_s < base_s:
        raise ValueError(f"informative timeframe {timeframe_inf} is finer than {timeframe}")
    key = "__merge_at"
    inf = informative.copy()
    left = dataframe.reset_index(drop=True)
    at = inf[inf_date_column] + pd.Timedelta(seconds=inf_s - base_s)
    inf[key] = at.astype(left[date_column].dtype)
    inf = inf.sort_values(key)
    if ffill:
        merged = pd.merge_asof(left, inf, left_on=date_column, right_on=key, direction="backward")
    else:
        merged = left.merge(inf, left_on=date_column, right_on=key, how="left")
    merged.index = dataframe.index
    return merged.drop(columns=[key])


def column_format(mark: InformativeData, column: str, pair: str) -> str:
    """Column names as Freqtrade writes them: `rsi_1h`, or `btc_usdt_rsi_1h` for another asset."""
    base, _, quote = pair.partition("/")
    quote = quote.split(":")[0]
    if callable(mark.fmt):
        return mark.fmt(
            column=column, timeframe=mark.timeframe, asset=mark.asset, base=base, quote=quote
        )
    fmt = mark.fmt or (
        "{base}_{quote}_{column}_{timeframe}" if mark.asset else "{column}_{timeframe}"
    )
    name = fmt.format(
        column=column,
        timeframe=mark.timeframe,
        asset=mark.asset,
        base=base,
        quote=quote,
        BASE=base,
        QUOTE=quote,
    )
    return name.lower() if not mark.fmt else name
