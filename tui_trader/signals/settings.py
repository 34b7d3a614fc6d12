"""The `[signals]` section of config.toml, validated here (the root Settings keeps it free-form)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tui_trader.core.errors import ConfigError

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


class ChatSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auto_execute: list[str] = Field(
        default_factory=list, description="providers whose signals may be sent without confirmation"
    )
    min_confidence: float = Field(
        default=0.7, ge=0, le=1, description="auto-execution needs at least this"
    )
    webhook_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="serve the chat webhook on 127.0.0.1:PORT (0 = any free port); unset = off",
    )


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
