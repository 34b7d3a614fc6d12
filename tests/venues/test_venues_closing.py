"""Closing a venue's background tasks: bounded, and quiet about errors the closing caused."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time

import pytest

from tui_trader.engine.testing import manual_engine, step
from tui_trader.venues.resilience import cancel_tasks, stop_tasks


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
    assert time.monotonic() - started < 5.0 and not task.done()  # bounded: not its 10 s sleep
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


# -- stopping an engine's own background tasks (stop_tasks) -------------------------------


def _swallows_one_cancel() -> asyncio.Task[None]:
    """A loop whose `wait_for` swallowed the cancel that landed with its answer (Python 3.11):
    it runs on once, and ends at the next cancel."""

    async def loop() -> None:
        swallowed = False
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed = True

    return asyncio.create_task(loop(), name="refresh")


async def test_a_swallowed_cancel_is_asked_again_and_the_stop_ends() -> None:
    task = _swallows_one_cancel()
    await asyncio.sleep(0)
    started = time.monotonic()
    assert await stop_tasks(task, None, timeout=0.2) is True
    assert task.cancelled() and time.monotonic() - started < 5.0  # not its 10 s sleep


async def test_a_task_that_never_stops_is_left_and_said(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()

    async def deaf() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(10)

    task = asyncio.create_task(deaf(), name="deaf-loop")
    await asyncio.sleep(0)
    started = time.monotonic()
    assert await stop_tasks(task, timeout=0.2) is False
    assert time.monotonic() - started < 5.0  # not its 10 s sleep
    assert "deaf-loop" in caplog.text and not task.done()
    release.set()
    task.cancel()
    await asyncio.wait({task}, timeout=1.0)


async def test_the_callers_own_cancel_is_not_swallowed() -> None:
    # `task.cancel(); with suppress(CancelledError): await task` swallowed a cancel aimed at
    # the caller: a stop that was itself being cancelled went on as if nothing happened.
    slow = asyncio.create_task(asyncio.sleep(10))

    async def slow_to_stop() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.shield(slow)  # cleanup that takes a while

    task = asyncio.create_task(slow_to_stop())
    await asyncio.sleep(0)
    stopper = asyncio.create_task(stop_tasks(task, timeout=5.0))
    await asyncio.sleep(0.05)
    stopper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    slow.cancel()
    task.cancel()
    await asyncio.wait({task}, timeout=1.0)


async def test_an_engine_stops_even_if_a_background_loop_swallowed_its_cancel() -> None:
    engine = manual_engine()
    await engine.start()
    await step(engine, 1)
    engine._tasks.append(_swallows_one_cancel())
    started = time.monotonic()
    await asyncio.wait_for(engine.stop(), 10)
    assert time.monotonic() - started < 5.0
