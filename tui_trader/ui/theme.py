"""Themes: TOML files (themes/ in the project, HOME/themes/ for the user) -> Textual Themes.

A theme file holds Textual's theme colours plus a [variables] table; ours are price-up,
price-down, flash-up, flash-down, badge-paper, badge-live, depth-bid and depth-ask.

What each file held is kept in the cache folder (themes.json) by its path, modification time
and size: a start reads the files' TOML again only when one changed (tomllib is not imported
before the workstation's first paint otherwise). A missing or damaged cache costs the parse.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from tui_trader.core.errors import ConfigError
from tui_trader.core.kept_code import cache_root

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "themes"
_COLOURS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "warning",
    "error",
    "success",
)
DEFAULT_THEME = "tui-dark"


def load_theme_file(path: Path, kept: dict[str, Any] | None = None) -> Theme:
    """One theme file; ConfigError (one line) when it is not a valid theme. `kept`: what files
    held when last read (see the module), used when this one has not changed since, and
    updated when it has."""
    data = _read(path, {} if kept is None else kept)
    name = data.get("name") or path.stem
    if "primary" not in data:
        raise ConfigError(f"theme {path}: 'primary' colour is required")
    unknown = set(data) - {"name", "dark", "variables", *_COLOURS}
    if unknown:
        raise ConfigError(f"theme {path}: unknown keys {', '.join(sorted(unknown))}")
    variables = {str(k): str(v) for k, v in (data.get("variables") or {}).items()}
    for key, value in [*((k, data[k]) for k in _COLOURS if k in data), *variables.items()]:
        try:
            Color.parse(str(value))
        except ColorParseError:
            raise ConfigError(f"theme {path}: {key} = {value!r} is not a colour") from None
    # Only colour keyword arguments (all str); Any because Theme's other keywords are not str.
    colours: dict[str, Any] = {k: str(data[k]) for k in _COLOURS if k in data}
    return Theme(name=str(name), dark=bool(data.get("dark", True)), variables=variables, **colours)


def discover_themes(*dirs: Path | None) -> tuple[dict[str, Theme], list[str]]:
    """Every *.toml theme in `dirs` (later dirs override earlier ones) and the errors met."""
    themes: dict[str, Theme] = {}
    errors: list[str] = []
    kept = _kept_file()
    before = _load_kept(kept)
    files = dict(before)
    seen: set[str] = set()
    for folder in dirs:
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            seen.add(str(path))
            try:
                theme = load_theme_file(path, files)
            except ConfigError as exc:
                log.warning("%s", exc)
                errors.append(str(exc))
                continue
            themes[theme.name] = theme
    files = {path: entry for path, entry in files.items() if path in seen}  # files gone: forgotten
    if files != before:
        _save_kept(kept, files)
    return themes, errors


def _read(path: Path, kept: dict[str, Any]) -> dict[str, Any]:
    """The file's TOML, from `kept` when the file has the modification time and size it had
    when it was read (else read, and put in `kept` when JSON can hold it)."""
    try:
        stat = path.stat()
        stamp = [stat.st_mtime_ns, stat.st_size]
        entry = kept.get(str(path))
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == stamp and isinstance(entry[1], dict):
            return entry[1]
        import tomllib

        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        raise ConfigError(f"theme {path}: cannot read it ({exc})") from None
    try:
        json.dumps(data)
    except (TypeError, ValueError):  # a date or the like: read again next time
        return data
    kept[str(path)] = [stamp, data]
    return data


def _kept_file() -> Path:
    return cache_root() / "themes.json"


def _load_kept(path: Path) -> dict[str, Any]:
    try:
        kept = json.loads(path.read_bytes())
    except (OSError, ValueError):  # none yet, or damaged: the files are read
        return {}
    return kept if isinstance(kept, dict) else {}


def _save_kept(path: Path, files: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(files), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:  # a read-only or full disk: the files are read next time
        log.info("the themes' cache %s was not written: %r", path, exc)


@dataclass(frozen=True, slots=True)
class Palette:
    """Rich styles the panes use for prices, derived from the active theme."""

    up: str
    down: str
    flash_up: str
    flash_down: str
    muted: str
    warning: str
    error: str
    accent: str
    badge_paper: str
    badge_live: str
    depth_bid: str
    depth_ask: str

    @classmethod
    def from_theme(cls, theme: Theme) -> Palette:
        v = theme.variables
        up = v.get("price-up") or theme.success or "green"
        down = v.get("price-down") or theme.error or "red"
        return cls(
            up=up,
            down=down,
            flash_up=v.get("flash-up") or up,
            flash_down=v.get("flash-down") or down,
            muted=theme.secondary or "grey50",
            warning=theme.warning or "yellow",
            error=theme.error or "red",
            accent=theme.accent or theme.primary,
            badge_paper=v.get("badge-paper") or theme.warning or "yellow",
            badge_live=v.get("badge-live") or theme.error or "red",
            depth_bid=v.get("depth-bid") or up,
            depth_ask=v.get("depth-ask") or down,
        )

    def signed(self, value: float) -> str:
        """The style for a signed quantity: up, down or plain."""
        return self.up if value > 0 else self.down if value < 0 else ""
