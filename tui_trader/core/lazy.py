"""Package names imported on first use (PEP 562 module `__getattr__`): importing one module
of a package (`tui_trader.core.errors`) does not load the package's others."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A `__getattr__` for `package` that imports each name from its module (`where`) when
    it is first asked for."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
