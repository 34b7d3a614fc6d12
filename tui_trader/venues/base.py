"""The `Venue` protocol every exchange or broker adapter implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from tui_trader.core.enums import ConnectionState
from tui_trader.core.events import Event
from tui_trader.core.fills import Fill
from tui_trader.core.instrument import Instrument
from tui_trader.core.market import Candle
from tui_trader.core.orders import Order
from tui_trader.core.positions import Balance
from tui_trader.secrets.credentials import Credentials

Emit = Callable[[Event], None]


class VenueError(Exception):
    """A venue refused or failed a request (network, auth, rate limit...)."""


class OutcomeUnknown(VenueError):
    """An order was sent and the answer was lost or ambiguous (timeout, 5xx, a lookup that
    failed): it may or may not exist at the venue. The OMS marks it `unknown` and settles it by
    asking the venue; it is never sent again."""


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """One stream of a venue as `status --json`, the status bar and the metrics show it."""

    name: str  # "ticker:BTC/USDT", "orders", "trade_updates" ...
    state: str  # live / waiting / quiet / silent / down / stopped (venues.streams)
    private: bool = False
    last_message_age: float | None = None  # seconds
    detail: str = ""
    restarts: int = 0  # resubscribes (each reconnect attempt)
    reconnects: int = 0  # times its live data flowed again after it was down (venues.streams)


@dataclass(frozen=True, slots=True)
class VenueCapabilities:
    """What the venue does natively; the engine emulates the rest and says so on the order."""

    stop: bool = True
    stop_limit: bool = True
    trailing_stop: bool = False
    oco: bool = False
    bracket: bool = False
    post_only: bool = True
    reduce_only: bool = False
    amend: bool = False
    ioc_fok: bool = True
    shorting: bool = False


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """An order as the venue reports it (reconciliation)."""

    client_order_id: str
    venue_order_id: str | None
    symbol: str
    side: str
    type: str
    quantity: str
    filled_quantity: str
    price: str | None
    status: str
    ts: datetime


@runtime_checkable
class Venue(Protocol):
    name: str
    kind: str  # "paper", "ccxt", "alpaca"
    is_live: bool  # real money
    capabilities: VenueCapabilities

    @property
    def state(self) -> ConnectionState: ...

    async def connect(self, emit: Emit) -> None:
        """Open connections. Market data, connection changes and ExecutionReports go to `emit`."""

    async def close(self) -> None: ...

    async def load_markets(self) -> dict[str, Instrument]: ...

    async def subscribe(self, symbols: Sequence[str]) -> None:
        """Stream ticker, order book and trades for these symbols."""

    async def fetch_candles(
        self, symbol: str, timeframe: str, since: datetime | None = None, limit: int = 500
    ) -> list[Candle]: ...

    async def fetch_balances(self) -> dict[str, Balance]: ...

    async def create_order(self, order: Order) -> None:
        """Submit. The outcome (accepted / rejected / fills) arrives as ExecutionReports.

        Raising means the outcome is unknown: the OMS reconciles by client order id.
        """

    async def cancel_order(self, order: Order) -> None: ...

    async def amend_order(
        self, order: Order, quantity: Decimal | None = None, price: Decimal | None = None
    ) -> None:
        """Change a working order in place; called only where `capabilities.amend` is true
        (elsewhere the engine cancels and replaces). Raises VenueError if the venue refuses."""

    async def fetch_open_orders(self) -> list[VenueOrder]: ...

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrder | None: ...

    async def fetch_fills(self, since: datetime | None = None) -> list[Fill]: ...


@runtime_checkable
class KeyedVenue(Protocol):
    """A venue that can be reconnected with its keys read again while the engine runs
    (`tui-trader venue reconnect NAME`). `takes_keys` False: the venue's login is not ours
    (IB's: TWS / IB Gateway), it is reconnected without reading any."""

    takes_keys: bool

    async def reconnect_with(self, credentials: Credentials | None) -> None:
        """Reconnect the whole venue with `credentials`, every stream subscribed again (those
        stopped for refused keys too). Raises VenueError, nothing changed, if the venue cannot
        be reached with them; a refusal of the keys shows as the private streams stopped again."""
