"""Hot reload: notice edited strategy files by polling mtimes, and swap a fresh class in.

No watcher dependency: the engine calls `changed()` on a timer (once a second is plenty).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from tui_trader.strategy.errors import StrategyError, from_exception
from tui_trader.strategy.loader import SUFFIXES, load_file

if TYPE_CHECKING:
    from tui_trader.strategy.runner import StrategyRunner

log = logging.getLogger(__name__)


class StrategyWatcher:
    """Remembers (mtime, size) of every strategy file; changed() lists edited, new and removed."""

    def __init__(self, dirs: Iterable[str | Path]) -> None:
        self.dirs = [Path(d) for d in dirs]
        self._seen = self._scan()

    def _scan(self) -> dict[Path, tuple[int, int]]:
        seen: dict[Path, tuple[int, int]] = {}
        for directory in self.dirs:
            if not directory.is_dir():
                continue
            for path in directory.iterdir():
                if path.suffix in SUFFIXES and not path.name.startswith(("_", ".")):
                    try:
                        st = path.stat()
                    except OSError:
                        continue
                    seen[path.resolve()] = (st.st_mtime_ns, st.st_size)
        return seen

    def changed(self) -> list[Path]:
        now = self._scan()
        changed = [p for p, sig in now.items() if self._seen.get(p) != sig]
        changed += [p for p in self._seen if p not in now]
        self._seen = now
        return sorted(changed)


def reload_runner(runner: StrategyRunner, path: str | Path) -> StrategyError | None:
    """Re-import `path` and give `runner` a fresh instance of its strategy's class.

    On any error the runner keeps its current instance and the error is returned (and logged);
    open trades, windows and custom_state survive either way."""
    name = runner.strategy.name
    try:
        classes = load_file(path)
    except StrategyError as exc:
        log.error("reload of %s failed, keeping the running version: %s", path, exc)
        return exc
    cls = next((c for c in classes if (vars(c).get("name") or c.__name__) == name), None)
    if cls is None:
        cls = next((c for c in classes if c.__name__ == type(runner.strategy).__name__), None)
    if cls is None:
        return StrategyError(f"{path} no longer defines strategy {name}", file=str(path))
    try:
        fresh = cls(runner.strategy.config)
    except Exception as exc:
        return from_exception(exc, path, f"{cls.__name__}()")
    runner.swap_strategy(fresh)
    return None
