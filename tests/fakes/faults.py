"""Fault switches shared by the fake exchanges: what can go wrong, turned on by tests."""

from __future__ import annotations


class FaultSwitches:
    """Mixed into a fake exchange; its handlers read the `_...` switches."""

    def _init_faults(self) -> None:
        self.faults_injected: list[str] = []
        self._http_faults: list[int] = []
        self._reject_next = 0
        self._ack_delay_s = 0.0
        self._ack_delay_count = 0
        self._duplicate_fills = False
        self._reorder_fills = False
        self._stalled = False
        self._malformed = 0

    def stall(self, on: bool = True) -> None:
        """Keep sockets open but send nothing (the silent failure)."""
        if on:
            self.faults_injected.append("stall")
        self._stalled = on

    def send_malformed(self, count: int = 1) -> None:
        self.faults_injected.append("malformed")
        self._malformed += count

    def fail_next(self, count: int = 1, status: int = 429) -> None:
        self.faults_injected.append(f"http{status}")
        self._http_faults.extend([status] * count)

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
