"""Root settings and loading with clear one-line errors."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tui_trader.config.copy import CopySettings
from tui_trader.config.daemon import DaemonSettings, NotificationSettings
from tui_trader.config.paper import PaperSettings
from tui_trader.config.risk import RiskSettings
from tui_trader.config.routing import RoutingSettings
from tui_trader.config.serve import ServeSettings
from tui_trader.config.strategies import StrategySettings
from tui_trader.config.ui import UISettings
from tui_trader.config.venues import VenueSettings
from tui_trader.core.errors import ConfigError


class EngineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_venue: str = Field("paper", description="venue for orders that name none")
    equity_snapshot_s: float = Field(60.0, gt=0, description="how often equity is recorded")
    reporting_currency: str = Field(
        "USD",
        validation_alias=AliasChoices("reporting_currency", "base_currency"),
        description="equity, P&L and risk limits are reported in this currency; others convert at live rates",
    )
    strategy_timeout_s: float = Field(
        5.0,
        gt=0,
        le=3600,
        description="a strategy evaluation running longer is stopped: live its worker is killed and the strategy "
        "marked hung; in check, backtest and optimize an error (per 10,000 bars)",
    )


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


# The strategy deadline as the CLI hands it to the processes it starts (optimizer workers).
STRATEGY_TIMEOUT_ENV = "TUI_TRADER_STRATEGY_TIMEOUT_S"
# Env vars that are not settings (they pick the home folder or carry a password).
_NOT_SETTINGS = {
    "TUI_TRADER_HOME",
    "TUI_TRADER_KEYRING_PASSWORD",
    "TUI_TRADER_TOKEN",
    "TUI_TRADER_SESSION",
    STRATEGY_TIMEOUT_ENV,
}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file or move it away") from None


def _describe(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown setting; check the spelling (`tui-trader config show` lists every key)"
    got = first.get("input")
    shown = "" if first["type"] in ("extra_forbidden", "missing") or isinstance(got, dict) else f" (got {got!r})"
    return f"{source}: {key}: {msg}{shown}"


def load_settings(config_file: Path | None, *, require_file: bool = False) -> Settings:
    """Load the TOML file (if any) plus environment overrides, raising ConfigError on bad input."""
    import os

    data: dict[str, Any] = {}
    if config_file is not None:
        if require_file and not config_file.exists():
            raise ConfigError(f"config file {config_file} does not exist")
        data = _read_toml(config_file)
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k in _NOT_SETTINGS}
    try:
        return Settings(**data)
    except ValidationError as exc:
        env_keys = [k for k in os.environ if k.startswith("TUI_TRADER_")]
        source = str(config_file) if config_file else "settings"
        if env_keys and not data:
            source = "environment"
        raise ConfigError(_describe(exc, source)) from None
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
