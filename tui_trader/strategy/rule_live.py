"""A rule strategy's signals at the newest bar, from the window's arrays: no DataFrame.

The live runner evaluates a strategy on every closed candle. For a compiled TOML rule file it
does not need the whole analysed frame, only its newest row: `LiveRules.last_row` computes
every indicator with TA-Lib on the window's float64 arrays (the same call, inputs and
parameters as the frame path: `talib_wrappers.call_columns`), builds each `@TF`'s bars from
the window with `rules.resample_arrays` (the function the full evaluation uses; given the
window, they are kept between candles and only their newest and oldest bar are computed again:
higher_bars.py) and their indicators (on the bars up to the newest closed one, kept until
one of those changes: `_closed_indicators`), finds the last higher bar CLOSED by each of the
newest two candles (the full evaluation's alignment), then judges the entry and exit rules at the newest bar (the
bar before it too, for crosses). Same numbers in, same float64 out, same comparisons: the
result is the full evaluation's last row (`analyze(...).iloc[-1]`'s signal and tag cells),
which `tests/strategy/test_strategy_rule_live.py` checks bar by bar on every bundled rule
file and on generated ones covering every operator and rule form.

What it will not take (`unsupported`), and leaves to the full pandas evaluation:
custom indicators (session_vwap, pivot_points, supertrend ... : pandas code of their own),
an indicator whose name the frame path treats specially (date, buy, sell, buy_tag, a signal
column), and a class whose populate functions are not RuleStrategy's own. Any exception
here (a missing input column, a bad parameter) also hands the candle to the full path, which
raises the error a strategy is disabled with.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_trader.indicators.talib_wrappers import call_prepared, prepare
from tui_trader.strategy.frames import SIGNAL_COLUMNS, TAG_COLUMNS
from tui_trader.strategy.higher_bars import HigherBars
from tui_trader.strategy.rule_spec import OHLCV, Compare, Group, Number, Param, Ref
from tui_trader.strategy.rules import RuleStrategy
from tui_trader.strategy.timeframes import timeframe_to_seconds

if TYPE_CHECKING:
    from tui_trader.strategy.interface import IStrategy
    from tui_trader.strategy.rule_spec import Indicator, RuleSpec
    from tui_trader.strategy.window import BarWindow

# columns the full evaluation gives a meaning of its own (analysis._LEGACY, the signals)
_RESERVED = frozenset({"date", "buy", "sell", "buy_tag", *SIGNAL_COLUMNS, *TAG_COLUMNS})
_COMPARE = {">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le}
_SECTIONS = (
    ("entry", "enter_long", "enter_tag"),
    ("entry_short", "enter_short", "enter_tag"),
    ("exit", "exit_long", "exit_tag"),
    ("exit_short", "exit_short", "exit_tag"),
)
_NAN = float("nan")
Columns = dict[str, np.ndarray]
Calls = list[tuple["Indicator", Any]]  # an indicator and its prepared TA-Lib call
Frames = dict[str | None, tuple[Columns, list[int]]]


def unsupported(strategy: IStrategy) -> str | None:
    """Why this strategy gets the full evaluation live, or None when LiveRules takes it."""
    cls = type(strategy)
    if not isinstance(strategy, RuleStrategy):
        return "not a rule strategy"
    for method in ("populate_indicators", "populate_entry_trend", "populate_exit_trend",
                   "_compute", "_value", "_operand", "_evaluate", "_apply"):  # fmt: skip
        if getattr(cls, method) is not getattr(RuleStrategy, method):
            return f"{method} is overridden"
    from tui_trader.strategy.analysis import _informative_marks

    if _informative_marks(cls):
        return "it has @informative methods"
    spec: RuleSpec = strategy.rules
    for ind in spec.indicators.values():
        if ind.source != "talib":
            return f"indicator {ind.name} ({ind.fn}) is not a TA-Lib function"
        names = [ind.name] if ind.output or len(ind.outputs) == 1 else [
            f"{ind.name}.{o}" for o in ind.outputs
        ]
        if ind.name in _RESERVED or _RESERVED.intersection(names):
            return f"indicator name {ind.name} is a column the evaluation treats specially"
    return None


def live_rules(strategy: IStrategy) -> LiveRules | None:
    """A LiveRules for this strategy, or None when it needs the full evaluation."""
    if isinstance(strategy, RuleStrategy) and unsupported(strategy) is None:
        return LiveRules(strategy)
    return None


class LiveRules:
    """The newest row's signals of one rule strategy instance (its parameters read live)."""

    def __init__(self, strategy: RuleStrategy) -> None:
        self.strategy = strategy
        spec = type(strategy).rules
        self.spec = spec
        self.inputs = type(strategy)._inputs()
        self.base_ns = timeframe_to_seconds(spec.timeframe) * 1_000_000_000
        self.timeframes = sorted(spec.timeframes(), key=timeframe_to_seconds)
        self.tf_ns = {tf: timeframe_to_seconds(tf) * 1_000_000_000 for tf in self.timeframes}
        self.sections = [
            (spec.rules[section][0], spec.rules[section][1], signal, tag_col)
            for section, signal, tag_col in _SECTIONS
            if section in spec.rules
        ]
        # each section's rule as one function of the frames (the same steps as _judge)
        self._rules = [(self._compiled(group), tag, signal, tag_col) for group, tag, signal, tag_col in self.sections]
        self.can_short = bool(strategy.can_short)
        self._kept: dict[int, _Kept] = {}  # per window (one a symbol): its higher bars
        self._plans: dict[tuple[Any, ...], Any] = {}  # (indicator, its parameters) -> prepare()
        # per timeframe suffix, the indicators the rules read there (None: the strategy's own)
        self.read = {tf: self._read_on(tf) for tf in (None, *self.timeframes)}
        # per timeframe, the strategy parameters ($name) those indicators take
        self._param_names = {
            tf: tuple(sorted({
                v[1:] for ind in spec.indicators.values() if ind.name in read
                for v in ind.params.values() if isinstance(v, str) and v.startswith("$")
            }))
            for tf, read in self.read.items()
        }  # fmt: skip

    def _read_on(self, timeframe: str | None) -> frozenset[str]:
        """The indicators whose columns a rule reads on `timeframe`, and the earlier ones they
        take as inputs. The frame path computes every indicator on every timeframe; the newest
        row's signals need only these (an indicator that fails on its parameters still fails
        the warm-up's full evaluation, which computes them all)."""
        owner = {
            column: ind.name
            for ind in self.spec.indicators.values()
            for column in (
                [ind.name] if ind.output or len(ind.outputs) <= 1 else [f"{ind.name}.{o}" for o in ind.outputs]
            )
        }
        todo = [owner[ref.column] for ref in self.spec.refs() if ref.timeframe == timeframe and ref.column in owner]
        read: set[str] = set()
        while todo:
            name = todo.pop()
            if name not in read:
                read.add(name)
                todo.extend(self.inputs.get(name) or ())
        return frozenset(read)

    # -- indicators -----------------------------------------------------------------------

    def _compute(self, bars: Columns, only: frozenset[str] | None = None, calls: Calls | None = None) -> Columns:
        """RuleStrategy._compute on arrays: each indicator's output columns, in order, an
        indicator seeing the candles and the earlier indicators it names as an input. With
        `only`, those indicators alone (`read`: their inputs are among them); `calls`: those
        of `_calls` already worked out."""
        out: Columns = {}
        for ind, (spec, cols, call_params) in self._calls(only) if calls is None else calls:
            wanted = self.inputs.get(ind.name) or ()
            arrays = []
            for col in cols:
                values = bars[col] if col in OHLCV else (out.get(col) if col in wanted else None)
                if values is None:  # the frame path raises here: let it say so
                    raise KeyError(col)
                arrays.append(values)
            _store(out, ind, call_prepared(spec, arrays, call_params))
        return out

    def _calls(self, only: frozenset[str] | None = None) -> Calls:
        """Each indicator (in `only`), in order, with its TA-Lib call prepared for the
        parameters as they are now."""
        value = self.strategy._value
        return [
            (ind, self._prepared(ind, {k: value(v) for k, v in ind.params.items()}))
            for ind in self.spec.indicators.values()
            if only is None or ind.name in only
        ]

    def _prepared(self, ind: Indicator, params: dict[str, Any]) -> Any:
        """talib_wrappers.prepare for these parameters, worked out once per set of values
        (they are read at every bar: an optimizer or the saved state may change them)."""
        try:
            key = (ind.name, *params.items())
            return self._plans[key]
        except KeyError:
            pass
        except TypeError:  # a value that cannot be a key (a list): no cache
            return prepare(ind.fn.upper(), (), params)
        if len(self._plans) > 256:
            self._plans.clear()
        plan = self._plans[key] = prepare(ind.fn.upper(), (), params)
        return plan

    def _higher(self, bars: HigherBars, rows: np.ndarray, kept: _Kept | None = None) -> tuple[Columns, list[int]]:
        """The `tf` bars of the window and their indicators, and for the newest candle and
        the one before, the higher bar each has seen closed (-1: none yet). With the window's
        `kept` state, the indicators are computed on the bars up to the newest one closed and
        kept while those stay the same (`_closed_indicators`)."""
        higher = bars.columns()
        last = [int(t) * 1000 for t in rows[-2:, 0].tolist()[::-1]]  # newest first, µs -> ns
        pos = bars.closed_by(last, self.tf_ns[bars.timeframe] - self.base_ns)
        if kept is None or pos[0] < 0:
            higher.update(self._compute(higher, self.read[bars.timeframe]))
        else:
            higher.update(self._closed_indicators(bars.timeframe, higher, pos[0] + 1, kept))
        return higher, pos

    def _closed_indicators(self, timeframe: str, higher: Columns, upto: int, kept: _Kept) -> Columns:
        """The indicators the rules read on `timeframe`, on its first `upto` bars: the bars a
        rule reads there, up to the newest one closed (the newest bar, still forming, is read
        only once closed). TA-Lib's functions are causal, a bar's value made of the bars up to
        it alone, the same float64 bits over these bars as over all of them (every function:
        tests/strategy/test_strategy_higher_bars.py), so at every bar a rule reads these are the
        full evaluation's values. And they are kept: while the strategy parameters they name
        have the same values and those bars' input columns the same bytes, the last result is
        the result (a new closed bar, the oldest bar leaving the window or changed in a column
        read, a parameter changed: computed again). Between two closed bars only the forming
        one moves, and an EMA(close) of 1h bars is computed once an hour or so, not at each
        5m candle (tests/strategy/test_strategy_higher_bars.py compares it with a full
        computation at every candle)."""
        names = self._param_names[timeframe]
        params = tuple((type(v), v) for v in (getattr(self.strategy, n).value for n in names)) if names else ()
        last = kept.indicators.get(timeframe)
        if (
            last is not None
            and last.upto == upto
            and last.params == params
            and all(higher[col][:upto].tobytes() == data for col, data in last.inputs.items())
        ):
            return last.out
        calls = self._calls(self.read[timeframe])
        closed = {col: higher[col][:upto] for _, (_, cols, _) in calls for col in cols if col in higher}  # views
        out = self._compute(closed, calls=calls)
        kept.indicators[timeframe] = _Computed(upto, params, {c: v.tobytes() for c, v in closed.items()}, out)
        return out

    def _higher_bars(self, rows: np.ndarray, window: BarWindow | None) -> list[HigherBars]:
        """Each `@TF`'s bars of these rows: kept from the window's last evaluation and moved
        on by the candles added since, or built from all of them (no window given, or the
        window changed otherwise: see HigherBars)."""
        if window is None:
            fresh = [HigherBars(tf) for tf in self.timeframes]
            for bars in fresh:
                bars.rebuild(rows)
            return fresh
        kept = self._kept.get(id(window))
        if kept is None or kept.window is not window:
            kept = self._kept[id(window)] = _Kept(window, [HigherBars(tf) for tf in self.timeframes])
        new = window.added - kept.added
        same = kept.valid and window.edits == kept.edits
        kept.valid = False  # until this update has gone through
        if same and 0 < new <= len(rows):
            for bars in kept.bars:
                bars.advance(rows, new)
        elif not (same and new == 0):
            for bars in kept.bars:
                bars.rebuild(rows)
        kept.added, kept.edits, kept.valid = window.added, window.edits, True
        return kept.bars

    # -- the newest row -------------------------------------------------------------------

    def last_row(self, rows: np.ndarray, window: BarWindow | None = None) -> dict[str, Any]:
        """rows of (open time in µs, open, high, low, close, volume), oldest first (the
        window's own buffer: only read) -> the analysed frame's newest enter_long, exit_long,
        enter_short, exit_short (0/1) and enter_tag, exit_tag (a str or None). With the
        window they are from, its higher timeframes' bars are kept between candles."""
        frames = self.columns(rows, window)
        row: dict[str, Any] = dict.fromkeys(SIGNAL_COLUMNS, 0)
        row.update(dict.fromkeys(TAG_COLUMNS))
        for rule, tag, signal, tag_col in self._rules:
            hit = rule(frames)
            row[signal] = int(hit)
            if hit and tag:
                row[tag_col] = tag
        if not self.can_short:
            row["enter_short"] = row["exit_short"] = 0
        return row

    def columns(self, rows: np.ndarray, window: BarWindow | None = None) -> Frames:
        """Every column a rule names, per timeframe suffix (None: the strategy's own), with
        the positions of the newest row and the one before in each."""
        n = len(rows)
        base = _Prices(rows)  # each price column copied out of the rows when first read
        base.update(self._compute(base, self.read[None]))
        frames: Frames = {None: (base, [n - 1, n - 2])}
        if self.timeframes:
            try:
                kept = self._higher_bars(rows, window)
            except Exception:
                self._kept.pop(id(window), None)
                raise
            state = self._kept.get(id(window)) if window is not None else None
            for bars in kept:
                frames[bars.timeframe] = self._higher(bars, rows, state)
        return frames

    def judge(self, node: Compare | Group, frames: Frames) -> bool:
        """A condition (or group) at the newest row, as the frame path's mask has it there."""
        return self._judge(node, frames)

    def _judge(self, node: Compare | Group, frames: Frames) -> bool:
        if isinstance(node, Group):
            parts = [self._judge(item, frames) for item in node.items]
            return all(parts) if node.kind == "all" else any(parts)
        left = self._value(node.left, frames, 0)
        right = self._value(node.right, frames, 0)
        if node.op in _COMPARE:
            return bool(_COMPARE[node.op](left, right))  # NaN compares False, as in the frame
        prev_left = self._value(node.left, frames, 1)
        prev_right = self._value(node.right, frames, 1)
        if node.op == "crosses_above":
            return bool(left > right and prev_left <= prev_right)
        return bool(left < right and prev_left >= prev_right)

    def _compiled(self, node: Compare | Group) -> Callable[[Frames], bool]:
        """_judge for one node, as a function: every part evaluated (no short cut: a part that
        raises raises), in the same order, with the same comparisons."""
        if isinstance(node, Group):
            parts = [self._compiled(item) for item in node.items]
            if node.kind == "all":
                return lambda frames: all([part(frames) for part in parts])
            return lambda frames: any([part(frames) for part in parts])
        left, right = self._operand(node.left), self._operand(node.right)
        if node.op in _COMPARE:
            compare = _COMPARE[node.op]
            return lambda frames: bool(compare(left(frames, 0), right(frames, 0)))
        above = node.op == "crosses_above"

        def cross(frames: Frames) -> bool:
            now_left, now_right = left(frames, 0), right(frames, 0)
            prev_left, prev_right = left(frames, 1), right(frames, 1)
            if above:
                return bool(now_left > now_right and prev_left <= prev_right)
            return bool(now_left < now_right and prev_left >= prev_right)

        return cross

    def _operand(self, operand: Ref | Number | Param) -> Callable[[Frames, int], float]:
        """_value for one operand, as a function of (frames, back)."""
        if isinstance(operand, Number):
            number = float(operand.value)
            return lambda frames, back: number
        if isinstance(operand, Param):
            strategy, name = self.strategy, operand.name
            return lambda frames, back: float(getattr(strategy, name).value)
        timeframe, column = operand.timeframe, operand.column

        def ref(frames: Frames, back: int) -> float:
            columns, positions = frames[timeframe]
            at = positions[back] if back < len(positions) else -1
            if at < 0:
                return _NAN
            return float(columns[column][at])

        return ref

    def _value(
        self, operand: Ref | Number | Param, frames: Frames, back: int
    ) -> float:
        """An operand at the newest row (back=0) or the one before (back=1)."""
        if isinstance(operand, Number):
            return float(operand.value)
        if isinstance(operand, Param):
            return float(getattr(self.strategy, operand.name).value)
        columns, positions = frames[operand.timeframe]
        at = positions[back] if back < len(positions) else -1
        if at < 0:
            return _NAN
        return float(columns[operand.column][at])


class _Kept:
    """A window's higher timeframes' bars, how far into the window they are, and per
    timeframe the indicators on its closed bars (`_Computed`)."""

    __slots__ = ("added", "bars", "edits", "indicators", "valid", "window")

    def __init__(self, window: BarWindow, bars: list[HigherBars]) -> None:
        self.window = window
        self.bars = bars
        self.added = self.edits = 0
        self.valid = False
        self.indicators: dict[str, _Computed] = {}


class _Computed:
    """One timeframe's indicators on its first `upto` bars, with the values of the strategy
    parameters they take and the bytes of the input columns they were computed from."""

    __slots__ = ("inputs", "out", "params", "upto")

    def __init__(self, upto: int, params: tuple[Any, ...], inputs: dict[str, bytes], out: Columns) -> None:
        self.upto = upto
        self.params = params
        self.inputs = inputs
        self.out = out


_PRICE_AT = {name: i + 1 for i, name in enumerate(OHLCV)}


class _Prices(dict[str, np.ndarray]):
    """The base timeframe's columns: a price column is copied out of the rows (contiguous,
    as candle_frame lays it out) the first time an indicator or a rule reads it."""

    def __init__(self, rows: np.ndarray) -> None:
        super().__init__()
        self.rows = rows

    def __missing__(self, col: str) -> np.ndarray:
        at = _PRICE_AT.get(col)
        if at is None:
            raise KeyError(col)
        values = self[col] = np.ascontiguousarray(self.rows[:, at])
        return values


def _store(out: Columns, ind: Indicator, result: Any) -> None:
    """TA-Lib's output under the frame path's column names."""
    if isinstance(result, tuple):
        outputs = dict(zip(ind.outputs, result, strict=True))
        if ind.output:
            out[ind.name] = outputs[ind.output]
        else:
            out.update({f"{ind.name}.{o}": v for o, v in outputs.items()})
    else:
        out[ind.name] = result
