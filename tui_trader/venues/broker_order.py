"""An order as a broker shows it, in our words, with its executions: what the polled brokers'
adapters (`venues.polled`) turn their JSON or protobuf into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tui_trader.core.enums import Side


@dataclass(frozen=True, slots=True)
class Execution:
    fill_id: str  # stable across reads of the order
    quantity: Decimal
    price: Decimal
    ts: datetime
    fee: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """One order as the broker shows it, in our words."""

    venue_order_id: str
    broker_client_id: str  # the client order id the broker holds ("" when none)
    symbol: str  # ours
    side: Side
    type: str  # our order type word
    quantity: Decimal
    filled: Decimal
    price: Decimal | None
    status: str  # open / filled / canceled / rejected / expired
    created: datetime
    executions: tuple[Execution, ...] = ()
    reason: str = ""
    average: Decimal | None = None  # brokers without executions: the average fill price
    last_fill: datetime | None = None  # and when the last fill was
