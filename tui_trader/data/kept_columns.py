"""A candle file's columns kept between runs in the cache folder, as raw arrays.

`tui-trader backtest` of a rule strategy reads its candle file's six columns with pyarrow: on
the development machine ~100 ms of CPU to import pyarrow and ~40 ms to decode a year of 1m
candles, every run, for the same file a trader backtests again and again while tuning. After a
run has read a file, its columns (open times in int64 ns, float64 prices and volume, exactly
the bytes the read gave) are written to `<cache folder>/candles/`; the next run of the same,
unchanged file reads them back in one read (~12 ms for a year of 1m candles) and imports no
pyarrow. The checks on the candles (order, gaps, NaN rows) run on them as on a fresh read.

Which file is "the same, unchanged" is decided by what the file system says of it: its resolved
path, device, inode, size, modification and change times (a rewrite, a copy over it, a `touch`
or a rename onto it changes one of them). Two rules keep this sound:
- a file changed (written, or its times set) less than RACY_S ago is not kept: a write within
  the same tick of the file system's clock could leave its times as they were (git's "racy"
  case);
- a file whose times or size moved while it was read is not kept.

The cache is only ever a copy: a missing, damaged, foreign or short file is read over (and
removed), one that cannot be written is skipped, and either costs only the time. Files are
written whole under a temporary name and renamed, so a reader never sees half of one. The
folder is kept under LIMIT_BYTES by dropping the least recently used files.

`TUI_TRADER_KEEP_COLUMNS=0` reads every file afresh and keeps nothing (the test suite sets it,
so that which read a test takes never depends on how old its file is).
"""

from __future__ import annotations

import json
import os
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.core.kept_code import cache_root
from tui_trader.core.lazy import LazyLogger

if TYPE_CHECKING:
    import numpy as np

log = LazyLogger(__name__)

VERSION = 1  # of the layout below and of what read_ohlcv_arrays gives: raise it when either changes
MAGIC = b"tui-trader columns\n"
RACY_S = 2.0
LIMIT_BYTES = 512 << 20
SUFFIX = ".columns"
ENV_SWITCH = "TUI_TRADER_KEEP_COLUMNS"

Columns = tuple["np.ndarray", dict[str, "np.ndarray"]]


def folder() -> Path:
    return cache_root() / "candles"


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "no", "off", "false")


def identity(path: Path) -> list[Any] | None:
    """What says the file is unchanged, or None when it cannot be told (no such file)."""
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
    except OSError:
        return None
    return [VERSION, real, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _file_of(ident: list[Any]) -> Path:
    return folder() / f"{zlib.crc32(json.dumps(ident[1]).encode()):08x}-{ident[3]:x}{SUFFIX}"


def load(path: Path) -> Columns | None:
    """The kept columns of `path` as it is now, or None (not kept, or kept for another state of
    it). The arrays are read-only."""
    ident = identity(path) if enabled() else None
    if ident is None:
        return None
    kept = _file_of(ident)
    try:
        fh = open(kept, "rb")  # noqa: SIM115  # closed below, on every path
    except OSError:
        return None
    with fh:
        try:
            found = _read(fh, ident)
        except Exception as exc:  # damaged: read the candle file over, and let it be written again
            log.info("the kept columns %s were not used: %r", kept, exc)
            found = None
            _remove(kept)
    if found is not None:
        _touch(kept)
    return found


def _read(fh: Any, ident: list[Any]) -> Columns | None:
    import numpy as np

    if fh.readline(64) != MAGIC:
        raise ValueError("not a columns file")
    header = json.loads(fh.readline(4096))
    if header.get("identity") != ident:  # another state of the file (or another file)
        return None
    rows, names = int(header["rows"]), [str(n) for n in header["columns"]]
    size = rows * 8 * (1 + len(names))
    buffer = np.empty(size, dtype=np.uint8)
    if fh.readinto(buffer.data) != size or fh.read(1):
        raise ValueError("the file's size is not its header's")
    buffer.flags.writeable = False
    ns = buffer[: rows * 8].view(np.int64)
    columns = {name: buffer[(i + 1) * rows * 8 : (i + 2) * rows * 8].view(np.float64) for i, name in enumerate(names)}
    return ns, columns


def keep(path: Path, before: list[Any] | None, found: Columns) -> bool:
    """Write `found`, read from `path` when `identity(path)` was `before`, for the next run;
    whether it was written. Not when the file changed meanwhile or changed too recently to
    tell a later change from it."""
    import numpy as np

    now = identity(path)
    if before is None or now != before or not enabled() or time.time_ns() - max(now[5], now[6]) < RACY_S * 1e9:
        return False
    ns, columns = found
    rows = len(ns)
    if any(len(values) != rows for values in columns.values()):
        return False
    kept = _file_of(now)
    tmp = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
    header = json.dumps({"identity": now, "rows": rows, "columns": list(columns)}).encode() + b"\n"
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + header)
            fh.write(np.ascontiguousarray(ns, dtype=np.int64).data)
            for values in columns.values():
                fh.write(np.ascontiguousarray(values, dtype=np.float64).data)
        tmp.replace(kept)
    except OSError as exc:  # a read-only or full disk: the next run reads the file, as before
        log.info("the columns of %s were not kept: %r", path, exc)
        _remove(tmp)
        return False
    _trim(kept)
    return True


def _trim(newest: Path) -> None:
    """The folder under LIMIT_BYTES: the least recently used files go first (never `newest`)."""
    try:
        files = [(f.stat(), f) for f in newest.parent.glob(f"*{SUFFIX}")]
    except OSError:
        return
    total = sum(st.st_size for st, _ in files)
    for st, f in sorted(files, key=lambda pair: pair[0].st_mtime_ns):
        if total <= LIMIT_BYTES:
            break
        if f != newest:
            _remove(f)
            total -= st.st_size


def _touch(kept: Path) -> None:
    try:
        os.utime(kept)  # recently used: the last to be dropped
    except OSError:
        pass


def _remove(f: Path) -> None:
    try:
        f.unlink()
    except OSError:
        pass
