"""Settings: `config.toml` under the home folder, `TUI_TRADER_*` env vars, `--config FILE`.

Each section lives in its own module; `Settings` composes them. The names below resolve on
first use, so importing one section's module (`tui_trader.config.risk`) does not build every
section's model nor load pydantic-settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.lazy import lazy_exports

if TYPE_CHECKING:
    from tui_trader.config.settings import Settings, default_config_text, load_settings

__all__ = ["Settings", "default_config_text", "load_settings"]

__getattr__ = lazy_exports(__name__, dict.fromkeys(__all__, "tui_trader.config.settings"))
