"""Is the market open? A venue may know better (Alpaca's clock endpoint, the paper exchange's
own per-order rules): its `market_open(symbol, now)` / `session_state(symbol, now)` win;
otherwise the instrument's exchange hours (core/hours.py)."""

from __future__ import annotations

from datetime import datetime

from tui_trader.core.hours import SessionState, hours_for
from tui_trader.core.instrument import Instrument


def session_state(instrument: Instrument, now: datetime, venue: object | None = None) -> SessionState:
    """A venue's own `session_state(symbol, now)` wins; otherwise the instrument's hours."""
    hook = getattr(venue, "session_state", None)
    if callable(hook):
        state = hook(instrument.symbol, now)
        if isinstance(state, SessionState):
            return state
    return hours_for(instrument).state(now)


def market_open(instrument: Instrument, now: datetime, venue: object | None = None) -> bool:
    """A venue's own `market_open(symbol, now)` wins; 24/7 instruments are always open."""
    hook = getattr(venue, "market_open", None)
    if callable(hook):
        return bool(hook(instrument.symbol, now))
    return instrument.always_open or hours_for(instrument).state(now).is_open
