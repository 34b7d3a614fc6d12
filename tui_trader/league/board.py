"""The latest leaderboard for the workstation's League pane (snapshot.extra["league"]).

`league run` writes HOME/league/results/<season>.json after every strategy it finishes (with
`progress`) and once more at the end, each time to a temporary name then renamed. The engine
asks LatestBoard at every snapshot; it looks at the folder at most every `every_s` seconds and
re-reads a file only when its size or modification time changed, so the pane follows a running
league as it fills in, and any later run, at the cost of a few stat calls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui_trader.core.errors import UserError
from tui_trader.league.seasons import LeagueStore

log = logging.getLogger(__name__)


class LatestBoard:
    def __init__(self, home_root: Path, every_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = LeagueStore(home_root)
        self.every_s = every_s
        self.clock = clock
        self._checked = float("-inf")
        self._stamp: tuple[tuple[str, int, int], ...] = ()
        self._doc: dict[str, Any] | None = None
        self._error = ""

    def __call__(self) -> dict[str, Any]:
        now = self.clock()
        if now - self._checked >= self.every_s:
            self._checked = now
            self._refresh()
        if self._error:
            return {"league": {"error": self._error}}
        return {"league": self._doc} if self._doc is not None else {}

    def _refresh(self) -> None:
        try:
            files = sorted(self.store.results_dir.glob("*.json"))
            stamp = tuple((p.name, (st := p.stat()).st_mtime_ns, st.st_size) for p in files)
        except OSError:  # the folder is not there (no league yet) or a file went meanwhile
            stamp = ()
        if stamp == self._stamp:
            return
        self._stamp = stamp
        if not stamp:
            self._doc, self._error = None, ""
            return
        try:
            self._doc, self._error = self.store.result(), ""
        except UserError as exc:
            if self._error != str(exc):
                log.warning("league pane: %s", exc)
            self._doc, self._error = None, str(exc)
