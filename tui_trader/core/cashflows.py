"""Money that moves without a trade: funding on perpetuals, swap (rollover) on FX positions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

FUNDING = "funding"
SWAP = "swap"


@dataclass(frozen=True, slots=True)
class CashFlow:
    """A payment on a position: `amount` > 0 received, < 0 paid, in `currency` (the position's
    settle currency). `flow_id` is unique per venue: a flow seen twice counts once."""

    flow_id: str
    venue: str
    symbol: str
    kind: str  # FUNDING | SWAP
    amount: Decimal
    currency: str
    ts: datetime
    rate: Decimal | None = None  # the funding rate, or the swap's daily rate
    quantity: Decimal | None = None  # the position it was paid on
    price: Decimal | None = None  # the mark (funding) or mid (swap) it was computed at
