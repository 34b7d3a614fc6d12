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
import logging
import marshal
import os
import sys
import zlib
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ENV_CACHE_DIR = "TUI_TRADER_CACHE_DIR"
# what the code objects depend on: the interpreter's build and its -O level
_KEY = repr((sys.version, sys.implementation.cache_tag, sys.flags.optimize))
# past this many sources the file keeps only those of the run writing it (classes that changed
# leave their old source behind)
LIMIT = 2000


class DataclassCode:
    """The kept code objects by source text, read from `path`; `exec` is what `dataclasses`
    calls in place of the builtin."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.codes: dict[str, Any] = {}
        self.used: set[str] = set()
        self.read = 0  # the code objects the file gave
        self.compiled = 0  # the sources compiled in this process (written at exit)

    def load(self) -> int:
        """The file's code objects (none when it is missing, damaged or foreign)."""
        try:
            # read whole, then unmarshalled: marshal.load(file) reads it piece by piece through
            # the file object (~10 times as long for a file of ~850 classes' code)
            kept = marshal.loads(self.path.read_bytes())
            if isinstance(kept, dict) and kept.get("key") == _KEY and isinstance(kept.get("codes"), dict):
                self.codes = kept["codes"]
        except FileNotFoundError:
            pass
        except Exception as exc:  # a damaged or foreign file: compile as before
            log.info("the dataclass code cache %s was not used: %r", self.path, exc)
        self.read = len(self.codes)
        return self.read

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

    def save(self) -> bool:
        """Write the file when this process compiled anything new; whether it did."""
        if not self.compiled:
            return False
        codes = self.codes if len(self.codes) <= LIMIT else {s: self.codes[s] for s in self.used}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                marshal.dump({"key": _KEY, "codes": codes}, fh)
            tmp.replace(self.path)
        except Exception as exc:  # a read-only or full disk: the next run compiles, as before
            log.info("the dataclass code cache %s was not written: %r", self.path, exc)
            return False
        self.compiled = 0
        return True


def cache_file() -> Path:
    """This Python's file in the cache folder (`TUI_TRADER_CACHE_DIR`, else the platform's)."""
    root = os.environ.get(ENV_CACHE_DIR) or user_cache_dir()
    return Path(root) / f"dataclass-code-{zlib.crc32(_KEY.encode()):08x}.marshal"


def user_cache_dir() -> str:
    """`platformdirs.user_cache_dir("tui-trader")`, the other caches' folder; on Linux by
    platformdirs' own rule (XDG_CACHE_HOME, else ~/.cache) without importing it: its import
    brings tempfile and random, ~9 ms, more than half of what the kept code saves."""
    if sys.platform.startswith("linux"):
        root = os.environ.get("XDG_CACHE_HOME", "")
        if not root.strip():
            root = os.path.expanduser("~/.cache")
        return os.path.join(root, "tui-trader")
    import platformdirs

    return platformdirs.user_cache_dir("tui-trader")


def keep_dataclass_code() -> DataclassCode:
    """Have the dataclasses made from now on in this process take their code from the cache
    file, and add what they compiled to it at exit (once per process: later calls return the
    same)."""
    import dataclasses

    owner = installed()
    if owner is not None:
        return owner
    kept = DataclassCode(cache_file())
    kept.load()
    dataclasses.exec = kept.exec  # type: ignore[attr-defined]
    atexit.register(kept.save)
    return kept


def installed() -> DataclassCode | None:
    """The kept code `dataclasses` takes its methods' code from in this process, if any."""
    owner = getattr(getattr(sys.modules.get("dataclasses"), "exec", None), "__self__", None)
    return owner if isinstance(owner, DataclassCode) else None
