"""What a trial is scored on: a backtest metric by name, or a user function `module:function`.

A user function takes the BacktestResult and returns a float (None = undefined, the trial is
rejected). It is maximized unless it carries `direction = "minimize"` as an attribute.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_trader.core.errors import UsageError

MAXIMIZE: frozenset[str] = frozenset({
    "sharpe", "sortino", "calmar", "total_return", "profit_factor", "cagr", "expectancy",
    "win_rate", "avg_win", "alpha", "trades",
})  # fmt: skip
MINIMIZE: frozenset[str] = frozenset({
    "max_drawdown", "volatility", "var_95", "cvar_95", "max_drawdown_duration",
})  # fmt: skip


@dataclass(frozen=True)
class Objective:
    """A named score and its direction; `target` is a metric key or `module:function`."""

    name: str
    direction: str  # "maximize" | "minimize"

    @property
    def is_metric(self) -> bool:
        return ":" not in self.name

    def score(self, result: Any) -> float | None:
        """The trial's value, or None when undefined (no trades, zero volatility...)."""
        fn = None if self.is_metric else load_function(self.name)
        value = result.metrics.get(self.name) if fn is None else fn(result)
        if value is None:
            return None
        value = float(value)
        return value if math.isfinite(value) else None

    def better(self, a: float, b: float) -> bool:
        return a > b if self.direction == "maximize" else a < b


def resolve_objectives(names: Sequence[str]) -> tuple[Objective, ...]:
    """Objectives for `sharpe` or `total_return,max_drawdown` (validated, directions attached)."""
    out = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if ":" in name and not _is_drive(name):
            fn = load_function(name)
            direction = getattr(fn, "direction", "maximize")
            if direction not in ("maximize", "minimize"):
                raise UsageError(f"objective {name}: direction must be 'maximize' or 'minimize'")
            out.append(Objective(name, direction))
        elif name in MAXIMIZE:
            out.append(Objective(name, "maximize"))
        elif name in MINIMIZE:
            out.append(Objective(name, "minimize"))
        else:
            known = ", ".join(sorted(MAXIMIZE | MINIMIZE))
            raise UsageError(f"unknown objective {name!r}; use one of {known} or module:function")
    if not out:
        raise UsageError("no objective given; e.g. --objective sharpe")
    if len({o.name for o in out}) != len(out):
        raise UsageError("an objective is listed twice")
    return tuple(out)


def _is_drive(name: str) -> bool:
    return len(name) > 1 and name[1] == ":" and name[0].isalpha() and "\\" in name


_FUNCTIONS: dict[str, Callable[[Any], Any]] = {}


def load_function(spec: str) -> Callable[[Any], Any]:
    """Import `package.module:function` or `path/to/file.py:function` (cached per process)."""
    if spec in _FUNCTIONS:
        return _FUNCTIONS[spec]
    target, _, attr = spec.rpartition(":")
    if not target or not attr:
        raise UsageError(f"objective {spec!r}: write module:function or file.py:function")
    try:
        if target.endswith(".py"):
            path = Path(target).expanduser().resolve()
            module_spec = importlib.util.spec_from_file_location(f"_objective_{path.stem}", path)
            if module_spec is None or module_spec.loader is None or not path.is_file():
                raise UsageError(f"objective {spec!r}: no file {path}")
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
    except UsageError:
        raise
    except Exception as exc:
        raise UsageError(f"objective {spec!r}: cannot import {target}: {exc}") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise UsageError(f"objective {spec!r}: {target} has no function {attr!r}")
    _FUNCTIONS[spec] = fn
    return fn
