"""The open trade a strategy's hooks see: Freqtrade's field names, no venue or order objects."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class StrategyTrade:
    """One open position of one strategy on one symbol, kept JSON-able for persistence."""

    pair: str
    is_short: bool
    open_rate: float
    amount: float
    open_date_utc: datetime
    enter_tag: str | None = None
    max_rate: float = 0.0  # highest price seen since entry (trailing stop for longs)
    min_rate: float = 0.0  # lowest price seen since entry (trailing stop for shorts)
    stop_loss: float | None = None  # current stop price, ratcheted
    nr_of_successful_entries: int = 1
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def open_date(self) -> datetime:
        return self.open_date_utc

    @property
    def side(self) -> str:
        return "short" if self.is_short else "long"

    @property
    def stake_amount(self) -> float:
        return self.open_rate * self.amount

    def calc_profit_ratio(self, rate: float) -> float:
        """Profit as a fraction of the entry price, before fees."""
        if not self.open_rate:
            return 0.0
        ratio = rate / self.open_rate - 1.0
        return -ratio if self.is_short else ratio

    def observe(self, high: float, low: float) -> None:
        self.max_rate = max(self.max_rate, high)
        self.min_rate = min(self.min_rate, low) if self.min_rate else low

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["open_date_utc"] = self.open_date_utc.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StrategyTrade:
        data = dict(data)
        data["open_date_utc"] = datetime.fromisoformat(data["open_date_utc"])
        return cls(**data)
