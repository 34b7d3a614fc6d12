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
    extended_hours: bool = Field(False, description="alpaca: allow orders outside regular hours (limit only)")
    feed: str = Field("iex", description="alpaca: stock data feed, iex (free) or sip")
    crypto_symbols: list[str] = Field(default_factory=list, description="alpaca: crypto pairs, e.g. BTC/USD")
    candles: list[str] = Field(default_factory=list, description="timeframes to stream as candles, e.g. [\"1m\"]")
    stall_after_s: float = Field(30.0, gt=0, description="reconnect when subscribed and silent this long")
    backoff_base_s: float = Field(0.5, gt=0, description="first reconnect delay (doubles, with jitter)")
    backoff_cap_s: float = Field(30.0, gt=0, description="longest reconnect delay")
    order_rate_per_s: float = Field(5.0, gt=0, description="token bucket for order endpoints")
    poll_interval_s: float = Field(2.0, gt=0, description="REST polling cadence where a stream is missing")

    @property
    def is_live(self) -> bool:
        if self.kind == "ccxt":
            return not self.sandbox
        if self.kind == "alpaca":
            return not self.paper
        return False
