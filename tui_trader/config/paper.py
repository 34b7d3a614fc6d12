"""The embedded paper exchange."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PaperSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = Field(7, description="seed of the market simulator; the same seed gives the same prices")
    balances: dict[str, float] = Field(
        default_factory=lambda: {"USDT": 100_000.0, "USD": 100_000.0},
        description="starting cash per currency",
    )
    maker_fee: float = Field(0.0002, ge=0, le=0.05, description="fee rate for resting (maker) fills")
    taker_fee: float = Field(0.0005, ge=0, le=0.05, description="fee rate for aggressive (taker) fills")
    ack_latency_ms: float = Field(0.0, ge=0, le=10_000, description="simulated acknowledgement latency")
    tick_interval_ms: float = Field(250.0, gt=0, le=60_000, description="how often each symbol's price moves")
    resilience_scale: float = Field(
        1.0,
        gt=0,
        le=100,
        description="multiplies each symbol's book resilience half-life (how fast taken liquidity refills)",
    )
    allow_short: bool = Field(True, description="allow selling more than you hold (1x margin)")
    symbols: list[str] = Field(
        default_factory=lambda: ["BTC/USDT", "ETH/USDT", "SOL/USDT", "AAPL", "MSFT", "SPY", "EUR/USD", "USDT/USD"],
        description="symbols the simulator quotes",
    )
    replay_file: str | None = Field(None, description="replay this OHLCV file instead of simulating")
    replay_symbol: str | None = Field(None, description="symbol the replay file is for")
