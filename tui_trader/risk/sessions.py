"""Is the market open? Venues may say so themselves; otherwise US regular hours for stocks."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from tui_trader.core.instrument import Instrument

_NEW_YORK = ZoneInfo("America/New_York")
_OPEN, _CLOSE = time(9, 30), time(16, 0)


def us_equity_open(now: datetime) -> bool:
    """Regular session, Monday to Friday 09:30-16:00 New York time (exchange holidays not known)."""
    local = now.astimezone(_NEW_YORK)
    return local.weekday() < 5 and _OPEN <= local.time() < _CLOSE


def market_open(instrument: Instrument, now: datetime, venue: object | None = None) -> bool:
    """A venue's own `market_open(symbol, now)` wins; 24/7 instruments are always open."""
    hook = getattr(venue, "market_open", None)
    if callable(hook):
        return bool(hook(instrument.symbol, now))
    return instrument.always_open or us_equity_open(now)
