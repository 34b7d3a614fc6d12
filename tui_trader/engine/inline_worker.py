"""A rule strategy evaluated in the engine's own process, behind a worker's link.

A TOML rule strategy is data, not code: it names indicators and compares them. Loading it runs
nothing of a plugin's, and evaluating it cannot hang, crash the interpreter or reach for the
engine, so it needs none of a worker process's protection. Evaluated where the candle is read,
its bar makes no trip to another process and back: the two wake-ups of another process (and
often of an idle core) that were most of the tail of candle close -> order acknowledged.

Everything else is the worker's. `InlineLink` stands where the socket to a worker process
stands: the engine's requests go to strategy/worker.py's `Worker` (not sandboxed), called
directly on the event loop's next turn, and its answers are read by the engine's own end of
the link (`WorkerLink`), so supervision (strategy_worker.py), state, trades and hooks are the
same code either way, and a bar's decisions reach the strategy host after every listener of
the candle has seen it, as before. A bar, its decisions and its answer go as the messages they
are, without the wire's bytes (plain values: what the wire would give back); every other
request and answer goes as a frame, as on the wire. Only rules the live evaluation on
arrays takes run here (TA-Lib indicators: `rule_live.unsupported`), and TA-Lib is imported
without pandas when nothing has imported pandas yet (indicators/talib_lean.py): the engine
does not grow by pandas' ~80 MB for them (the warm-up checks the live evaluation against the
one on arrays, `StrategyRunner.check_on_arrays`).

What a worker process would still give a rule strategy (a deadline that interrupts it) is
replaced by a watch on its evaluation time: a rule strategy whose bars take long
(`SLOW_EVAL_US`, `SLOW_STRIKES` in a row) is moved to a worker process of its own
(StrategyWorker). `isolation = "process"` in its [strategies] table always gives it one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui_trader.engine.worker_link import WorkerLink
from tui_trader.strategy import wire

SLOW_EVAL_US = 5_000  # a bar's evaluation taking this much CPU time in the engine's event loop ...
SLOW_STRIKES = 3  # ... this many times in a row: the strategy moves to a worker process


def inline_rule_file(strategy: str, dirs: list[Path]) -> Path | None:
    """The TOML rule file the loader would load for `strategy` (a name or a path) when the
    live evaluation on arrays takes it (`rule_live.unsupported`: TA-Lib indicators only);
    None otherwise: a Python strategy, or rules that need pandas, run in a worker process."""
    from tui_trader.indicators.talib_lean import import_talib
    from tui_trader.strategy.loader import first_file, load_strategy
    from tui_trader.strategy.rule_live import unsupported

    path = first_file(strategy, dirs)
    if path is None or path.suffix != ".toml":
        return None
    import_talib()  # the rules name TA-Lib functions: without pandas, if nothing imported it
    try:
        loaded = load_strategy(str(path), [])
    except Exception:  # a broken file: its init in the engine says what is wrong, as a worker's would
        return path
    return path if unsupported(loaded) is None else None


class InlineLink:
    """The engine's link to a `Worker` in its own process (see the module docstring): a
    request is carried out on the loop's next turn, one a turn, as a worker process would
    take it up; its answers are read as the worker writes them (a bar's decisions before
    the worker serialises its state)."""

    def __init__(
        self,
        on_frame: Callable[[dict[str, Any]], None],
        on_broken: Callable[[str], None],
        on_lost: Callable[[], None],
    ) -> None:
        from tui_trader.strategy.worker import Worker

        self._loop = asyncio.get_running_loop()
        self._reader = WorkerLink(on_frame, on_broken, on_lost)  # reads the answers, as from a socket
        self._worker = Worker(self, sandboxed=False)
        self._requests: deque[bytes | dict[str, Any]] = deque()
        self._scheduled = False
        self._open = True

    def send(self, frame: bytes | dict[str, Any]) -> bool:
        """Take a request (a frame as a worker process would read it, or the message it
        holds); False once closed or stopped."""
        if not self._open:
            return False
        self._requests.append(frame)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._carry_out)
        return True

    def _carry_out(self) -> None:
        self._scheduled = False
        if not self._open or not self._requests:
            return
        frame = self._requests.popleft()
        if self._requests:  # the engine sends one at a time; any other goes next turn
            self._scheduled = True
            self._loop.call_soon(self._carry_out)
        message = frame if isinstance(frame, dict) else wire.decode(frame[wire.HEADER.size :])
        if not self._worker.handle(message):
            self._open = False  # stop: answered, nothing more is taken

    def sendall(self, data: bytes, /) -> None:
        """The worker's answers, read by the engine's end as they are written."""
        if not self._reader.closed.done():
            self._reader.data_received(data)

    def deliver(self, message: dict[str, Any]) -> None:
        """An answer of plain values, read by the engine's end as it is given."""
        if not self._reader.closed.done():
            self._reader.deliver(message)

    async def close(self, timeout: float = 3.0) -> None:
        """Nothing more is carried out or read."""
        self._open = False
        self._requests.clear()
        if not self._reader.closed.done():
            self._reader.connection_lost(None)
