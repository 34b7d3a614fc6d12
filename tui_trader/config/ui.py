"""The terminal UI."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class UISettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = Field("tui-dark", description="theme name (themes/ or HOME/themes/)")
    refresh_hz: float = Field(20.0, ge=1, le=60, description="how often panes redraw")
    chart_refresh_s: float = Field(1.0, ge=0.2, le=60, description="how often the chart redraws")
    confirm_far_price_pct: float = Field(
        0.05, gt=0, le=1, description="ask twice when a price is this far from the mid"
    )
    fee_estimate: float = Field(
        0.0005, ge=0, le=0.05, description="taker fee rate shown in order confirmations"
    )
    watchlist: list[str] = Field(
        default_factory=list, description="symbols shown (default: all the venue quotes)"
    )
    keymap: dict[str, str] = Field(
        default_factory=dict, description="binding id -> keys, e.g. buy = 'B'"
    )
    bell: bool = Field(False, description="ring the terminal bell on fills")
    layout: Literal["auto", "tabs", "grid"] = Field(
        "auto", description="auto: grid at 160x48 and larger, tabs below"
    )
    timeframe: str = Field("1m", description="chart timeframe at start: 1m, 5m, 15m, 1h, 4h, 1d")
    confirm_arm_ms: int = Field(
        400, ge=100, le=5_000, description="a confirmation must be visible this long before it can be confirmed"
    )
    quick_notional: float = Field(
        1000.0, gt=0, description="one-key orders (B/S): this much quote currency at the touch"
    )
    quick_size: dict[str, Decimal] = Field(
        default_factory=dict, description="one-key order quantity per symbol, e.g. 'BTC/USDT' = '0.01'"
    )
    flash_ms: int = Field(
        600, ge=0, le=5_000, description="how long a changed quote stays highlighted (0: off)"
    )
