"""Quitting the workstation while its engine is still starting.

The workstation starts its in-process engine after the first paint. A quit in that second
cancelled the start and let the process end before the start had undone what it began: the
database's connection thread was left waiting, and the process never exited (seen about once
in ten quits 1-1.5 s after launch). `close` now stops the start and waits while it undoes it.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from tui_trader.engine import Engine
from tui_trader.engine.client import InProcessClient
from tui_trader.engine.testing import manual_engine
from tui_trader.home import Home


def database_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name and t.is_alive()}


async def test_a_quit_while_the_engine_starts_closes_its_database_and_frees_the_home(tmp_path: Path) -> None:
    before = database_threads()
    never = asyncio.Event()  # a venue that does not answer its connect (a slow start)

    def build() -> Engine:
        engine = manual_engine(home=Home.resolve(tmp_path))

        async def connect(emit: object) -> None:
            await never.wait()

        engine._venues_override["paper"].connect = connect  # type: ignore[index,method-assign]
        return engine

    client = InProcessClient(build)
    starting = asyncio.ensure_future(client.start())  # the workstation's start worker
    for _ in range(500):
        await asyncio.sleep(0.01)
        if client._engine is not None and client._engine.store is not None and database_threads() - before:
            break
    assert database_threads() - before, "the start never opened its database"

    starting.cancel()  # the app cancels its workers when it quits...
    await client.close()  # ...and closes its client as it unmounts

    assert client.engine.store is None and not client.engine.started
    for _ in range(100):  # the connection's thread ends once it has closed the database
        if not database_threads() - before:
            break
        await asyncio.sleep(0.01)
    assert not database_threads() - before
    again = manual_engine(home=Home.resolve(tmp_path))  # the home is free: a new start takes it
    await again.start()
    await again.stop()
