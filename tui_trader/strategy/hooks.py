"""Which optional callbacks a strategy really implements."""

from __future__ import annotations

from typing import Any


def overridden_hook(strategy: Any, name: str) -> Any:
    """The bound method if the strategy's own class (not the framework base) defines `name`."""
    if strategy is None:
        return None
    for klass in type(strategy).__mro__:
        if name in klass.__dict__:
            if klass.__module__.startswith("tui_trader.strategy"):
                return None
            return getattr(strategy, name)
    return None
