"""The terminal UI."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class UISettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = Field("tui-dark", description="theme name (themes/ or HOME/themes/)")
    refresh_hz: float = Field(15.0, ge=1, le=60, description="how often panes redraw")
    confirm_far_price_pct: float = Field(0.05, gt=0, le=1, description="ask twice when a price is this far from the mid")
    watchlist: list[str] = Field(default_factory=list, description="symbols shown (default: all the venue quotes)")
    keymap: dict[str, str] = Field(default_factory=dict, description="binding id -> keys, e.g. buy = 'B'")
    bell: bool = Field(False, description="ring the terminal bell on fills")
