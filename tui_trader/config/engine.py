"""`[engine]`: the default venue, equity snapshots, the reporting currency, strategy deadlines."""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


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
