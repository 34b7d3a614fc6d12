"""EngineClient: the one interface the UI (and the daemon's remote clients) use.

In-process it wraps an Engine; attached, the daemon package provides a client with the same
methods that speaks to the daemon over its socket. No widget ever touches a venue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # types only: the workstation imports this before its first paint
    from tui_trader.core.events import Event
    from tui_trader.core.market import Candle
    from tui_trader.core.orders import Order, OrderRequest
    from tui_trader.engine import Engine, EngineSnapshot
    from tui_trader.engine.bus import Subscription


@runtime_checkable
class EventStream(Protocol):
    def drain(self) -> list[Event]: ...

    async def wait(self) -> list[Event]: ...

    def close(self) -> None: ...


@runtime_checkable
class EngineClient(Protocol):
    """Commands in, events and snapshots out."""

    attached: bool  # True when talking to a daemon

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def snapshot(self) -> EngineSnapshot: ...

    def subscribe(self, name: str, kinds: Iterable[str] | None = None) -> EventStream: ...

    async def place(self, request: OrderRequest) -> Order: ...

    async def cancel(self, client_order_id: str) -> Order: ...

    async def cancel_all(self, symbol: str | None = None) -> list[Order]: ...

    async def flatten(self) -> dict[str, Any]: ...

    async def candles(self, symbol: str, timeframe: str, limit: int = 300) -> list[Candle]: ...

    async def call(self, command: str, **params: Any) -> Any:
        """Extension point for later features (strategies, signals, backtests...)."""


class InProcessClient:
    """The engine runs inside this process (the default `tui-trader`).

    Given a function instead of an engine, the client builds the engine when it is started:
    `tui-trader` draws its first screen while the engine's modules load (~0.2 s)."""

    attached = False

    def __init__(self, engine: Engine | Callable[[], Engine], actor: str = "tui") -> None:
        self._engine: Engine | None = None
        self._build: Callable[[], Engine] | None = None
        if callable(engine):
            self._build = engine
        else:
            self._engine = engine
        self.builds_engine = self._build is not None  # the workstation starts it after its first paint
        self.actor = actor
        self._owns = self._engine is None or not self._engine.started
        self._starting: asyncio.Task[None] | None = None
        self.commands: dict[str, Any] = {}

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("the engine is not started yet")
        return self._engine

    async def start(self) -> None:
        if self._engine is None and self._build is not None:
            self._engine = self._build()
        if not self.engine.started:
            # A task of its own that the caller's cancellation does not reach: a quit while the
            # engine starts is `close`'s to handle, which stops the start and waits while it
            # undoes what it began (the database's thread left open kept the process from exiting).
            self._starting = asyncio.ensure_future(self.engine.start())
            await asyncio.shield(self._starting)

    async def close(self) -> None:
        starting, self._starting = self._starting, None
        if starting is not None and not starting.done():
            starting.cancel()
            with contextlib.suppress(BaseException):
                await starting
        if self._owns and self._engine is not None and self._engine.started:
            await self._engine.stop()

    async def snapshot(self) -> EngineSnapshot:
        return self.engine.snapshot()

    def subscribe(self, name: str, kinds: Iterable[str] | None = None) -> Subscription:
        return self.engine.bus.subscribe(name, kinds)

    async def place(self, request: OrderRequest) -> Order:
        return await self.engine.place(request, self.actor)

    async def cancel(self, client_order_id: str) -> Order:
        return await self.engine.cancel(client_order_id, self.actor)

    async def cancel_all(self, symbol: str | None = None) -> list[Order]:
        return await self.engine.cancel_all(self.actor, symbol)

    async def flatten(self) -> dict[str, Any]:
        return await self.engine.flatten(self.actor)

    async def candles(self, symbol: str, timeframe: str, limit: int = 300) -> list[Candle]:
        return await self.engine.fetch_candles(symbol, timeframe, limit)

    async def call(self, command: str, **params: Any) -> Any:
        from tui_trader.engine.commands import dispatch

        return await dispatch(self.engine, command, params, self.actor)
