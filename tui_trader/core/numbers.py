"""Numbers people type (quantities, prices, distances): finite, positive and in range.

One rule for every front end (the `:` command line, the ticket, `tui-trader order`, the
socket) and for the engine itself, so `1e23`, `NaN`, `Infinity` or `-1` are refused in one
line before anything is stored, instead of failing deep inside the decimal arithmetic.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# Above this no instrument trades, and the engine's 28-digit decimal arithmetic stays exact
# down to 1e-12 steps (15 + 12 < 28 digits).
MAX_NUMBER = Decimal("1e15")
MIN_NUMBER = Decimal("1e-12")


class NumberError(ValueError):
    """The message is one line: what was wrong with which number."""


def checked_decimal(value: object, what: str) -> Decimal:
    """`value` (a string, int, float or Decimal) as a Decimal in [1e-12, 1e15]; NumberError if not."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise NumberError(f"{what} must be a number, got {type(value).__name__}")
    text = str(value).strip().replace("_", "") if not isinstance(value, Decimal) else value
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise NumberError(f"{what} must be a number, got {str(value)[:40]!r}") from None
    return check_range(number, what, shown=str(value)[:40])


def check_range(number: Decimal, what: str, shown: str | None = None) -> Decimal:
    shown = shown if shown is not None else str(number)
    if not number.is_finite():
        raise NumberError(f"{what} must be a finite number, got {shown}")
    if number <= 0:
        raise NumberError(f"{what} must be greater than zero, got {shown}")
    if number > MAX_NUMBER:
        raise NumberError(f"{what} {shown} is out of range (at most {MAX_NUMBER:,f})")
    if number < MIN_NUMBER:
        raise NumberError(f"{what} {shown} is too small (at least {MIN_NUMBER})")
    return number
