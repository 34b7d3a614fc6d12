"""What Python compiles again at every start, kept in a file of the cache folder between runs:
the shared part of `dataclass_code` (dataclasses' methods) and `regex_code` (regular
expressions). A file holds one dict of compiled things by their source, under a key that says
what they depend on (the interpreter's build); a missing, damaged or foreign file is compiled
over, one that cannot be written is skipped: either costs only the time."""

from __future__ import annotations

import marshal
import os
import sys
import zlib
from pathlib import Path
from typing import Any, ClassVar

from tui_trader.core.lazy import LazyLogger

log = LazyLogger(__name__)

ENV_CACHE_DIR = "TUI_TRADER_CACHE_DIR"


class KeptCode:
    """`codes` by source, read from `path` (`load`) and written back when this process compiled
    anything new (`save`); subclasses compile into `codes` and count in `compiled` and `used`."""

    KEY: ClassVar[str] = ""  # what the kept code depends on
    WHAT: ClassVar[str] = "kept code"  # for the log

    def __init__(self, path: Path) -> None:
        self.path = path
        self.codes: dict[Any, Any] = {}
        self.used: set[Any] = set()
        self.read = 0  # what the file gave
        self.compiled = 0  # what this process compiled (written at exit)

    def limit(self) -> int:
        """Past this many sources the file keeps only those of the run writing it (sources that
        changed leave their old code behind)."""
        return 2000

    def load(self) -> int:
        """The file's code (none when it is missing, damaged or foreign)."""
        try:
            # read whole, then unmarshalled: marshal.load(file) reads it piece by piece through
            # the file object (~10 times as long for a file of ~850 classes' code)
            kept = marshal.loads(self.path.read_bytes())
            if isinstance(kept, dict) and kept.get("key") == self.KEY and isinstance(kept.get("codes"), dict):
                self.codes = kept["codes"]
        except FileNotFoundError:
            pass
        except Exception as exc:  # a damaged or foreign file: compile as before
            log.info("the %s %s was not used: %r", self.WHAT, self.path, exc)
        self.read = len(self.codes)
        return self.read

    def save(self) -> bool:
        """Write the file when this process compiled anything new; whether it did."""
        if not self.compiled:
            return False
        codes = self.codes if len(self.codes) <= self.limit() else {s: self.codes[s] for s in self.used}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                marshal.dump({"key": self.KEY, "codes": codes}, fh)
            tmp.replace(self.path)
        except Exception as exc:  # a read-only or full disk: the next run compiles, as before
            log.info("the %s %s was not written: %r", self.WHAT, self.path, exc)
            return False
        self.compiled = 0
        return True


def cache_file(prefix: str, key: str) -> Path:
    """The file of `key` in the cache folder (`cache_root`)."""
    return cache_root() / f"{prefix}-{zlib.crc32(key.encode()):08x}.marshal"


def cache_root() -> Path:
    """The folder every cache of ours goes in: `TUI_TRADER_CACHE_DIR`, else the platform's."""
    return Path(os.environ.get(ENV_CACHE_DIR) or user_cache_dir())


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
