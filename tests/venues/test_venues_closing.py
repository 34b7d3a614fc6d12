"""Closing a venue's background tasks: bounded, and quiet about errors the closing caused."""

from __future__ import annotations

import asyncio
import gc
import time

from tui_trader.venues.resilience import cancel_tasks


async def test_a_loop_that_swallows_the_cancel_cannot_hold_the_close() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:  # a client library's receive loop that catches CancelledError
        while not release.is_set():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    started = time.monotonic()
    pending = await cancel_tasks({"stream": task}, timeout=0.2)
    assert time.monotonic() - started < 1.0 and not task.done()
    release.set()  # what closing the socket does to such a loop
    task.cancel()
    await asyncio.wait(pending, timeout=1.0)
    assert task.done()


async def test_an_error_raised_while_closing_is_retrieved_not_reported_as_lost() -> None:
    reported: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: reported.append(ctx))

    async def dies_on_cancel() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise ConnectionResetError("socket torn down") from None

    tasks = {"a": asyncio.create_task(dies_on_cancel())}
    await asyncio.sleep(0)
    await cancel_tasks(tasks, timeout=1.0)
    assert tasks["a"].done() and not tasks["a"].cancelled()  # ended with the error (not read here)
    del tasks
    gc.collect()
    await asyncio.sleep(0)
    assert not [c for c in reported if "never retrieved" in str(c.get("message"))]
