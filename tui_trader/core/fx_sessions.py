"""The forex sessions (Sydney, Tokyo, London, New York), their overlaps, the FX day's end and
how wide a pair's spread is at a given time.

Each session is a local business day window in its own city's time zone, so daylight saving
moves it as it moves the city (Sydney's summer is New York's winter): Sydney 07:00-16:00,
Tokyo 09:00-18:00, London 08:00-17:00, New York 08:00-17:00, Monday to Friday, and only while
the FX market is open (Sunday 17:00 to Friday 17:00 New York). The FX day ends at 17:00 New
York: positions held through it pay or earn the rollover (swap), three days' worth on
Wednesdays (the weekend's settlement).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from tui_trader.core.hours import FOREX, NEW_YORK, Phase

# name -> (label, time zone, local open hour, local close hour, the currencies at home there)
SESSIONS: dict[str, tuple[str, str, int, int, frozenset[str]]] = {
    "sydney": ("Sydney", "Australia/Sydney", 7, 16, frozenset({"AUD", "NZD"})),
    "tokyo": ("Tokyo", "Asia/Tokyo", 9, 18, frozenset({"JPY"})),
    "london": ("London", "Europe/London", 8, 17, frozenset({"GBP", "EUR", "CHF", "XAU", "XAG"})),
    "new_york": ("New York", "America/New_York", 8, 17, frozenset({"USD", "CAD", "XAU", "XAG"})),
}
ROLLOVER = time(17, 0)  # New York: the FX day's end
_ZONES = {name: ZoneInfo(spec[1]) for name, spec in SESSIONS.items()}
_ROLLOVER_WINDOW = (timedelta(minutes=-5), timedelta(minutes=10))  # spreads blow out around it


def in_session(name: str, now: datetime) -> bool:
    """`name`'s business hours, Monday to Friday in its city, while the FX market is open."""
    _, _, start, end, _ = SESSIONS[name]
    local = now.astimezone(_ZONES[name])
    if local.weekday() >= 5 or not start <= local.hour < end:
        return False
    return FOREX.state(now).phase is Phase.OPEN


def active(now: datetime) -> tuple[str, ...]:
    """The sessions open at `now`, in the order the day meets them."""
    return tuple(name for name in SESSIONS if in_session(name, now))


def describe(now: datetime) -> str:
    """"London + New York", "Tokyo", "between sessions" or "FX closed, opens ..."."""
    state = FOREX.state(now)
    if state.phase is not Phase.OPEN:
        return state.describe(now)
    names = [SESSIONS[n][0] for n in active(now)]
    if not names:
        return "FX between sessions"
    return " + ".join(names) + (" overlap" if len(names) > 1 else " session")


def rollover_at(now: datetime) -> datetime:
    """The next FX day's end (17:00 New York) at or after `now`, aware UTC."""
    local = now.astimezone(NEW_YORK)
    at = datetime.combine(local.date(), ROLLOVER, NEW_YORK)
    if at < local:
        at = datetime.combine(local.date() + timedelta(days=1), ROLLOVER, NEW_YORK)
    return at.astimezone(now.tzinfo or NEW_YORK)


def rollover_days(at: datetime) -> int:
    """Days of swap a position held through the rollover at `at` pays: three on Wednesday (for
    spot settlement over the weekend), none on Friday-to-Sunday, one otherwise."""
    weekday = at.astimezone(NEW_YORK).weekday()
    return 3 if weekday == 2 else 0 if weekday >= 5 else 1


def near_rollover(now: datetime) -> bool:
    local = now.astimezone(NEW_YORK)
    at = datetime.combine(local.date(), ROLLOVER, NEW_YORK)
    return local.weekday() < 5 and at + _ROLLOVER_WINDOW[0] <= local < at + _ROLLOVER_WINDOW[1]


def spread_multiplier(symbol: str, now: datetime) -> float:
    """How much wider than its best a pair quotes at `now`: 1 in the London / New York overlap
    or in a session at home for one of its currencies, 1.6 in another session, 2.5 between
    sessions, 5 around the FX day's end (the market's own closed hours widen it further)."""
    if near_rollover(now):
        return 5.0
    sessions = active(now)
    if not sessions:
        return 2.5
    if "london" in sessions and "new_york" in sessions:
        return 1.0
    currencies = set(symbol.replace("_", "/").split(":")[0].split("/"))
    best = 1.0 if any(currencies & SESSIONS[name][4] for name in sessions) else 1.6
    if len(sessions) > 1:
        best = min(best, 1.2)
    return best
