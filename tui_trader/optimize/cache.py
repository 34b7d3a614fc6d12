"""Indicator columns computed once per distinct parameter value and reused across trials.

How: before the search, `probe_dependencies` runs populate_indicators with the base values,
again with the same values (columns that differ are non-deterministic: the cache is off),
then once per searched parameter with its lowest and highest other value. A column that
changes when parameter p changes depends on p. During the search a trial's indicator frame
is assembled from column groups keyed by the values of the parameters they depend on, so
populate_indicators runs once per distinct value of a parameter (once per distinct
combination for a column that reads several). Columns that read no searched parameter are
computed once.

Limits (honest): a parameter whose effect does not show at its extremes on the probed data
(e.g. `if self.p.value == 17`) is missed; strategies with @informative methods, or that set
`optimize_indicator_cache = False`, are run in full for every trial. The optimizer re-runs
the best parameters without the cache and warns if the two disagree.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from tui_trader.optimize.space import SearchSpace

DEFAULT_CACHE_MB = 512


@dataclass(frozen=True)
class Dependencies:
    """Which searched parameters each output column of populate_indicators depends on."""

    enabled: bool
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reason: str = ""

    def groups(self) -> dict[tuple[str, ...], list[str]]:
        out: dict[tuple[str, ...], list[str]] = {}
        for col, params in self.columns.items():
            out.setdefault(params, []).append(col)
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "reason": self.reason,
            "columns": {c: list(p) for c, p in self.columns.items()},
        }


def has_informative(strategy: Any) -> bool:
    cls = type(strategy)
    return any(getattr(getattr(cls, a, None), "_ft_informative", None) for a in dir(cls))


def populate(
    strategy: Any, candles: pd.DataFrame, metadata: Mapping[str, Any], values: Mapping[str, Any]
) -> pd.DataFrame:
    """The class's populate_indicators on a copy, with `values` applied (bypasses any patch)."""
    from tui_trader.strategy.analysis import bounded

    strategy.set_parameters(dict(values))
    # a shallow copy: copy-on-write keeps the candles intact and costs nothing up front;
    # bounded: an endless populate_indicators is an error naming it, not a hung search
    fn, rows = type(strategy).populate_indicators, len(candles)
    return bounded(strategy, "populate_indicators", rows, fn, strategy, candles.copy(deep=False), dict(metadata))


def probe_dependencies(
    strategy: Any, candles: pd.DataFrame, metadata: Mapping[str, Any], space: SearchSpace
) -> Dependencies:
    """Find which columns depend on which parameters (see the module docstring)."""
    if getattr(strategy, "optimize_indicator_cache", True) is False:
        return Dependencies(False, reason="the strategy sets optimize_indicator_cache = False")
    if has_informative(strategy):
        return Dependencies(False, reason="@informative strategies are analyzed in full")
    base = strategy.parameter_values()
    try:
        ref = populate(strategy, candles, metadata, base)
        again = populate(strategy, candles, metadata, base)
        noisy = _changed(ref, again)
        if noisy:
            return Dependencies(False, reason=f"non-deterministic columns: {', '.join(noisy)}")
        deps: dict[str, set[str]] = {c: set() for c in ref.columns}
        for dim in space.dimensions:
            for alt in _alternatives(dim.grid(), base.get(dim.name)):
                out = populate(strategy, candles, metadata, {**base, dim.name: alt})
                for col in _changed(ref, out):
                    deps.setdefault(col, set()).add(dim.name)
    finally:
        strategy.set_parameters(base)
    order = space.names
    return Dependencies(
        True, {c: tuple(sorted(p, key=order.index)) for c, p in deps.items()}, reason=""
    )


def _alternatives(grid: tuple[Any, ...], current: Any) -> list[Any]:
    others = [v for v in grid if v != current]
    if not others:
        return []
    return list(dict.fromkeys([others[0], others[-1]]))


def _changed(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    cols = list(dict.fromkeys([*a.columns, *b.columns]))
    return [c for c in cols if c not in a or c not in b or not a[c].equals(b[c])]


class IndicatorCache:
    """Per-process store of column groups; `frame()` assembles one trial's indicators."""

    def __init__(
        self, strategy: Any, deps: Dependencies, *, max_mb: float = DEFAULT_CACHE_MB
    ) -> None:
        self.strategy = strategy
        self.deps = deps
        self.groups = deps.groups()
        self.order = list(deps.columns)
        self.max_bytes = int(max_mb * 1_000_000)
        self.calls = 0  # populate_indicators runs
        self.hits = 0
        self._store: OrderedDict[tuple[Any, ...], dict[str, pd.Series]] = OrderedDict()
        self._bytes = 0

    def frame(
        self, candles: pd.DataFrame, metadata: Mapping[str, Any], params: Mapping[str, Any]
    ) -> pd.DataFrame:
        """populate_indicators' output for `params`, from cached columns where possible."""
        import pandas as pd

        pair = metadata.get("pair", "")
        base = self.strategy.parameter_values()
        values = {**base, **params}
        columns: dict[str, pd.Series] = {}
        try:
            for group in self.groups:
                key = self._key(pair, group, values)
                stored = self._store.get(key)
                if stored is None:
                    sub = {**base, **{p: values[p] for p in group}}
                    self._remember(pair, populate(self.strategy, candles, metadata, sub), sub)
                    stored = self._store[key]
                else:
                    self.hits += 1
                    self._store.move_to_end(key)
                columns.update(stored)
        finally:
            self.strategy.set_parameters(values)
        ordered = {c: columns[c] for c in self.order if c in columns}
        ordered.update({c: s for c, s in columns.items() if c not in ordered})
        return pd.DataFrame(ordered, copy=False)

    def _key(self, pair: str, group: tuple[str, ...], values: Mapping[str, Any]) -> tuple[Any, ...]:
        return (pair, group, tuple(values[p] for p in group))

    def _remember(self, pair: str, out: pd.DataFrame, values: Mapping[str, Any]) -> None:
        """Store every group this run computed (one run can fill several groups)."""
        self.calls += 1
        for group, cols in self.groups.items():
            key = self._key(pair, group, values)
            if key in self._store:
                continue
            part = {c: out[c] for c in cols if c in out.columns}
            self._store[key] = part
            self._bytes += sum(int(s.memory_usage(index=False, deep=False)) for s in part.values())
        while self._bytes > self.max_bytes and len(self._store) > len(self.groups):
            _, old = self._store.popitem(last=False)
            self._bytes -= sum(int(s.memory_usage(index=False, deep=False)) for s in old.values())
