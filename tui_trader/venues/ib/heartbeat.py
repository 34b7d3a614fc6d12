"""Is IB Gateway answering? One cheap request at a time, each with a deadline.

A Gateway can hang with its socket open: nothing is answered, nothing is closed, and an order
written to it gets no answer. The only proof that it works is an answer to something asked.
The adapter asks TWS's time (`reqCurrentTime`, answered by the Gateway itself) every
`every_s` and waits `timeout_s` for it; one unanswered past its deadline is a hung Gateway.
Quotes arriving prove nothing here: they are pushed, and a Gateway whose request handling is
stuck can still push them.

IB's limit: TWS (10.16 and later, as reported in ib_insync #479 and #604) does not answer a
`reqCurrentTime` asked within a second of the previous one, so the interval is never below
`MIN_EVERY_S`. One request is outstanding at a time: ib_async keeps one pending answer for
the current time, so a second request would take the first one's (late) answer.

Pure bookkeeping on times the caller passes in (`time.monotonic()` in the adapter): tested
with a frozen clock.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_EVERY_S = 1.0
EVERY_S = 5.0  # a hang is noticed 5-10 s after it began
TIMEOUT_S = 5.0  # TWS answers in milliseconds; 5 s covers a Java pause on a loaded machine


@dataclass
class Heartbeat:
    every_s: float = EVERY_S
    timeout_s: float = TIMEOUT_S
    sent_at: float | None = None  # the outstanding request's send time
    answered_at: float = float("-inf")  # the last answer's time

    def __post_init__(self) -> None:
        self.every_s = max(MIN_EVERY_S, self.every_s)

    def sent(self, now: float) -> None:
        self.sent_at = now

    def answered(self, now: float) -> None:
        self.sent_at = None
        self.answered_at = now

    def clear(self) -> None:
        """A new socket, or a closed one: nothing is outstanding on it."""
        self.sent_at = None

    def answered_since(self, then: float) -> bool:
        return self.answered_at >= then

    def waited(self, now: float) -> float:
        return 0.0 if self.sent_at is None else now - self.sent_at

    def silent_for(self, now: float) -> float:
        """Seconds the outstanding request has waited, once past its deadline; else 0."""
        waited = self.waited(now)
        return waited if waited > self.timeout_s else 0.0

    def describe(self, now: float) -> str:
        waited = max(self.waited(now), self.timeout_s)
        return f"IB Gateway not answering for {round(waited, 1):g} s (reqCurrentTime unanswered)"
