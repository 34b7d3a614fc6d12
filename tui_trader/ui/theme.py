"""Themes: TOML files (themes/ in the project, HOME/themes/ for the user) -> Textual Themes.

A theme file holds Textual's theme colours plus a [variables] table; ours are price-up,
price-down, flash-up, flash-down, badge-paper, badge-live, depth-bid and depth-ask.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from tui_trader.core.errors import ConfigError

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


def load_theme_file(path: Path) -> Theme:
    """One theme file; ConfigError (one line) when it is not a valid theme."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"theme {path}: cannot read it ({exc})") from None
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
    for folder in dirs:
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ConfigError as exc:
                log.warning("%s", exc)
                errors.append(str(exc))
                continue
            themes[theme.name] = theme
    return themes, errors


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
