"""Package names imported on first use (PEP 562 module `__getattr__`): importing one module
of a package (`tui_trader.core.errors`) does not load the package's others."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A `__getattr__` for `package` that imports each name from its module (`where`) when
    it is first asked for, and keeps it in the package. A value "module:attr" gives the name
    another attribute of the module (an alias); "module:" gives the module itself."""

    def __getattr__(name: str) -> Any:
        target = where.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module_name, colon, attr = target.partition(":")
        module = importlib.import_module(module_name)
        value = getattr(module, attr or name) if not colon or attr else module
        setattr(sys.modules[package], name, value)  # asked once
        return value

    return __getattr__


class LazyLogger:
    """`logging.getLogger(name)`, got on first use: a module that logs only on a rare path (a
    damaged cache file, a strategy hook that raised) does not import logging with it. The
    backtest command's pandas-free run logs nothing, and logging's import (with traceback,
    string...) was ~16 M instructions of its start."""

    __slots__ = ("_logger", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self._logger is None:
            import logging

            self._logger = logging.getLogger(self._name)
        return getattr(self._logger, attr)
