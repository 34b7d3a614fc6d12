"""What the paper exchange adds for contracts on margin: a perpetual's premium over its index,
its mark price and funding rate, the funding times, and the FX rollover's swap.

- A perpetual `BASE/QUOTE:QUOTE` trades around its spot pair (the index): its mid is the index
  x (1 + premium), the premium a deterministic function of time (a slow basis that drifts over
  days and a fast wobble of minutes), so a restart finds the same market. The mark price is the
  index x (1 + the slow basis) (Binance's mark follows the index plus a moving average of the
  basis, not the last trade), and the funding rate is Binance's rule on that basis
  (core.margin.funding_rate), paid every 8 hours at 00:00, 08:00 and 16:00 UTC.
- An FX position held through 17:00 New York pays or earns the rollover: the interest rate
  differential of its two currencies less the broker's markup, one day's worth (three on
  Wednesday), in the quote currency.
"""

from __future__ import annotations

import math
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tui_trader.core import margin as M
from tui_trader.core.fx_sessions import rollover_days
from tui_trader.core.instrument import Instrument

FUNDING_HOURS = 8
_SLOW_PERIOD_S = 3 * 86_400.0
_FAST_PERIOD_S = 17 * 60.0
_SLOW_AMPLITUDE = 0.0006  # the basis drifts within about +-0.06 % (+ a small positive bias)
_SLOW_BIAS = 0.0001
_FAST_AMPLITUDE = 0.0002

# Annual policy rates the paper broker uses for swap (a fixed table: a simulation, not a feed),
# and its markup on each side.
RATES: dict[str, Decimal] = {
    "USD": Decimal("0.0450"),
    "EUR": Decimal("0.0250"),
    "GBP": Decimal("0.0425"),
    "JPY": Decimal("0.0025"),
    "AUD": Decimal("0.0385"),
    "CHF": Decimal("0.0050"),
    "CAD": Decimal("0.0300"),
    "NZD": Decimal("0.0375"),
    "XAU": Decimal("0"),
    "XAG": Decimal("0"),
}
SWAP_MARKUP = Decimal("0.0050")


def _phase(symbol: str) -> float:
    return (zlib.crc32(symbol.encode()) % 6283) / 1000.0


def basis(symbol: str, ts: float) -> float:
    """The slow part of the premium (what the mark and the funding rate follow)."""
    return _SLOW_BIAS + _SLOW_AMPLITUDE * math.sin(2 * math.pi * ts / _SLOW_PERIOD_S + _phase(symbol))


def premium(symbol: str, ts: float) -> float:
    """The perpetual's mid over its index at `ts` (a fraction)."""
    return basis(symbol, ts) + _FAST_AMPLITUDE * math.sin(2 * math.pi * ts / _FAST_PERIOD_S + 2 * _phase(symbol))


def funding_rate(inst: Instrument, ts: float) -> Decimal:
    """The rate of the next funding time, from the basis at `ts` (Binance's rule and cap)."""
    return M.funding_rate(Decimal(f"{basis(inst.symbol, ts):.8f}"), M.funding_cap(inst))


def next_funding(now: datetime) -> datetime:
    """The first funding time (00:00, 08:00, 16:00 UTC) strictly after `now`."""
    utc = now.astimezone(UTC)
    day = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    slot = (utc.hour // FUNDING_HOURS + 1) * FUNDING_HOURS
    return day + timedelta(hours=slot)


def swap_amount(inst: Instrument, qty: Decimal, price: Decimal, at: datetime) -> tuple[Decimal, Decimal]:
    """(amount in the quote currency, the annual rate applied) for holding `qty` units through
    the rollover at `at`: a long earns the base's rate and pays the quote's, a short the
    reverse, each less the markup."""
    days = rollover_days(at)
    if qty == 0 or days == 0:
        return Decimal(0), Decimal(0)
    base, quote = RATES.get(inst.base, Decimal(0)), RATES.get(inst.quote, Decimal(0))
    differential = (base - quote) if qty > 0 else (quote - base)
    rate = differential - SWAP_MARKUP
    amount = abs(qty) * inst.contract_size * price * rate * days / 365
    return amount.quantize(Decimal("0.00000001")), rate
