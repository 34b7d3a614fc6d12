"""The stylesheet's parsed rules, kept between launches.

Before its first frame the workstation parses app.tcss and every widget's default CSS (~22
sources, 210 rules): ~15 ms of Textual's tokenizer and parser at each start, the same result
every time for the same Textual, theme and CSS. Once the screen is drawn, what was parsed is
written to the cache folder (`TUI_TRADER_CACHE_DIR`, else the platform's user cache, as the
exchange calendar's sessions); the next start gives it to the stylesheet before anything is
parsed (~3 ms to read), and Textual takes each source's rules from it instead of parsing.

A file per Textual install (where its files are and when they were written), Python version and
theme variables; inside, each source's rules are keyed by Textual's own key (the CSS text
itself, where it was read from, its scope), so CSS that changed is parsed as before. A missing,
unreadable or foreign file changes nothing but the time. Textual keeps the parsed rules in
`Stylesheet._parse_cache` (private; a test checks it is used and that the styles come out the
same, so a Textual that renames it fails there).
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.kept_code import cache_root

if TYPE_CHECKING:
    from textual.css.stylesheet import Stylesheet

log = logging.getLogger(__name__)



class CssCache:
    """The cache file for one Textual, Python and set of theme variables, and the sources it
    gave the stylesheet (a plain class: a dataclass costs ~1 ms to make before the paint)."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key
        self.kept: frozenset[Any] = frozenset()

    @classmethod
    def for_variables(cls, variables: dict[str, str]) -> CssCache:
        import textual

        root = cache_root()
        # which Textual: its files' place and time (`textual.__version__` reads the package's
        # metadata, ~15 ms); a new install of it writes them anew
        installed = os.stat(textual.__file__).st_mtime_ns if textual.__file__ else 0
        key = repr((textual.__file__, installed, sys.version_info[:3], sorted(variables.items())))
        return cls(root / f"css-{zlib.crc32(key.encode()):08x}.pickle", key)

    def load(self, stylesheet: Stylesheet) -> int:
        """Give `stylesheet` the rules kept in the file (once the stylesheet has these theme
        variables, before anything is parsed). Returns how many sources it gave."""
        cache = _parse_cache(stylesheet)
        if cache is None:
            return 0
        try:
            with open(self.path, "rb") as fh:
                kept = pickle.load(fh)
            if not isinstance(kept, dict) or kept.get("key") != self.key:
                return 0
            entries = kept["rules"]
            for source, rules in entries.items():
                cache.set(source, rules)
        except FileNotFoundError:
            return 0
        except Exception as exc:  # a damaged or foreign file: parse as before
            log.info("the stylesheet cache %s was not used: %r", self.path, exc)
            return 0
        self.kept = frozenset(entries)
        return len(entries)

    def save(self, stylesheet: Stylesheet) -> bool:
        """Keep what `stylesheet` has parsed, unless the file gave all of it. Returns whether
        it wrote the file."""
        cache = _parse_cache(stylesheet)
        sources = list(cache.keys()) if cache is not None else []
        if cache is None or set(sources) <= self.kept:
            return False
        entries = {source: cache.get(source) for source in sources}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                pickle.dump({"key": self.key, "rules": entries}, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(self.path)
        except Exception as exc:  # a read-only or full disk: the next start parses, as before
            log.info("the stylesheet cache %s was not written: %r", self.path, exc)
            return False
        self.kept = frozenset(entries)
        return True


def _parse_cache(stylesheet: Stylesheet) -> Any | None:
    """Textual's cache of parsed sources (private: `Stylesheet._parse_cache`), if it has one."""
    cache = getattr(stylesheet, "_parse_cache", None)
    return cache if all(hasattr(cache, name) for name in ("keys", "get", "set")) else None
