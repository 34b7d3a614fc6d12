"""Root settings and loading with clear one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tui_trader.config.copy import CopySettings
from tui_trader.config.daemon import DaemonSettings, NotificationSettings
from tui_trader.config.engine import EngineSettings
from tui_trader.config.paper import PaperSettings
from tui_trader.config.risk import RiskSettings
from tui_trader.config.routing import RoutingSettings
from tui_trader.config.sections import NOT_SETTINGS, STRATEGY_TIMEOUT_ENV, describe, read_toml
from tui_trader.config.serve import ServeSettings
from tui_trader.config.strategies import StrategySettings
from tui_trader.config.ui import UISettings
from tui_trader.config.venues import VenueSettings
from tui_trader.core.errors import ConfigError


class Settings(BaseSettings):
    """Everything configurable. Unknown keys are errors, so typos do not pass silently."""

    model_config = SettingsConfigDict(
        env_prefix="TUI_TRADER_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    engine: EngineSettings = Field(default_factory=EngineSettings)
    paper: PaperSettings = Field(default_factory=PaperSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    ui: UISettings = Field(default_factory=UISettings)
    venues: dict[str, VenueSettings] = Field(default_factory=dict)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    # Sections owned by later features are free-form tables validated by their owners.
    strategies: dict[str, StrategySettings] = Field(default_factory=dict)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    signals: dict[str, Any] = Field(default_factory=dict)
    # `[copy.NAME]` (a field named `copy` would shadow BaseModel.copy)
    copy_trading: dict[str, CopySettings] = Field(
        default_factory=dict, validation_alias=AliasChoices("copy", "copy_trading"), serialization_alias="copy"
    )
    backtest: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file; the file arrives as init kwargs.
        return (env_settings, init_settings)


__all__ = ["STRATEGY_TIMEOUT_ENV", "EngineSettings", "Settings", "default_config_text", "load_settings"]


def load_settings(config_file: Path | None, *, require_file: bool = False) -> Settings:
    """Load the TOML file (if any) plus environment overrides, raising ConfigError on bad input."""
    import os

    data: dict[str, Any] = {}
    if config_file is not None:
        if require_file and not config_file.exists():
            raise ConfigError(f"config file {config_file} does not exist")
        data = read_toml(config_file)
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k in NOT_SETTINGS}
    try:
        return Settings(**data)
    except ValidationError as exc:
        env_keys = [k for k in os.environ if k.startswith("TUI_TRADER_")]
        source = str(config_file) if config_file else "settings"
        if env_keys and not data:
            source = "environment"
        raise ConfigError(describe(exc, source)) from None
    finally:
        os.environ.update(saved)


def default_config_text() -> str:
    """A commented config.toml with every default, for `tui-trader config init`."""
    return _DEFAULT_CONFIG


_DEFAULT_CONFIG = """\
# tui-trader configuration. Every key is optional; these are the defaults.
# Environment variables override the file: TUI_TRADER_RISK__MAX_ORDER_NOTIONAL=5000

[engine]
default_venue = "paper"
equity_snapshot_s = 60.0
strategy_timeout_s = 5.0      # a strategy evaluation longer than this: worker killed, strategy marked hung

[paper]
seed = 7
maker_fee = 0.0002
taker_fee = 0.0005
ack_latency_ms = 0.0
tick_interval_ms = 250.0
allow_short = true
symbols = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "AAPL", "MSFT", "SPY"]
[paper.balances]
USDT = 100000.0
USD = 100000.0

[risk]
price_band_pct = 0.10
# max_order_notional = 25000
# max_position_notional = 50000
# max_gross_exposure = 150000
# max_open_positions = 10
# daily_loss_limit = 2000
# max_drawdown = 0.15
# max_consecutive_losses = 5

[ui]
theme = "tui-dark"
refresh_hz = 20.0
confirm_far_price_pct = 0.05
bell = false

# The workstation in a browser and over SSH (see docs/serve.md):
# [serve.web]
# enabled = true          # the daemon starts it
# port = 8765
# [serve.users.alice]
# role = "viewer"         # or "trader"
# password_hash = "..."   # from `tui-trader serve passwd alice`

# A real venue (see docs/venues.md); credentials go in the keyring:
#   tui-trader keys set binance
# A strategy that trades live (see docs/strategies.md):
# [strategies.ema_cross]
# symbols = ["BTC/USDT", "ETH/USDT"]
# params = { buy_fast = 9 }
#
# [venues.binance]
# kind = "ccxt"
# exchange = "binance"
# sandbox = true
# symbols = ["BTC/USDT", "ETH/USDT"]
"""
