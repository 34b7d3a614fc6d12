"""The strategy's DataFrames, built as pandas blocks instead of through the dict constructor.

A live evaluation builds a frame every candle, so its construction is on the candle -> order
path: `pd.DataFrame({...})` infers and consolidates column by column (about 110 µs for 700
bars); handing pandas its blocks ready made (one float64 block of open/high/low/close/volume,
one datetime column) takes about 15 µs, and the frame's later column inserts are cheaper too
(fewer blocks, an object column index instead of an Arrow string one). pandas before 3.0 has
no public way to do that: there the dict constructor builds the same frame.

The candle block is a copy of the window's rows (28 kB for 700 bars, a few µs), never a view:
pandas writes through a view when a strategy edits a candle column in place
(`df.loc[mask, "close"] = ...`), which would corrupt the window the next candle is added to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

CANDLE_COLUMNS = ("date", "open", "high", "low", "close", "volume")
SIGNAL_COLUMNS = ("enter_long", "exit_long", "enter_short", "exit_short")
TAG_COLUMNS = ("enter_tag", "exit_tag")


class _Blocks:
    """pandas' block constructor and the constant parts of our frames, looked up once."""

    def __init__(self) -> None:
        import pandas as pd

        try:
            from pandas.api.internals import create_dataframe_from_blocks
        except ImportError:  # pandas < 3.0
            self.build: Any = None
        else:
            self.build = create_dataframe_from_blocks
        self.date_dtype = pd.DatetimeTZDtype("us", "UTC")
        self.candle_columns = pd.Index(CANDLE_COLUMNS, dtype=object)
        self.signal_columns = pd.Index(SIGNAL_COLUMNS + TAG_COLUMNS, dtype=object)
        self.at_date = np.array([0])
        self.at_prices = np.arange(1, 6)
        self.at_signals = np.arange(len(SIGNAL_COLUMNS))
        self.at_tags = np.arange(len(SIGNAL_COLUMNS), len(SIGNAL_COLUMNS) + len(TAG_COLUMNS))


_blocks: _Blocks | None = None


def _get() -> _Blocks:
    global _blocks
    if _blocks is None:
        _blocks = _Blocks()
    return _blocks


def candle_frame(rows: np.ndarray) -> pd.DataFrame:
    """rows of (open time in µs, open, high, low, close, volume) -> columns date (UTC), open,
    high, low, close, volume on a RangeIndex: the frame a strategy's populate functions get."""
    import pandas as pd

    b = _get()
    stamps = rows[:, 0].astype("int64").view("datetime64[us]")
    if b.build is None:
        dates = pd.DatetimeIndex(stamps).tz_localize("UTC")
        return pd.DataFrame(
            {"date": dates, **{c: rows[:, i] for i, c in enumerate(CANDLE_COLUMNS) if i}}, copy=True
        )
    from pandas.arrays import DatetimeArray

    dates = DatetimeArray._simple_new(stamps, dtype=b.date_dtype)  # the array as it is: no checks, no copy
    prices = np.array(rows[:, 1:6].T, order="C", copy=True)  # laid out as pandas keeps a block
    return b.build(
        [(dates, b.at_date), (prices, b.at_prices)],
        index=pd.RangeIndex(len(rows)),
        columns=b.candle_columns,
    )


def signal_frame(index: pd.Index, missing: tuple[str, ...]) -> pd.DataFrame:
    """The signal columns a frame lacks: int8 zeros and object tags of None, on `index`."""
    import pandas as pd

    b = _get()
    rows = len(index)
    if b.build is not None and missing == SIGNAL_COLUMNS + TAG_COLUMNS:
        tags = np.empty((len(TAG_COLUMNS), rows), dtype=object)  # np.empty of object is None
        return b.build(
            [(np.zeros((len(SIGNAL_COLUMNS), rows), dtype="int8"), b.at_signals), (tags, b.at_tags)],
            index=index,
            columns=b.signal_columns,
        )
    new: dict[str, Any] = {}
    for col in missing:
        if col in SIGNAL_COLUMNS:
            new[col] = pd.Series(np.zeros(rows, dtype="int8"), index=index, copy=False)
        else:
            new[col] = no_tags(index)
    return pd.DataFrame(new, copy=False)


def no_tags(index: pd.Index) -> pd.Series:
    import pandas as pd

    return pd.Series(np.full(len(index), None, dtype=object), index=index, dtype=object, copy=False)


def with_columns(df: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """`df` with `new`'s columns after its own (same index), in one concat. A frame built here
    keeps its object column index: pandas' concat would make it Arrow strings, and every later
    column lookup (the strategy's own, many per candle) would be slower."""
    import pandas as pd

    out = pd.concat([df, new], axis=1)
    if df.columns.dtype == object:
        out.columns = pd.Index([*df.columns, *new.columns], dtype=object)
    return out


def frame_of(columns: dict[str, Any], index: pd.Index) -> pd.DataFrame:
    """`pd.DataFrame(columns, index=index)` for float64 columns (arrays, or Series on `index`)
    and any others, built as blocks where pandas allows it: the float64 columns as one block,
    each other column as its own. The dict constructor checks and consolidates column by
    column (~0.2 ms for ten columns); anything it would align or convert goes through it."""
    import pandas as pd

    b = _get()
    if b.build is None:
        return pd.DataFrame(columns, index=index)
    rows = len(index)
    floats: list[np.ndarray] = []
    at_floats: list[int] = []
    blocks: list[tuple[Any, np.ndarray]] = []
    for at, value in enumerate(columns.values()):
        if isinstance(value, pd.Series):
            if value.index is not index and not value.index.equals(index):
                return pd.DataFrame(columns, index=index)  # needs aligning by label
            value = value.array if not isinstance(value.dtype, np.dtype) else value.to_numpy()
        if isinstance(value, np.ndarray) and value.ndim == 1 and len(value) == rows and value.dtype != object:
            if value.dtype == np.float64:
                floats.append(value)
                at_floats.append(at)
            else:
                blocks.append((value.reshape(1, rows).copy(), np.array([at])))
        elif isinstance(value, pd.api.extensions.ExtensionArray) and len(value) == rows:
            blocks.append((value.copy(), np.array([at])))
        else:
            return pd.DataFrame(columns, index=index)  # scalars, lists, objects (str inferred): pandas' rules
    if floats:
        blocks.append((np.vstack(floats), np.array(at_floats)))
    return b.build(blocks, index=index, columns=pd.Index(list(columns), dtype=object))
