"""Seasons (a name, a start and an end) and each season's latest leaderboard, under HOME/league.

HOME/league/seasons.json holds the seasons; HOME/league/results/<season>.json the latest run of
each. Files are written to a temporary name and renamed, 0600, so a crash never leaves half a
leaderboard. Names are plain (letters, digits, `_`, `.`, `-`): never a path.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui_trader.core.errors import UsageError, UserError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Season:
    name: str
    start: datetime
    end: datetime
    created: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "start": _iso(self.start), "end": _iso(self.end), "created": _iso(self.created)}

    def status(self, now: datetime) -> str:
        if now < self.start:
            return "upcoming"
        return "running" if now < self.end else "ended"


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise UsageError(f"season name {name[:40]!r}: use letters, digits, '_', '.' or '-' (at most 64)")
    return name


def parse_time(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {text[:40]!r} is not a date (YYYY-MM-DD or ISO 8601, UTC)") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class LeagueStore:
    def __init__(self, home_root: Path) -> None:
        self.root = home_root / "league"
        self.seasons_file = self.root / "seasons.json"
        self.results_dir = self.root / "results"

    # -- seasons ----------------------------------------------------------------------------

    def seasons(self) -> dict[str, Season]:
        doc = self._read(self.seasons_file) or {}
        out = {}
        for name, s in (doc.get("seasons") or {}).items():
            try:
                out[name] = Season(name, parse_time(s["start"], "start"), parse_time(s["end"], "end"),
                                   parse_time(s["created"], "created"))  # fmt: skip
            except (KeyError, TypeError, UsageError):
                raise UserError(f"{self.seasons_file}: season {name!r} is damaged; fix or remove it") from None
        return out

    def season(self, name: str) -> Season:
        found = self.seasons().get(check_name(name))
        if found is None:
            known = ", ".join(sorted(self.seasons())) or "none"
            raise UserError(f"no season {name!r} (known: {known}); `league season add NAME --start --end` makes one")
        return found

    def add_season(self, name: str, start: datetime, end: datetime, *, replace: bool = False) -> Season:
        check_name(name)
        if end <= start:
            raise UsageError("a season ends after it starts: --end must be later than --start")
        seasons = self.seasons()
        existing = seasons.get(name)
        if existing is not None and (existing.start, existing.end) != (start, end) and not replace:
            raise UserError(
                f"season {name} already runs {_iso(existing.start)} to {_iso(existing.end)}; pick another name"
            )
        season = existing if existing is not None and not replace else Season(name, start, end, datetime.now(UTC))
        seasons[name] = season
        self._write(self.seasons_file, {"seasons": {n: s.as_dict() for n, s in sorted(seasons.items())}})
        return season

    # -- results ----------------------------------------------------------------------------

    def save_result(self, season: str, result: dict[str, Any]) -> Path:
        path = self.results_dir / f"{check_name(season)}.json"
        self._write(path, result)
        return path

    def result(self, season: str | None = None) -> dict[str, Any]:
        """A season's latest leaderboard, or the most recent of all (UserError if none)."""
        if season is not None:
            doc = self._read(self.results_dir / f"{check_name(season)}.json")
            if doc is None:
                raise UserError(f"season {season} has no leaderboard yet; `league run --season {season} ...` makes one")
            return doc
        docs = [d for p in sorted(self.results_dir.glob("*.json")) if (d := self._read(p)) is not None]
        if not docs:
            raise UserError("no league has run yet; `tui-trader league run --strategies a,b,c` runs one")
        return max(docs, key=lambda d: str(d.get("run_at") or ""))

    # -- files ------------------------------------------------------------------------------

    def _read(self, path: Path) -> dict[str, Any] | None:
        if not path.exists():
            return None
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read {path} ({exc}); fix or move it away") from None
        if not isinstance(doc, dict):
            raise UserError(f"{path} is not a league file; move it away")
        return doc

    def _write(self, path: Path, doc: dict[str, Any]) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=2, allow_nan=False)
                fh.write("\n")
            os.replace(tmp, path)
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror}") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")
