"""The code `dataclasses` compiles for each dataclass's methods, kept between runs.

Every `@dataclass` writes the source of its methods (`__init__`, `__repr__`, `__eq__`; a frozen
one `__hash__`, `__setattr__` and `__delattr__` too) and compiles it when its module is
imported: Python's compiler is ~60 % of making a dataclass, and `tui-trader backtest` imports
~40 of them (~55 M instructions, ~13 ms of its start, measured with valgrind). With
`keep_dataclass_code()`, `dataclasses` takes each method's code object from a file in the
cache folder when the same source was compiled before, and the code it compiled is added to the
file when the process ends. The source text is the key: a class that changed, or a Python
whose `dataclasses` writes other source, compiles as before. The file is per Python build
(code objects are); a missing, damaged or foreign file changes nothing but the time, and one
that cannot be written is skipped.

How: `dataclasses` calls `exec(source, globals, namespace)` for the methods it writes (its
`_create_fn`, Python 3.8-3.13). A module-level `exec` in `dataclasses` is found before the
builtin one: ours compiles the source exactly as the builtin would there (no `__future__`
flags: `dataclasses` has none), or takes the code object kept for that source, and runs it
with the builtin. Nothing else in `dataclasses` calls `exec`.
"""

from __future__ import annotations

import atexit
import builtins
import sys
from pathlib import Path
from typing import Any

from tui_trader.core.kept_code import ENV_CACHE_DIR, KeptCode, user_cache_dir
from tui_trader.core.kept_code import cache_file as kept_file

__all__ = ["ENV_CACHE_DIR", "DataclassCode", "cache_file", "installed", "keep_dataclass_code", "user_cache_dir"]

# what the code objects depend on: the interpreter's build and its -O level
_KEY = repr((sys.version, sys.implementation.cache_tag, sys.flags.optimize))
# past this many sources the file keeps only those of the run writing it (classes that changed
# leave their old source behind)
LIMIT = 2000


class DataclassCode(KeptCode):
    """The kept code objects by source text, read from `path` (kept_code.py); `exec` is what
    `dataclasses` calls in place of the builtin."""

    KEY = _KEY
    WHAT = "dataclass code cache"

    def limit(self) -> int:
        return LIMIT

    def exec(self, source: Any, globals: Any = None, locals: Any = None, /) -> None:
        """The builtin `exec`, with `source` text compiled once across runs."""
        if isinstance(source, str):
            code = self.codes.get(source)
            if code is None:
                code = self.codes[source] = compile(source, "<string>", "exec", dont_inherit=True)
                self.compiled += 1
            self.used.add(source)
            source = code
        builtins.exec(source, globals, locals)


def cache_file(command: str | None = None) -> Path:
    """This Python's file in the cache folder (`TUI_TRADER_CACHE_DIR`, else the platform's),
    one per `command` that names itself: each reads only its own classes' code (the
    workstation keeps ~850 classes', ~8 ms to read; a backtest ~40, under 1 ms)."""
    return kept_file(f"dataclass-code-{command}" if command else "dataclass-code", _KEY)


def keep_dataclass_code(command: str | None = None) -> DataclassCode:
    """Have the dataclasses made from now on in this process take their code from the cache
    file (`command`'s own, `cache_file`), and add what they compiled to it at exit (once per
    process: later calls return the same)."""
    import dataclasses

    owner = installed()
    if owner is not None:
        return owner
    kept = DataclassCode(cache_file(command))
    kept.load()
    dataclasses.exec = kept.exec  # type: ignore[attr-defined]
    atexit.register(kept.save)
    return kept


def installed() -> DataclassCode | None:
    """The kept code `dataclasses` takes its methods' code from in this process, if any."""
    owner = getattr(getattr(sys.modules.get("dataclasses"), "exec", None), "__self__", None)
    return owner if isinstance(owner, DataclassCode) else None
