"""Logins: a user name and a password (or token) checked against the argon2 hash of its
`[serve.users.NAME]` table. The web workstation and the daemon's TCP control port (a copy-trading
follower's viewer login) both check them here.

Unknown users cost the same argon2 work as known ones, so timing does not tell which names
exist. Failures are rate-limited per client address, and at most two hashes are checked at
once, so a flood of guesses cannot take the machine's cores from the engine.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tui_trader.config.serve import ServeUser

HASHER = PasswordHasher()
FAILURES_ALLOWED = 5  # per client address ...
FAILURE_WINDOW_S = 300.0  # ... in this many seconds
MAX_TRACKED = 4096  # addresses remembered before the stale ones are dropped


@functools.cache
def _dummy_hash() -> str:
    """What an unknown name is checked against (the same argon2 work as a known one), made at
    the first login, not at import: 0.2 s of CPU every daemon start paid for a web login."""
    return HASHER.hash("not a password anyone has")


def hash_secret(secret: str) -> str:
    return HASHER.hash(secret)


@dataclass(frozen=True)
class WebUser:
    name: str
    role: str


class Logins:
    def __init__(self, users: dict[str, ServeUser]) -> None:
        self.users = users
        self.failures: dict[str, deque[float]] = {}
        self._hashing = asyncio.Semaphore(2)

    def retry_after(self, address: str) -> float:
        """Seconds this address must wait before it may try again (0 = may try now)."""
        now = time.monotonic()
        recent = self.failures.get(address)
        if not recent:
            return 0.0
        while recent and now - recent[0] > FAILURE_WINDOW_S:
            recent.popleft()
        if len(recent) < FAILURES_ALLOWED:
            return 0.0
        return round(FAILURE_WINDOW_S - (now - recent[0]), 1)

    async def check(self, address: str, name: str, secret: str) -> WebUser | None:
        user = self.users.get(name)
        stored = user.password_hash if user is not None else None
        async with self._hashing:
            ok = await asyncio.to_thread(_verify, stored or _dummy_hash(), secret)
        if ok and user is not None and stored is not None:
            self.failures.pop(address, None)
            return WebUser(name, user.role)
        now = time.monotonic()
        if len(self.failures) > MAX_TRACKED:  # many addresses: forget the ones past their window
            for stale in [a for a, times in self.failures.items() if not times or now - times[-1] > FAILURE_WINDOW_S]:
                del self.failures[stale]
        self.failures.setdefault(address, deque()).append(now)
        return None


def _verify(stored: str, secret: str) -> bool:
    try:
        return HASHER.verify(stored, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
