"""Where trials run: in this process, a local process pool, or a Dask distributed cluster.

The Workload (candles, strategy source, settings) goes to each worker once: through the
pool initializer locally, and `client.scatter(..., broadcast=True)` on Dask. Tasks then
carry only a trial number and its parameters.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from tui_trader.core.errors import UserError
from tui_trader.optimize.evaluate import Evaluator, TrialTask, Workload
from tui_trader.optimize.results import Trial


class Runner:
    """Runs trial tasks and yields finished Trials as they complete (any order)."""

    workers: int = 1
    kind: str = "inline"

    def run(
        self, tasks: Sequence[TrialTask], stop: threading.Event | None = None
    ) -> Iterator[Trial]:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers (idempotent)."""

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InlineRunner(Runner):
    """jobs=1: trials run in the calling process, one after another."""

    def __init__(self, workload: Workload, strategy: Any = None) -> None:
        self.evaluator = Evaluator(workload, strategy)

    def run(
        self, tasks: Sequence[TrialTask], stop: threading.Event | None = None
    ) -> Iterator[Trial]:
        for task in tasks:
            if stop is not None and stop.is_set():
                return
            yield self.evaluator.run(task)


_EVALUATOR: Evaluator | None = None


def _init_worker(workload: Workload) -> None:
    global _EVALUATOR
    _EVALUATOR = Evaluator(workload)


def _run_local(task: TrialTask) -> Trial:
    assert _EVALUATOR is not None, "worker not initialised"
    return _EVALUATOR.run(task)


class ProcessRunner(Runner):
    """A ProcessPoolExecutor (`processes.process_pool`: forkserver on POSIX so a threaded caller,
    the TUI, is safe; its workers leave with this process)."""

    kind = "processes"

    def __init__(self, workload: Workload, jobs: int, start_method: str | None = None) -> None:
        from tui_trader.processes import process_pool

        self.workers = jobs
        self.pool = process_pool(jobs, start_method=start_method, initializer=_init_worker, initargs=(workload,))

    def run(
        self, tasks: Sequence[TrialTask], stop: threading.Event | None = None
    ) -> Iterator[Trial]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        pending = {self.pool.submit(_run_local, t) for t in tasks}
        try:
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
                if stop is not None and stop.is_set():
                    return
        except BrokenProcessPool:
            raise UserError(
                "an optimizer worker process died (out of memory?); try fewer --jobs"
            ) from None
        finally:
            for fut in pending:
                fut.cancel()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


CONNECT_TIMEOUT = "10s"
_DASK_EVALUATORS: dict[tuple[str, int], Evaluator] = {}


def _run_dask(workload: Workload, task: TrialTask) -> Trial:
    """Runs on a Dask worker; one Evaluator (strategy + cache) per workload and thread."""
    key = (workload.token, threading.get_ident())
    evaluator = _DASK_EVALUATORS.get(key)
    if evaluator is None:
        for old in [k for k in _DASK_EVALUATORS if k[0] != workload.token]:
            del _DASK_EVALUATORS[old]  # a new optimization: drop the last one's caches
        evaluator = _DASK_EVALUATORS[key] = Evaluator(workload)
    return evaluator.run(task)


def loaded_workloads() -> int:
    """Evaluators alive in this Dask worker (for tests: one per workload and thread)."""
    return len(_DASK_EVALUATORS)


class DaskRunner(Runner):
    """Trials on a Dask distributed cluster at `address` (tcp://HOST:PORT) or a given Client."""

    kind = "dask"

    def __init__(self, workload: Workload, address: str | None = None, client: Any = None) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise UserError(
                "--scheduler needs dask distributed: pip install 'tui-trader[optimize]'"
            ) from None
        self._own = client is None
        if client is None:
            try:
                client = Client(address, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as exc:
                raise UserError(
                    f"cannot reach the Dask scheduler at {address}: {exc}; is `dask scheduler` "
                    "running and the port reachable (or tunnelled)?"
                ) from None
        self.client = client
        info = client.scheduler_info()
        threads = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
        if not threads:
            raise UserError(f"the Dask scheduler at {address} has no workers; start `dask worker`")
        self.workers = threads
        self.data = client.scatter(workload, broadcast=True, hash=False)
        self.token = workload.token

    def run(
        self, tasks: Sequence[TrialTask], stop: threading.Event | None = None
    ) -> Iterator[Trial]:
        from distributed import as_completed

        futures = [self.client.submit(_run_dask, self.data, t, pure=False) for t in tasks]
        try:
            for fut in as_completed(futures):
                yield fut.result()
                if stop is not None and stop.is_set():
                    return
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        if self._own:
            self.client.close()


def make_runner(
    workload: Workload,
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    strategy: Any = None,
) -> Runner:
    """Dask when `scheduler`/`client` is given, else a pool of `jobs` (default: all cores)."""
    if scheduler or client is not None:
        return DaskRunner(workload, scheduler, client)
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1 (got {jobs})")
    if jobs == 1:
        return InlineRunner(workload, strategy)
    return ProcessRunner(workload, jobs)
