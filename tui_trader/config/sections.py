"""Some sections of the settings without the rest: what a command that reads only `[engine]`
and `[risk]` (a backtest) needs, without building every section's model or loading
pydantic-settings (~0.1 s of a command's start).

The sections are validated as `Settings` validates them, from the same file. Only when no
`TUI_TRADER_*` variable could override a setting: with one set, `load_sections` returns None
and the caller loads the whole `Settings` (pydantic-settings reads the environment). The
other sections of the file are not validated here beyond their names (`tui-trader config
show` checks the whole file).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.config.defaults import PLAIN, plain_default
from tui_trader.core.errors import ConfigError

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

# The strategy deadline as the CLI hands it to the processes it starts (optimizer workers).
STRATEGY_TIMEOUT_ENV = "TUI_TRADER_STRATEGY_TIMEOUT_S"
# Env vars that are not settings (they pick the home folder, the keyring or a cache folder,
# switch the kept candle columns off (data/kept_columns.py), carry a password, or ask the
# workstation to say when it first painted: bench/bench_tui.py).
NOT_SETTINGS = frozenset(
    {
        "TUI_TRADER_HOME",
        "TUI_TRADER_KEYRING",
        "TUI_TRADER_KEYRING_PASSWORD",
        "TUI_TRADER_KEYRING_PASSWORD_FILE",
        "TUI_TRADER_TOKEN",
        "TUI_TRADER_SESSION",
        "TUI_TRADER_CACHE_DIR",
        "TUI_TRADER_KEEP_COLUMNS",
        "TUI_TRADER_FIRST_PAINT_FILE",
        STRATEGY_TIMEOUT_ENV,
    }
)
# Every table `Settings` accepts at the top of config.toml (its fields and their aliases)
TOP_LEVEL_KEYS = frozenset(
    {"engine", "paper", "risk", "ui", "venues", "routing", "strategies", "notifications",
     "daemon", "serve", "signals", "copy", "copy_trading", "backtest"}
)  # fmt: skip
# The sections that are one model: name -> (module, class)
SECTION_MODELS = {
    "engine": ("tui_trader.config.engine", "EngineSettings"),
    "paper": ("tui_trader.config.paper", "PaperSettings"),
    "risk": ("tui_trader.config.risk", "RiskSettings"),
    "ui": ("tui_trader.config.ui", "UISettings"),
    "routing": ("tui_trader.config.routing", "RoutingSettings"),
    "notifications": ("tui_trader.config.daemon", "NotificationSettings"),
    "daemon": ("tui_trader.config.daemon", "DaemonSettings"),
    "serve": ("tui_trader.config.serve", "ServeSettings"),
}


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    import tomllib  # only with a file to read (the workstation's start without one: cli/settings_check.py)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file or move it away") from None


def describe(error: ValidationError, source: str, prefix: tuple[str, ...] = ()) -> str:
    """One line for the first error: where (`risk.sizing.mode`), what, and the value given."""
    first = error.errors()[0]
    key = ".".join(str(p) for p in (*prefix, *first["loc"])) or "(top level)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown setting; check the spelling (`tui-trader config show` lists every key)"
    got = first.get("input")
    shown = "" if first["type"] in ("extra_forbidden", "missing") or isinstance(got, dict) else f" (got {got!r})"
    return f"{source}: {key}: {msg}{shown}"


def env_overrides() -> bool:
    """Whether a `TUI_TRADER_*` variable could set a setting (pydantic-settings matches the
    prefix whatever the case)."""
    return any(
        k.upper().startswith("TUI_TRADER_") and k.upper() not in NOT_SETTINGS for k in os.environ
    )


def load_sections(
    config_file: Path | None, names: tuple[str, ...], *, require_file: bool = False
) -> dict[str, Any] | None:
    """The named sections (keys of SECTION_MODELS) with the values `load_settings` would give
    them, raising ConfigError on bad input as it does; None when an environment variable may
    override a setting (then only the whole `Settings` reads them right). A section the file
    does not set is its defaults as plain attributes where `config.defaults` has them (no
    pydantic), else the model with its defaults."""
    import importlib

    if env_overrides():
        return None
    data: dict[str, Any] = {}
    if config_file is not None:
        if require_file and not config_file.exists():
            raise ConfigError(f"config file {config_file} does not exist")
        data = read_toml(config_file)
    source = str(config_file) if config_file else "settings"
    unknown = sorted(k for k in data if k not in TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(
            f"{source}: {unknown[0]}: unknown setting; check the spelling (`tui-trader config show` lists every key)"
        )
    out: dict[str, Any] = {}
    for name in names:
        if name not in data and name in PLAIN:  # nothing to validate (`config.defaults`)
            out[name] = plain_default(name)
            continue
        from pydantic import ValidationError

        module, cls = SECTION_MODELS[name]
        model: type[BaseModel] = getattr(importlib.import_module(module), cls)
        try:
            out[name] = model.model_validate(data.get(name, {}))
        except ValidationError as exc:
            raise ConfigError(describe(exc, source, (name,))) from None
    return out
