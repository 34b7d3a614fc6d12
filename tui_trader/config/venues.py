"""Venue tables: `[venues.NAME]`. Paper is always there as `paper`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class VenueSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["paper", "ccxt", "alpaca"] = "paper"
    exchange: str | None = Field(None, description="ccxt exchange id, e.g. binance")
    sandbox: bool = Field(True, description="ccxt: use the exchange's testnet")
    paper: bool = Field(True, description="alpaca: use the paper account")
    symbols: list[str] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict, description="passed to the ccxt constructor")
    url_override: str = ""
    data_url_override: str = ""
    data_from: str | None = Field(None, description="paper only: feed the matching engine from this venue's stream")
    extended_hours: bool = False

    @property
    def is_live(self) -> bool:
        if self.kind == "ccxt":
            return not self.sandbox
        if self.kind == "alpaca":
            return not self.paper
        return False
