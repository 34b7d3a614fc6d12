"""Tunable strategy parameters with Freqtrade's names, so the optimizer can search them."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from tui_trader.core.errors import UserError

SPACE_PREFIXES = ("buy", "sell", "enter", "exit", "protection")


class BaseParameter:
    """A value a strategy reads as `self.name.value`; `range` is what the optimizer searches."""

    kind = "base"

    def __init__(
        self,
        *,
        default: Any,
        space: str | None = None,
        optimize: bool = True,
        load: bool = True,
        **_: Any,
    ) -> None:
        self.default = default
        self.value = default
        self.space = space
        self.optimize = optimize
        self.load = load
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @property
    def range(self) -> Sequence[Any]:
        raise NotImplementedError

    def validate(self, value: Any) -> Any:
        return value

    def describe(self) -> dict[str, Any]:
        """JSON-able summary for `strategies list` and the optimizer."""
        return {
            "type": self.kind,
            "default": self.default,
            "value": self.value,
            "space": self.space,
            "optimize": self.optimize,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class _NumericParameter(BaseParameter):
    def __init__(self, low: Any, high: Any = None, *, default: Any, **kwargs: Any) -> None:
        if high is None:
            if not isinstance(low, Sequence) or len(low) != 2:
                raise UserError(f"{type(self).__name__} needs low and high (or [low, high])")
            low, high = low
        if low > high:
            raise UserError(f"{type(self).__name__}: low {low} is above high {high}")
        self.low = low
        self.high = high
        super().__init__(default=default, **kwargs)

    def validate(self, value: Any) -> Any:
        if not self.low <= value <= self.high:
            raise UserError(
                f"parameter {self.name or '?'}={value} is outside {self.low}..{self.high}"
            )
        return value

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "low": self.low, "high": self.high}


class IntParameter(_NumericParameter):
    kind = "int"

    def __init__(
        self, low: int | Sequence[int], high: int | None = None, *, default: int, **kwargs: Any
    ) -> None:
        super().__init__(low, high, default=int(default), **kwargs)

    @property
    def range(self) -> range:
        """Every integer from low to high inclusive (Freqtrade narrows this outside hyperopt)."""
        return range(int(self.low), int(self.high) + 1)

    def validate(self, value: Any) -> int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise UserError(f"parameter {self.name or '?'} must be an integer, got {value!r}")
        return int(super().validate(int(value)))


class RealParameter(_NumericParameter):
    kind = "real"

    def __init__(
        self,
        low: float | Sequence[float],
        high: float | None = None,
        *,
        default: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(low, high, default=float(default), **kwargs)

    @property
    def range(self) -> tuple[float, float]:
        """A continuous interval: (low, high)."""
        return (float(self.low), float(self.high))

    def validate(self, value: Any) -> float:
        return float(super().validate(float(value)))


class DecimalParameter(_NumericParameter):
    kind = "decimal"

    def __init__(
        self,
        low: float | Sequence[float],
        high: float | None = None,
        *,
        default: float,
        decimals: int = 3,
        **kwargs: Any,
    ) -> None:
        self.decimals = decimals
        super().__init__(low, high, default=round(float(default), decimals), **kwargs)

    @property
    def range(self) -> list[float]:
        """low..high in steps of 10**-decimals."""
        step = 10**-self.decimals
        count = round((self.high - self.low) / step)
        return [round(self.low + i * step, self.decimals) for i in range(count + 1)]

    def validate(self, value: Any) -> float:
        return round(float(super().validate(float(value))), self.decimals)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "decimals": self.decimals}


class CategoricalParameter(BaseParameter):
    kind = "categorical"

    def __init__(self, categories: Sequence[Any], *, default: Any = None, **kwargs: Any) -> None:
        self.categories = list(categories)
        if len(self.categories) < 2:
            raise UserError("CategoricalParameter needs at least two categories")
        if default is None:
            default = self.categories[0]
        if default not in self.categories:
            raise UserError(
                f"CategoricalParameter default {default!r} is not one of {self.categories}"
            )
        super().__init__(default=default, **kwargs)

    @property
    def range(self) -> list[Any]:
        return list(self.categories)

    def validate(self, value: Any) -> Any:
        if value not in self.categories:
            raise UserError(
                f"parameter {self.name or '?'}={value!r} is not one of {self.categories}"
            )
        return value

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "categories": self.categories}


class BooleanParameter(CategoricalParameter):
    kind = "boolean"

    def __init__(self, *, default: bool = True, **kwargs: Any) -> None:
        super().__init__([True, False], default=bool(default), **kwargs)

    def validate(self, value: Any) -> bool:
        if isinstance(value, str):
            value = {"true": True, "false": False}.get(value.lower(), value)
        return bool(super().validate(value))


def _space_for(name: str, param: BaseParameter) -> str:
    if param.space:
        return param.space
    prefix = name.split("_", 1)[0]
    return prefix if prefix in SPACE_PREFIXES else "buy"


def detect_parameters(strategy: type | object) -> dict[str, BaseParameter]:
    """All parameters a strategy class (or instance) declares, in MRO order, spaces resolved."""
    found: dict[str, BaseParameter] = {}
    cls = strategy if isinstance(strategy, type) else type(strategy)
    for klass in reversed(cls.__mro__):
        for name, attr in vars(klass).items():
            if isinstance(attr, BaseParameter) and not name.startswith("_"):
                found[name] = attr
    if not isinstance(strategy, type):  # an instance holds its own copies
        found = {name: getattr(strategy, name) for name in found}
    for name, param in found.items():
        param.name = name
        param.space = _space_for(name, param)
    return found


def copy_parameters(instance: object) -> dict[str, BaseParameter]:
    """Give an instance its own parameter objects, so set_parameters never touches the class."""
    params = {}
    for name, param in detect_parameters(type(instance)).items():
        own = copy.copy(param)
        setattr(instance, name, own)
        params[name] = own
    return params
