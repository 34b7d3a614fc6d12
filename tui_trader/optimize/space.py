"""Search spaces built from a strategy's declared parameters, narrowed from the command line.

`--space fast=5:30 slow=20:100:5 mode=ema,sma stop=0.02` narrows `buy_fast` to 5..30,
`buy_slow` to 20..100 in steps of 5, a categorical to two choices, and fixes one value.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui_trader.core.errors import UsageError

REAL_GRID_POINTS = 10  # a continuous parameter without a step is gridded at this many points


@dataclass(frozen=True)
class Dimension:
    """One searched parameter: discrete `choices`, or a continuous [low, high] (kind "real")."""

    name: str
    kind: str  # int | decimal | real | categorical | boolean
    choices: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    decimals: int | None = None

    @property
    def continuous(self) -> bool:
        return self.kind == "real"

    def grid(self) -> tuple[Any, ...]:
        """The values a grid search visits."""
        if not self.continuous:
            return self.choices
        assert self.low is not None and self.high is not None
        n = REAL_GRID_POINTS
        return tuple(self.low + (self.high - self.low) * i / (n - 1) for i in range(n))

    def sample(self, rng: Any) -> Any:
        """One uniform draw (numpy Generator)."""
        if self.continuous:
            return float(rng.uniform(self.low, self.high))
        return self.choices[int(rng.integers(len(self.choices)))]

    def size(self) -> float:
        return math.inf if self.continuous else len(self.choices)

    def describe(self) -> dict[str, Any]:
        if self.continuous:
            return {"name": self.name, "kind": self.kind, "low": self.low, "high": self.high}
        return {"name": self.name, "kind": self.kind, "values": list(self.choices)}


@dataclass(frozen=True)
class SearchSpace:
    """The dimensions searched plus the values held fixed (optimize=False or narrowed to one)."""

    dimensions: tuple[Dimension, ...]
    fixed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dimensions]

    def size(self) -> float:
        """Number of distinct points (inf when a dimension is continuous)."""
        return math.prod(d.size() for d in self.dimensions) if self.dimensions else 1

    def grid(self) -> Iterator[dict[str, Any]]:
        """Every point, last dimension varying fastest."""
        for combo in itertools.product(*(d.grid() for d in self.dimensions)):
            yield dict(zip(self.names, combo, strict=True))

    def grid_size(self) -> int:
        return math.prod(len(d.grid()) for d in self.dimensions) if self.dimensions else 1

    def sample(self, rng: Any) -> dict[str, Any]:
        return {d.name: d.sample(rng) for d in self.dimensions}

    def describe(self) -> dict[str, Any]:
        return {"dimensions": [d.describe() for d in self.dimensions], "fixed": dict(self.fixed)}


def build_space(strategy: Any, narrowing: Sequence[str] = ()) -> SearchSpace:
    """The space of `strategy`'s parameters with optimize=True, narrowed by `name=spec` items.

    spec is `low:high` or `low:high:step` (numbers), `a,b,c` (choices) or one value (fixed).
    """
    from tui_trader.strategy.parameters import detect_parameters

    params = detect_parameters(strategy)
    overrides = _parse_narrowing(narrowing, params)
    dims: list[Dimension] = []
    fixed: dict[str, Any] = {}
    for name, param in params.items():
        spec = overrides.get(name)
        if spec is None and not param.optimize:
            continue
        dim = _dimension(name, param, spec)
        if dim.size() == 1:
            fixed[name] = dim.choices[0]
        else:
            dims.append(dim)
    if not dims:
        known = ", ".join(params) or "none"
        raise UsageError(
            f"nothing to optimize: strategy {getattr(strategy, 'name', strategy)} has no tunable "
            f"parameter left (declared: {known}); widen --space"
        )
    return SearchSpace(tuple(dims), fixed)


def _parse_narrowing(items: Sequence[str], params: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, spec = item.partition("=")
        if not sep or not key.strip() or not spec.strip():
            raise UsageError(
                f"--space {item!r}: write NAME=LOW:HIGH[:STEP], NAME=A,B or NAME=VALUE"
            )
        out[resolve_name(key.strip(), params)] = spec.strip()
    return out


def resolve_name(key: str, params: Mapping[str, Any]) -> str:
    """`fast` finds `buy_fast` when that is the only parameter ending in `_fast`."""
    if key in params:
        return key
    matches = [n for n in params if n.endswith("_" + key)]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(params) or "none"
    if matches:
        raise UsageError(f"--space {key!r} is ambiguous ({', '.join(matches)}); use the full name")
    raise UsageError(f"--space {key!r}: the strategy has no such parameter (known: {known})")


def _dimension(name: str, param: Any, spec: str | None) -> Dimension:
    kind = param.kind
    if kind in ("categorical", "boolean"):
        choices = list(param.range)
        if spec is not None:
            wanted = [_coerce_choice(v.strip(), choices, name) for v in spec.split(",")]
            choices = list(dict.fromkeys(wanted))
        return Dimension(name, kind, tuple(choices))
    low, high = float(param.low), float(param.high)
    step: float | None = None
    if spec is not None:
        low, high, step = _numeric_spec(name, spec)
        if low < float(param.low) or high > float(param.high):
            raise UsageError(
                f"--space {name}={spec} leaves the declared range {param.low}..{param.high}"
            )
    if kind == "int":
        istep = int(step) if step else 1
        if step is not None and (step != istep or istep < 1):
            raise UsageError(f"--space {name}: an integer step must be a whole number >= 1")
        return Dimension(name, kind, tuple(range(math.ceil(low), math.floor(high) + 1, istep)))
    if kind == "decimal":
        decimals = int(param.decimals)
        dstep = step or 10**-decimals
        if dstep <= 0:
            raise UsageError(f"--space {name}: the step must be positive")
        count = math.floor((high - low) / dstep + 1e-9)
        values = tuple(dict.fromkeys(round(low + i * dstep, decimals) for i in range(count + 1)))
        return Dimension(name, kind, values, decimals=decimals)
    # real: continuous unless a step turns it into a ladder
    if step:
        count = math.floor((high - low) / step + 1e-9)
        return Dimension(name, "decimal", tuple(low + i * step for i in range(count + 1)))
    if low == high:
        return Dimension(name, kind, (low,))
    return Dimension(name, kind, low=low, high=high)


def _numeric_spec(name: str, spec: str) -> tuple[float, float, float | None]:
    parts = spec.split(":")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise UsageError(f"--space {name}={spec}: expected numbers like 5:30 or 5:30:5") from None
    if len(nums) == 1:
        return nums[0], nums[0], None
    if len(nums) not in (2, 3) or nums[0] > nums[1]:
        raise UsageError(f"--space {name}={spec}: write LOW:HIGH or LOW:HIGH:STEP with LOW <= HIGH")
    if len(nums) == 3 and nums[2] <= 0:
        raise UsageError(f"--space {name}={spec}: the step must be positive")
    return nums[0], nums[1], nums[2] if len(nums) == 3 else None


def _coerce_choice(text: str, choices: Sequence[Any], name: str) -> Any:
    for choice in choices:
        if str(choice).lower() == text.lower():
            return choice
    raise UsageError(f"--space {name}: {text!r} is not one of {list(choices)}")
