"""Fill model: fees (taker for market orders, maker for ROI limits) and adverse slippage."""

from __future__ import annotations

import math
from dataclasses import dataclass

from tui_trader.backtest.kernel import ROI
from tui_trader.core.errors import UsageError


@dataclass(frozen=True, slots=True)
class FillModel:
    """How an order becomes a price and a fee.

    Market orders (entries, exit signals, stops, forced exits) pay the taker fee and slip
    `slippage_bps` against the trader, plus `volume_impact` x (quantity / bar volume) when
    volume-aware slippage is on. ROI exits are resting limits: maker fee, no slippage.
    """

    taker_fee: float = 0.001
    maker_fee: float = 0.001
    slippage_bps: float = 0.0
    volume_impact: float = 0.0

    def __post_init__(self) -> None:
        for name in ("taker_fee", "maker_fee"):
            value = getattr(self, name)
            if not 0.0 <= value < 0.1:
                label = name.replace("_", " ")
                raise UsageError(
                    f"{label} must be a fraction in [0, 0.1), e.g. 0.001 (got {value})"
                )
        if self.slippage_bps < 0 or self.volume_impact < 0:
            raise UsageError("slippage must not be negative; it always works against the trader")

    def slipped(
        self, price: float, buying: bool, quantity: float = 0.0, bar_volume: float = 0.0
    ) -> float:
        """Market fill price: worse than `price` by the fixed and volume-aware slippage."""
        frac = self.slippage_bps / 10_000.0
        if self.volume_impact and quantity > 0 and bar_volume > 0 and math.isfinite(bar_volume):
            frac += self.volume_impact * quantity / bar_volume
        return price * (1.0 + frac) if buying else price * (1.0 - frac)

    def exit_fee_rate(self, reason: str) -> float:
        return self.maker_fee if reason == ROI else self.taker_fee

    def exit_price(
        self, raw: float, reason: str, side: int, quantity: float, bar_volume: float
    ) -> float:
        """ROI limits fill at their price; every other exit is a market order closing `side`."""
        if reason == ROI:
            return raw
        return self.slipped(raw, buying=side < 0, quantity=quantity, bar_volume=bar_volume)
