"""Risk limits. Issue: risk engine extends these; every order passes them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RiskLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_order_notional: float | None = Field(None, gt=0, description="largest single order, in quote currency")
    max_position_notional: float | None = Field(None, gt=0, description="largest position per symbol")
    max_gross_exposure: float | None = Field(None, gt=0, description="sum of |position| notionals")
    max_open_positions: int | None = Field(None, ge=1, description="how many symbols may be held at once")
    price_band_pct: float | None = Field(0.10, gt=0, le=1, description="fat-finger guard: max distance of a limit price from the mid")
    daily_loss_limit: float | None = Field(None, gt=0, description="halt new entries after losing this much today")
    max_drawdown: float | None = Field(None, gt=0, lt=1, description="halt new entries at this drawdown from peak equity")
    max_consecutive_losses: int | None = Field(None, ge=1, description="halt new entries after this many losing trades in a row")


class RiskSettings(RiskLimits):
    strategies: dict[str, RiskLimits] = Field(default_factory=dict, description="per-strategy overrides")
