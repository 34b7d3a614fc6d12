"""Fault switches shared by the fake exchanges: what can go wrong, turned on by tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HttpFault:
    """The next request matching `method` / `path` (None: any) gets `status`."""

    status: int
    method: str | None = None
    path: str | None = None  # a suffix of the request path, e.g. "/order"
    retry_after: float | None = None  # seconds, sent as a Retry-After header with 429 / 418
    delay: float = 0.0  # status 0: answer normally, but this many seconds late (a timeout)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or path.endswith(self.path))


class FaultSwitches:
    """Mixed into a fake exchange; its handlers read the `_...` switches."""

    def _init_faults(self) -> None:
        self.faults_injected: list[str] = []
        self._http_faults: list[HttpFault] = []
        self._reject_next = 0
        self._ack_delay_s = 0.0
        self._ack_delay_count = 0
        self._duplicate_fills = False
        self._reorder_fills = False
        self._stalled = False
        self._private_stalled = False  # only the private (orders / fills) stream is silent
        self._muted: set[str] = set()  # public streams (the exchange's names) that send nothing
        self._malformed = 0
        self._duplicate_answer = 0  # make the next order, then answer "duplicate client id"
        self.clock_skew_ms = 0  # the exchange's clock minus the true time (signed requests check it)

    def stall(self, on: bool = True) -> None:
        """Keep sockets open but send nothing (the silent failure)."""
        if on:
            self.faults_injected.append("stall")
        self._stalled = on

    def stall_private(self, on: bool = True) -> None:
        """Only the private stream goes silent (user data / trade_updates); market data flows."""
        if on:
            self.faults_injected.append("private_stall")
        self._private_stalled = on

    def mute_stream(self, name: str, on: bool = True) -> None:
        """One public stream (the exchange's own name, e.g. "btcusdt@ticker") sends nothing
        while the others flow, as one feed of a thin or halted market does."""
        if on:
            self.faults_injected.append("muted_stream")
            self._muted.add(name)
        else:
            self._muted.discard(name)

    def skew_clock(self, ms: int) -> None:
        """The exchange's clock runs `ms` ahead of ours (negative: behind)."""
        self.faults_injected.append("clock_skew")
        self.clock_skew_ms = ms

    def send_malformed(self, count: int = 1) -> None:
        self.faults_injected.append("malformed")
        self._malformed += count

    def fail_next(
        self,
        count: int = 1,
        status: int = 429,
        *,
        method: str | None = None,
        path: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """The next `count` requests (matching `method` and `path`, when given) get `status`."""
        self.faults_injected.append(f"http{status}")
        self._http_faults.extend([HttpFault(status, method, path, retry_after)] * count)

    def hang_next(self, seconds: float, *, method: str | None = None, path: str | None = None) -> None:
        """The next matching request is answered `seconds` late (the client has timed out)."""
        self.faults_injected.append("hang")
        self._http_faults.append(HttpFault(0, method, path, delay=seconds))

    def answer_duplicate_next(self, count: int = 1) -> None:
        """The next order is made, but the answer says its client id is a duplicate (as when a
        request reaches the exchange twice, e.g. retried by a proxy)."""
        self.faults_injected.append("duplicate_answer")
        self._duplicate_answer += count

    def take_duplicate_answer(self) -> bool:
        if not self._duplicate_answer:
            return False
        self._duplicate_answer -= 1
        return True

    def reject_next(self, count: int = 1) -> None:
        self.faults_injected.append("reject")
        self._reject_next += count

    def delay_next_ack(self, seconds: float, count: int = 1) -> None:
        """The next order is created at once, but its HTTP answer comes late (the client times out)."""
        self.faults_injected.append("delayed_ack")
        self._ack_delay_s = seconds
        self._ack_delay_count = count

    def duplicate_fills(self, on: bool = True) -> None:
        if on:
            self.faults_injected.append("duplicate_fills")
        self._duplicate_fills = on

    def reorder_fills(self, on: bool = True) -> None:
        if on:
            self.faults_injected.append("reorder_fills")
        self._reorder_fills = on
