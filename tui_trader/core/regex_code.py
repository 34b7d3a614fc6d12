"""The code Python's `re` compiles for each regular expression, kept between runs.

`re` parses and compiles every pattern in Python (its `_parser` and `_compiler`) the first time
a process uses it; Textual, Rich, tomllib and the standard library compile ~80 while the
workstation's modules are imported (its CSS tokenizer's and markup's patterns are large): ~5 %
of the instructions before the first paint, measured with valgrind. With `keep_regex_code()`,
`re` takes what its compiler produced (the pattern's opcodes, flags and groups) from a file in
the cache folder when the same pattern with the same flags was compiled before, and builds the
pattern from it as its compiler does (`_sre.compile`); what it compiled is added to the file
when the process ends. The file is per Python build and `_sre` engine (the opcodes are); a
missing, damaged or foreign file changes nothing but the time, one that cannot be written is
skipped. A pattern made from the kept code is equal (`==`: pattern, flags and code) to one
compiled anew (tested).

How: `re._compile` calls `re._compiler.compile(pattern, flags)` for what is not in its own
in-process cache; that function (Python 3.11-3.13) is replaced by ours, which does its work
itself for a str or bytes pattern (parse, then code) and keeps the result, and hands anything
else (a parsed pattern, the DEBUG flag) to it unchanged.
"""

from __future__ import annotations

import _sre
import atexit
import sys
from pathlib import Path
from re import _compiler, _parser  # type: ignore[attr-defined]
from typing import Any

from tui_trader.core.kept_code import KeptCode
from tui_trader.core.kept_code import cache_file as kept_file

# what the code depends on: the interpreter's build and its regular expression engine
_KEY = repr((sys.version, _sre.MAGIC, _sre.CODESIZE))
# past this many patterns the file keeps only those of the run writing it (patterns made from
# changing text would otherwise pile up)
LIMIT = 3000

Kept = tuple[int, list[int], int, dict[str, int], tuple[Any, ...]]  # flags, code, groups, both indexes


class RegexCode(KeptCode):
    """The kept compiler output by (pattern, flags), read from `path` (kept_code.py); `compile`
    is what `re` calls in place of its compiler's."""

    KEY = _KEY
    WHAT = "regular expression cache"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.compiler = _compiler.compile  # re's own, for what is not kept

    def limit(self) -> int:
        return LIMIT

    def compile(self, pattern: Any, flags: int = 0) -> Any:
        """`re._compiler.compile`, with a str or bytes pattern compiled once across runs."""
        if not isinstance(pattern, str | bytes) or flags & _compiler.SRE_FLAG_DEBUG:
            return self.compiler(pattern, flags)
        key = (pattern, int(flags))  # re passes an int; a RegexFlag would not be written
        kept = self.codes.get(key)
        if kept is None:
            kept = self.codes[key] = _compile(pattern, flags)
            self.compiled += 1
        self.used.add(key)
        return _sre.compile(pattern, *kept)


def _compile(pattern: str | bytes, flags: int) -> Kept:
    """What `re._compiler.compile` gives `_sre.compile` after the pattern (plain ints: the
    opcodes are an int subclass marshal does not write)."""
    parsed = _parser.parse(pattern, flags)
    code = _compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    flags = int(flags | parsed.state.flags)
    return flags, [int(c) for c in code], parsed.state.groups - 1, groupindex, tuple(indexgroup)


def cache_file(command: str | None = None) -> Path:
    """This Python's file in the cache folder (`TUI_TRADER_CACHE_DIR`, else the platform's),
    one per `command` that names itself (each reads only its own patterns)."""
    return kept_file(f"regex-code-{command}" if command else "regex-code", _KEY)


def keep_regex_code(command: str | None = None) -> RegexCode:
    """Have the patterns `re` compiles from now on in this process come from the cache file
    (`command`'s own, `cache_file`), and add what it compiled to it at exit (once per process:
    later calls return the same)."""
    owner = installed()
    if owner is not None:
        return owner
    kept = RegexCode(cache_file(command))
    kept.load()
    _compiler.compile = kept.compile
    atexit.register(kept.save)
    return kept


def installed() -> RegexCode | None:
    """The kept code `re` compiles with in this process, if any."""
    owner = getattr(_compiler.compile, "__self__", None)
    return owner if isinstance(owner, RegexCode) else None
