"""Settings: `config.toml` under the home folder, `TUI_TRADER_*` env vars, `--config FILE`.

Each section lives in its own module; `Settings` composes them.
"""

from tui_trader.config.settings import Settings, default_config_text, load_settings

__all__ = ["Settings", "default_config_text", "load_settings"]
