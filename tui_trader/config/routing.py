"""`[routing]`: best-price routing of `--venue auto` orders, failover, and the spread scanner."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ScannerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="scan cross-venue and triangular spreads while the engine runs")
    interval_s: float = Field(1.0, ge=0.1, le=3600, description="how often spreads are recomputed")
    alert_bps: float | None = Field(
        10.0, description="notify when a spread's net edge reaches this many basis points (unset: never)"
    )
    alert_cooldown_s: float = Field(300.0, ge=0, le=86_400, description="at most one alert per spread this often")
    transfer_cost_bps: float = Field(
        0.0, ge=0, le=10_000, description="placeholder cost of moving the asset between venues, in bp of the price"
    )
    transfer_costs_bps: dict[str, float] = Field(
        default_factory=dict, description="per base asset, e.g. { BTC = 3.0 }: replaces transfer_cost_bps for it"
    )


class RoutingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    split: bool = Field(True, description="let one order be split across venues when that fills it cheaper")
    max_children: int = Field(5, ge=1, le=20, description="most venues one routed order is split across")
    min_child_notional: float = Field(
        10.0, ge=0, description="no child smaller than this (in the quote currency) when splitting"
    )
    failover: Literal["off", "same_quote", "any"] = Field(
        "same_quote",
        description="where the rest of a child a venue refused or dropped goes: nowhere, the same symbol "
        "elsewhere, or also the same base in another quote currency (market orders)",
    )
    stale_after_s: float = Field(5.0, gt=0, le=3600, description="a venue whose quote is older is not routed to")
    child_timeout_s: float = Field(
        15.0, gt=0, le=3600, description="a market child not done after this is cancelled so the rest can go elsewhere"
    )
    resume_within_s: float = Field(
        300.0, ge=0, le=86_400, description="after a restart, finish a routed order this young; an older one stops"
    )
    balance_max_age_s: float = Field(2.0, ge=0, le=3600, description="refresh a venue's balances when older")
    scanner: ScannerSettings = Field(default_factory=ScannerSettings)
