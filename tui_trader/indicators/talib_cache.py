"""Let go of what TA-Lib's abstract API keeps between calls, while a strategy runs over a
whole history.

`talib.abstract.RSI(dataframe)` (the way Freqtrade strategies call TA-Lib) is one module-level
`Function` object per indicator, and each keeps, per thread, the inputs of its last call (the
strategy's own DataFrame, which the strategy keeps adding columns to) and its last outputs (the
raw arrays, which the DataFrame's new column copies). On a year of 1-minute candles that is
~50 MB of outputs held twice for Freqtrade's SampleStrategy while it computes, and every
indicator column kept alive after the backtest has let go of them: the last frame each
function saw is still referenced.

`released_talib_outputs()` is for the span of a backtest's analysis: after each call the
function's cached outputs are dropped (its `outputs` property computes them again from the
kept inputs if anyone asks: nothing a strategy sees changes), and at the end of the span the
inputs are dropped too, in this thread. Functions made with `talib.abstract.Function(name)`
are the caller's own objects and keep theirs after the span.

During the span a call on a DataFrame also returns its Series or DataFrame without copying
TA-Lib's raw arrays (`_owning`): TA-Lib stacks a multi-output function's arrays into one
matrix and pandas copies that again, so Freqtrade's SampleStrategy's last indicator (HT_SINE,
two outputs) held three copies of its 8 MB at its peak. The values, dtypes, index and column
names are TA-Lib's own; only a multi-output frame's layout differs (one block per column).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

_lock = threading.Lock()
_depth = 0


def _forget_outputs(function: Any) -> None:
    local: Any = getattr(function, "_Function__localdata", None)  # talib's threading.local state
    outputs = getattr(local, "outputs", None)
    if outputs is None:
        return
    for name in outputs:
        outputs[name] = None
    local.outputs_valid = False


def _forgetting(original: Any) -> Any:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        _forget_outputs(self)
        return result

    call.original = original  # type: ignore[attr-defined]
    return call


def _owning(original: property) -> property:
    """TA-Lib's `outputs` property, except that for a DataFrame input the result takes the raw
    arrays over instead of copying them (a Series, or a DataFrame of one column per output
    when they share a dtype), and the function then forgets them: it computes them again if
    anyone asks, so nothing else ever writes to what the caller holds."""

    def outputs(self: Any) -> Any:
        import pandas as pd

        local: Any = self._Function__localdata  # (not in a class: no name mangling)
        frame = local.input_arrays
        if not isinstance(frame, pd.DataFrame):
            return original.fget(self)  # type: ignore[misc]
        if not local.outputs_valid:
            self._Function__call_function()
        arrays = list(local.outputs.values())
        if len({a.dtype for a in arrays}) != 1:  # TA-Lib's column_stack would cast them to one
            return original.fget(self)  # type: ignore[misc]
        if len(arrays) == 1:
            result: Any = pd.Series(arrays[0], index=frame.index, copy=False)
        else:
            result = pd.DataFrame(dict(zip(self.output_names, arrays, strict=True)), index=frame.index, copy=False)
        _forget_outputs(self)
        return result

    return _Owning(outputs, original)


class _Owning(property):
    """The `outputs` property `_owning` makes, holding TA-Lib's own to put back."""

    def __init__(self, fget: Any, original: property) -> None:
        super().__init__(fget)
        self.original = original


def forget_inputs() -> None:
    """Drop, in this thread, the last inputs and outputs every `talib.abstract.NAME` holds."""
    abstract = sys.modules.get("talib.abstract")
    if abstract is None:
        return
    for name in getattr(abstract, "__TA_FUNCTION_NAMES__", ()):
        function = getattr(abstract, name, None)
        local: Any = getattr(function, "_Function__localdata", None)
        if getattr(local, "info", None) is None:  # never called in this thread
            continue
        local.input_arrays = {}
        _forget_outputs(function)


@contextlib.contextmanager
def released_talib_outputs() -> Iterator[None]:
    """TA-Lib abstract functions keep no outputs during the block and no inputs after it.
    A no-op when talib.abstract was never imported (no strategy uses it)."""
    global _depth
    cls = getattr(sys.modules.get("talib._ta_lib"), "Function", None)
    if cls is None or "talib.abstract" not in sys.modules:
        yield
        return
    with _lock:
        if _depth == 0:
            cls.__call__ = _forgetting(cls.__call__)
            cls.outputs = _owning(cls.outputs)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                cls.__call__ = cls.__call__.original
                cls.outputs = cls.outputs.original
        forget_inputs()
