"""Freqtrade's import paths, served by tui_trader, so a Freqtrade strategy loads unchanged.

`from freqtrade.strategy import IStrategy, Trade, ...`, `from freqtrade.persistence import ...`,
`from freqtrade.exchange import timeframe_to_prev_date`, `from freqtrade.enums import ...`,
`from technical import qtpylib` and `import freqtrade.vendor.qtpylib.indicators as qtpylib`
resolve to our modules once `install()` ran (the strategy loader runs it). Inside tui_trader
these names always mean ours, also when the freqtrade package is installed beside it: a
strategy must subclass our IStrategy to run here. `talib.abstract` is TA-Lib itself.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any


def _strategy_names() -> dict[str, Any]:
    from tui_trader import strategy as s
    from tui_trader.strategy import helpers, locks, timeframes
    from tui_trader.strategy.trade import StrategyTrade, TradeOrder

    return {
        "IStrategy": s.IStrategy,
        "Trade": StrategyTrade,
        "LocalTrade": StrategyTrade,
        "Order": TradeOrder,
        "PairLocks": locks.PairLocks,
        "informative": s.informative,
        "merge_informative_pair": s.merge_informative_pair,
        "BooleanParameter": s.BooleanParameter,
        "CategoricalParameter": s.CategoricalParameter,
        "DecimalParameter": s.DecimalParameter,
        "IntParameter": s.IntParameter,
        "RealParameter": s.RealParameter,
        "timeframe_to_minutes": lambda tf: int(timeframes.timeframe_to_seconds(tf) // 60),
        "timeframe_to_seconds": timeframes.timeframe_to_seconds,
        "timeframe_to_msecs": timeframes.timeframe_to_msecs,
        "timeframe_to_prev_date": timeframes.timeframe_to_prev_date,
        "timeframe_to_next_date": timeframes.timeframe_to_next_date,
        "stoploss_from_open": helpers.stoploss_from_open,
        "stoploss_from_absolute": helpers.stoploss_from_absolute,
        "AnnotationType": dict,
    }


def _enums() -> dict[str, Any]:
    from tui_trader.strategy import enums

    return {k: v for k, v in vars(enums).items() if isinstance(v, type) and k[0].isupper()}


def _qtpylib() -> dict[str, Any]:
    from tui_trader.indicators import qtpylib

    return {k: getattr(qtpylib, k) for k in qtpylib.__all__}


def _pick(*names: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        found = {**_strategy_names(), **_enums()}
        return {n: found[n] for n in names}

    return build


_EXCHANGE = ("timeframe_to_minutes", "timeframe_to_seconds", "timeframe_to_msecs",
             "timeframe_to_prev_date", "timeframe_to_next_date")  # fmt: skip
_PARAMETERS = ("BooleanParameter", "CategoricalParameter", "DecimalParameter", "IntParameter",
               "RealParameter")  # fmt: skip
# module name -> (builder of its public names, its submodules)
_MODULES: dict[str, tuple[Callable[[], dict[str, Any]], Sequence[str]]] = {
    "freqtrade": (dict, ("strategy", "persistence", "exchange", "enums", "vendor")),
    "freqtrade.strategy": (_strategy_names, ("interface", "parameters", "hyper")),
    "freqtrade.strategy.interface": (_pick("IStrategy"), ()),
    "freqtrade.strategy.parameters": (_pick(*_PARAMETERS), ()),
    "freqtrade.strategy.hyper": (_pick(*_PARAMETERS), ()),
    "freqtrade.persistence": (_pick("Trade", "LocalTrade", "Order", "PairLocks"), ()),
    "freqtrade.exchange": (_pick(*_EXCHANGE), ()),
    "freqtrade.enums": (_enums, ()),
    "freqtrade.vendor": (dict, ("qtpylib",)),
    "freqtrade.vendor.qtpylib": (dict, ("indicators",)),
    "freqtrade.vendor.qtpylib.indicators": (_qtpylib, ()),
    "technical": (dict, ("qtpylib",)),
    "technical.qtpylib": (_qtpylib, ()),
}


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the names in _MODULES from tui_trader's objects."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in _MODULES:
            return None
        is_package = bool(_MODULES[fullname][1])
        return importlib.machinery.ModuleSpec(fullname, self, is_package=is_package)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name, f"tui_trader's stand-in for {spec.name}")
        if spec.submodule_search_locations is not None:
            module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        build, _ = _MODULES[module.__name__]
        names = build()
        module.__dict__.update(names)
        module.__all__ = list(names)  # type: ignore[attr-defined]
        for sub in _MODULES[module.__name__][1]:
            child = f"{module.__name__}.{sub}"
            if child in _MODULES:  # `import freqtrade` then `freqtrade.strategy.X` works too
                module.__dict__.setdefault(sub, importlib.import_module(child))


_FINDER = _Finder()


def install() -> None:
    """Serve Freqtrade's import paths from tui_trader (idempotent)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
        for name in list(sys.modules):
            if name in _MODULES and getattr(sys.modules[name], "__loader__", None) is not _FINDER:
                del sys.modules[name]  # a real freqtrade imported earlier: ours from now on
