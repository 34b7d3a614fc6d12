"""Risk settings: limits, breakers, sizing and protections, with per-strategy overrides.

Every order passes these limits; invalid values are refused at start with one line
(pydantic errors are formatted by `config.settings`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SizingMode = Literal[
    "fixed_quantity", "fixed_notional", "percent_equity", "risk_per_trade", "kelly", "volatility"
]
ProtectionMethod = Literal["StoplossGuard", "MaxDrawdown", "CooldownPeriod", "LowProfitPairs"]


class SizingSettings(BaseModel):
    """How big an automated entry is. One mode; the other keys are that mode's parameters."""

    model_config = ConfigDict(extra="forbid")

    mode: SizingMode = Field("percent_equity", description="which sizing rule to use")
    quantity: float | None = Field(
        None, gt=0, description="fixed_quantity: units of the base asset"
    )
    notional: float | None = Field(
        None, gt=0, description="fixed_notional: order value in quote currency"
    )
    percent: float = Field(
        0.02, gt=0, le=1, description="percent_equity: fraction of equity per trade"
    )
    risk_per_trade: float = Field(
        0.01, gt=0, le=0.2, description="risk_per_trade: fraction of equity lost at the stop"
    )
    kelly_fraction: float = Field(
        0.5, gt=0, le=1, description="kelly: fraction of the full Kelly stake"
    )
    kelly_cap: float = Field(
        0.1, gt=0, le=1, description="kelly: largest fraction of equity, whatever Kelly says"
    )
    kelly_min_trades: int = Field(
        20, ge=1, description="kelly: closed trades needed before Kelly is trusted"
    )
    target_volatility: float = Field(
        0.01, gt=0, le=1, description="volatility: equity fraction one ATR move may cost"
    )
    atr_period: int = Field(14, ge=1, le=500, description="volatility: ATR length in candles")
    atr_multiple: float = Field(
        2.0, gt=0, description="stop distance in ATRs when an order has no stop"
    )
    max_percent: float = Field(
        1.0, gt=0, le=10, description="never more than this fraction of equity per trade"
    )

    @model_validator(mode="after")
    def _needs_parameter(self) -> SizingSettings:
        if self.mode == "fixed_quantity" and self.quantity is None:
            raise ValueError("mode fixed_quantity needs `quantity`")
        if self.mode == "fixed_notional" and self.notional is None:
            raise ValueError("mode fixed_notional needs `notional`")
        return self


class ProtectionSettings(BaseModel):
    """One Freqtrade-style protection. Durations in minutes, or in candles with *_candles."""

    model_config = ConfigDict(extra="forbid")

    method: ProtectionMethod
    lookback_period: float | None = Field(
        None, gt=0, description="minutes of closed trades considered"
    )
    lookback_period_candles: int | None = Field(None, ge=1)
    stop_duration: float | None = Field(None, gt=0, description="minutes a lock lasts")
    stop_duration_candles: int | None = Field(None, ge=1)
    trade_limit: int = Field(
        1, ge=1, description="trades needed in the lookback before it can lock"
    )
    only_per_pair: bool = Field(
        False, description="StoplossGuard: lock only the pair that hit its stops"
    )
    only_per_side: bool = Field(
        False, description="StoplossGuard: count only trades on the same side"
    )
    max_allowed_drawdown: float = Field(0.2, gt=0, le=1, description="MaxDrawdown: fraction")
    required_profit: float = Field(0.0, description="LowProfitPairs: minimum average profit ratio")


class RiskLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_order_notional: float | None = Field(
        None, gt=0, description="largest single order, in quote currency"
    )
    max_position_notional: float | None = Field(
        None, gt=0, description="largest position per symbol"
    )
    max_gross_exposure: float | None = Field(None, gt=0, description="sum of |position| notionals")
    max_open_positions: int | None = Field(
        None, ge=1, description="how many symbols may be held at once"
    )
    max_open_orders: int | None = Field(
        None, ge=1, description="how many orders may be working at once (every kind, legs included)"
    )
    max_open_orders_per_symbol: int | None = Field(
        None, ge=1, description="how many orders may be working at once on one symbol"
    )
    price_band_pct: float | None = Field(
        0.10, gt=0, le=1, description="fat-finger guard: max distance of a limit price from the mid"
    )
    daily_loss_limit: float | None = Field(
        None, gt=0, description="halt new entries after losing this much today"
    )
    max_drawdown: float | None = Field(
        None, gt=0, lt=1, description="halt new entries at this drawdown from peak equity"
    )
    max_consecutive_losses: int | None = Field(
        None, ge=1, description="halt new entries after this many losing trades in a row"
    )
    max_leverage: float | None = Field(
        None, ge=1, le=1000, description="highest leverage an order on margin may use (perpetuals, FX)"
    )
    sizing: SizingSettings | None = Field(
        None, description="per-strategy sizing (else [risk.sizing])"
    )
    protections: list[ProtectionSettings] | None = Field(
        None, description="per-strategy protections (else [risk])"
    )


class RiskSettings(RiskLimits):
    sizing: SizingSettings = Field(
        default_factory=SizingSettings, description="default sizing for automated entries"
    )
    protections: list[ProtectionSettings] = Field(
        default_factory=list, description="global protections"
    )
    flatten_on_breaker: bool = Field(
        False, description="close everything when a circuit breaker trips"
    )
    check_balance: bool = Field(
        True, description="refuse orders the cash balance (spot) or the free margin (on margin) cannot pay for"
    )
    liquidation_buffer: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="the engine closes a position on margin when the mark price is within this fraction "
        "of the entry-to-liquidation distance from its liquidation price (Freqtrade's liquidation_buffer)",
    )
    liquidation_action: Literal["close", "reduce"] = Field(
        "close",
        description="what the engine does at the liquidation buffer: close the position, or halve it "
        "(cross margin; an isolated position's liquidation price does not move when it shrinks, so it is closed)",
    )
    min_liquidation_distance: float | None = Field(
        0.02,
        gt=0,
        lt=1,
        description="refuse an order on margin whose position would have its liquidation price closer than "
        "this fraction of the mark price",
    )
    fee_estimate: float = Field(
        0.001, ge=0, le=0.05, description="fee rate assumed by the balance check"
    )
    metrics_interval_s: float = Field(
        5.0, gt=0, le=3600, description="how often risk metrics are recomputed"
    )
    var_lookback_days: int = Field(
        250, ge=20, le=5000, description="daily returns used for VaR and correlations"
    )
    benchmark: str | None = Field(
        None, description="symbol for beta (default: SPY or BTC/USDT when quoted)"
    )
    strategies: dict[str, RiskLimits] = Field(
        default_factory=dict, description="per-strategy overrides"
    )
