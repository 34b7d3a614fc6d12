"""Run a coroutine's first synchronous stretch now, and the rest (if any) as its own task.

`asyncio.create_task` starts a coroutine one turn of the loop later; on the order path that
turn was a tenth of a millisecond and more on a busy machine. `start_now` runs the coroutine
at once, in the caller's stack, up to its first real suspension, which cannot be interrupted:
nothing can cancel code that does not yield. If it finishes there (an in-process venue answers
synchronously, a write went straight to the loop's own database connection), the caller gets
a finished future; if it suspends, what is left runs as a task of its own, which the caller's
cancellation does not reach (Python 3.12's eager tasks, on 3.11).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")


def start_now(coro: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Future[T]:
    """`coro` run up to its first suspension now; a finished future, or a task for the rest."""
    loop = asyncio.get_running_loop()
    try:
        yielded = coro.send(None)
    except StopIteration as stop:
        done: asyncio.Future[T] = loop.create_future()
        done.set_result(stop.value)
        return done
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # given to the caller through the future, as a task would
        failed: asyncio.Future[T] = loop.create_future()
        failed.set_exception(exc)
        return failed
    return loop.create_task(_rest(coro, yielded), name=name)


async def _rest(coro: Coroutine[Any, Any, T], yielded: Any) -> T:
    return await _Resume(coro, yielded)


class _Resume:
    """Awaiting it hands the task what `coro` first yielded, then drives `coro` on: each value
    (a future to wait for, or None for one turn) goes up to the task, each answer or exception
    (a cancel) down to `coro`."""

    def __init__(self, coro: Coroutine[Any, Any, Any], yielded: Any) -> None:
        self.coro = coro
        self.yielded = yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, yielded = self.coro, self.yielded
        while True:
            try:
                sent = yield yielded
            except BaseException as exc:  # thrown into the task: on to `coro`
                try:
                    yielded = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                yielded = coro.send(sent)
            except StopIteration as stop:
                return stop.value
