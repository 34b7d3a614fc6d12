"""TA-Lib imported without pandas, and given pandas back when pandas comes.

`import talib` imports pandas (and polars) when they are installed, to wrap its functions for
Series: ~80 MB of a process's memory and ~0.25 s, for a process that only ever hands TA-Lib
NumPy arrays (the engine evaluating rule strategies, `backtest --json` on a rule file). Here
TA-Lib is imported with both hidden, so it skips them, and an import hook gives TA-Lib pandas
back the moment anything imports pandas later, as TA-Lib's own import would have
(`give_pandas`): Series in, Series out; `talib.abstract` on DataFrames.

Giving pandas back sets private names of TA-Lib's C module (`_PANDAS_DATAFRAME`, ...) and runs
its `__init__` again: TA-Lib 0.8's internals, checked by tests. With another TA-Lib the import
is made the usual way (pandas and all), so nothing can be left half-wrapped.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

HIDDEN = ("pandas", "polars")
_PRIVATE = ("_PANDAS_DATAFRAME", "_PANDAS_SERIES", "_INPUT_ARRAYS_TYPES", "_ARRAY_TYPES")
_KNOWN_SERIES = ("0.8.",)  # the TA-Lib versions whose internals `give_pandas` is tested on


def known_talib() -> bool:
    """Whether the installed TA-Lib is one whose pandas support `give_pandas` can restore."""
    found = _installed_version()
    if found is None:  # not installed from a wheel beside its package: the general lookup
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("TA-Lib")
        except PackageNotFoundError:
            return False
    return found.startswith(_KNOWN_SERIES)


def _installed_version() -> str | None:
    """TA-Lib's version from the name of its `dist-info` folder beside the `talib` package,
    where pip installs it; None when there is none. `importlib.metadata` reads the same
    but costs ~10-45 ms of a command's start (its import, then every path entry listed)."""
    import importlib.util
    import os
    import re

    spec = importlib.util.find_spec("talib")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.dirname(next(iter(spec.submodule_search_locations)))
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    found = [m.group(1) for n in names if (m := re.fullmatch(r"ta[-_]lib-([^-]+)\.dist-info", n, re.IGNORECASE))]
    return found[0] if len(found) == 1 else None


def import_talib(*, hook: bool = True) -> bool:
    """Import TA-Lib; without pandas when neither is imported yet and this TA-Lib's pandas
    support can be given back. True when pandas was hidden. `hook`: give TA-Lib pandas back
    as soon as anything imports pandas (a long-lived process); without it the caller calls
    `give_pandas` itself before it uses pandas with TA-Lib."""
    if "talib" in sys.modules or "pandas" in sys.modules or not known_talib():
        import talib

        return False
    saved = {name: sys.modules.get(name) for name in HIDDEN}
    for name in HIDDEN:
        sys.modules[name] = None  # type: ignore[assignment]  # an import of it fails
    try:
        import talib  # noqa: F401
    finally:
        for name, module in saved.items():
            if module is None:
                del sys.modules[name]
            else:
                sys.modules[name] = module
    if hook:
        _PandasWatch.install()
    return True


def give_pandas() -> bool:
    """Give TA-Lib, imported without pandas, what its import sets when pandas is there: the
    abstract API's DataFrame and Series types in its C module (read at each call) and the
    Series wrappers of `talib.RSI` ... (its `__init__`, run again). False when this TA-Lib
    does not have the names this needs (nothing is changed then)."""
    import pandas as pd

    lib: Any = sys.modules.get("talib._ta_lib")
    talib = sys.modules.get("talib")
    if lib is None or talib is None or not all(hasattr(lib, name) for name in _PRIVATE):
        return False
    if lib._PANDAS_DATAFRAME is pd.DataFrame:
        return True  # given already (or imported with pandas)
    lib._PANDAS_DATAFRAME = pd.DataFrame
    lib._PANDAS_SERIES = pd.Series
    lib._INPUT_ARRAYS_TYPES = (*lib._INPUT_ARRAYS_TYPES, pd.DataFrame)
    lib._ARRAY_TYPES = (*lib._ARRAY_TYPES, pd.Series)
    importlib.reload(talib)
    return True


class _PandasWatch:  # an importlib.abc.MetaPathFinder (importlib.abc costs ~5 ms to import)
    """Finds nothing itself: when pandas is imported, wraps its loader so that TA-Lib is given
    pandas as soon as pandas has finished importing, before the importer gets it back."""

    _installed: _PandasWatch | None = None

    @classmethod
    def install(cls) -> None:
        if cls._installed is None:
            cls._installed = cls()
            sys.meta_path.insert(0, cls._installed)

    @classmethod
    def remove(cls) -> None:
        if cls._installed is not None:
            if cls._installed in sys.meta_path:
                sys.meta_path.remove(cls._installed)
            cls._installed = None

    def find_spec(self, fullname: str, path: Any = None, target: ModuleType | None = None) -> Any:
        if fullname != "pandas":
            return None
        type(self).remove()  # once: the other finders from here on
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _ThenGivePandas(spec.loader)
                return spec
        return None


class _ThenGivePandas:  # an importlib.abc.Loader
    """pandas' own loader, which gives TA-Lib pandas once pandas has run."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def __getattr__(self, name: str) -> Any:  # anything else asked of a loader: the real one's
        return getattr(self.loader, name)

    def create_module(self, spec: Any) -> ModuleType | None:
        created: ModuleType | None = self.loader.create_module(spec)
        return created

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        module.__loader__ = self.loader  # pandas as if imported the usual way
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        give_pandas()
