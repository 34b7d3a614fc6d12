"""The `[signals]` section of config.toml, validated here (the root Settings keeps it free-form)."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from tui_trader.core.errors import ConfigError
from tui_trader.signals.webhook import PROVIDER_RE

SOURCES = ("strategy", "ml", "regime", "news", "chat")


class DecisionSettings(BaseModel):
    """How sources combine. Weights are relative; half-lives are in seconds."""

    model_config = ConfigDict(extra="forbid")

    weights: dict[str, float] = Field(
        default_factory=lambda: {
            "strategy": 1.0,
            "ml": 1.0,
            "regime": 0.5,
            "news": 0.5,
            "chat": 0.75,
        }
    )
    half_life_s: dict[str, float] = Field(
        default_factory=lambda: {
            "strategy": 4 * 3600.0,
            "ml": 2 * 3600.0,
            "regime": 12 * 3600.0,
            "news": 3 * 3600.0,
            "chat": 6 * 3600.0,
        }
    )
    default_weight: float = Field(
        default=0.5, ge=0, description="weight of a source family not listed"
    )
    default_half_life_s: float = Field(default=4 * 3600.0, gt=0)
    max_half_lives: float = Field(
        default=5.0, gt=0, description="older signals (in half-lives) are dropped"
    )
    confluence_bonus: float = Field(
        default=0.15, ge=0, description="score boost per extra agreeing timeframe"
    )
    max_confluence_bonus: float = Field(default=0.45, ge=0)
    high_vol_damping: float = Field(
        default=0.6, ge=0, le=1, description="score factor in a HIGH_VOL regime"
    )
    flat_threshold: float = Field(default=0.1, ge=0, lt=1, description="|score| below this is FLAT")
    market_wide: bool = Field(
        default=True, description="apply '*' (Fed, macro) news to every symbol"
    )

    def weight(self, family: str) -> float:
        return self.weights.get(family, self.default_weight)

    def half_life(self, family: str) -> float:
        return self.half_life_s.get(family, self.default_half_life_s)

    @field_validator("weights")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, w in v.items() if w < 0)
        if bad:
            raise ValueError(f"weights must be >= 0 (check {', '.join(bad)})")
        return v

    @field_validator("half_life_s")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, h in v.items() if h <= 0)
        if bad:
            raise ValueError(f"half-lives must be > 0 seconds (check {', '.join(bad)})")
        return v


class NewsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feeds: list[str] = Field(default_factory=list, description="RSS/Atom URLs or local files")
    interval_s: float = Field(default=300.0, ge=5)
    timeout_s: float = Field(default=10.0, gt=0)


class DiscordSettings(BaseModel):
    """`[signals.chat.discord]`: which channels to read, each owned by one provider."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="read the channels below with a Discord bot")
    channels: dict[str, str] = Field(
        default_factory=dict,
        validate_default=True,
        description='channel id -> provider name, e.g. {"1234567890123456789" = "alpha"}',
    )
    token_key: str = Field(
        default="discord",
        description="keyring name holding the bot token (`tui-trader keys set NAME`)",
    )

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        for channel, provider in v.items():
            if not channel.isdigit():
                raise PydanticCustomError(
                    "discord_channel",
                    "channel '{channel}' is not a channel id; copy the number with Discord's "
                    "Developer Mode (right-click the channel > Copy Channel ID)",
                    {"channel": channel},
                )
            if not PROVIDER_RE.match(provider):
                raise PydanticCustomError(
                    "discord_provider",
                    "provider '{provider}' for channel {channel} must be 1-40 letters, digits, "
                    "'.', '_' or '-'",
                    {"provider": provider, "channel": channel},
                )
        if info.data.get("enabled") and not v:
            raise PydanticCustomError(
                "discord_channels",
                'enabled but no channels; add channels = {"<channel id>" = "<provider>"}',
            )
        return v

    @field_validator("token_key")
    @classmethod
    def _token_key(cls, v: str) -> str:
        if not PROVIDER_RE.match(v):
            raise PydanticCustomError(
                "discord_token_key",
                "'{key}' is not a keyring name; use 1-40 letters, digits, '.', '_' or '-'",
                {"key": v},
            )
        return v


class ChatSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auto_execute: list[str] = Field(
        default_factory=list, description="providers whose signals may be sent without confirmation"
    )
    min_confidence: float = Field(
        default=0.7, ge=0, le=1, description="auto-execution needs at least this"
    )
    min_trades: int = Field(
        default=20,
        ge=0,
        description="recorded trades a provider needs before their calls auto-execute",
    )
    min_average_r: float = Field(
        default=0.0,
        description="and their average R per trade (expectancy) must be above this",
    )
    webhook_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="serve the chat webhook on 127.0.0.1:PORT (0 = any free port); unset = off",
    )
    discord: DiscordSettings = Field(default_factory=lambda: DiscordSettings())


class SignalsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = Field(
        default=None,
        description="run the signal service; unset = when feeds, a webhook or a model exist",
    )
    decision: DecisionSettings = Field(default_factory=lambda: DecisionSettings())
    news: NewsSettings = Field(default_factory=lambda: NewsSettings())
    chat: ChatSettings = Field(default_factory=lambda: ChatSettings())


def load_signals_settings(raw: dict[str, Any] | None) -> SignalsSettings:
    """Validate `settings.signals`; a bad key or value is one ConfigError line."""
    try:
        return SignalsSettings(**(raw or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        msg = (
            "unknown setting; check the spelling"
            if first["type"] == "extra_forbidden"
            else first["msg"]
        )
        raise ConfigError(
            f"signals.{key}: {msg}".rstrip(".") if key else f"signals: {msg}"
        ) from None
