"""Number and time formatting for the panes: fixed widths, thousands separators, signs."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal


def price(value: float | Decimal | None, decimals: int = 2) -> str:
    if value is None or value == 0:
        return "-"
    return f"{float(value):,.{decimals}f}"


def qty(value: float | Decimal | None, decimals: int = 4) -> str:
    if value is None:
        return "-"
    text = f"{float(value):,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money(value: float | Decimal | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{float(value):+,.2f}" if signed else f"{float(value):,.2f}"


def compact_money(value: float | Decimal | None) -> str:
    """Money in few cells, for narrow panes: 950.25, 12.3K, 1.25M, -4.5B."""
    if value is None:
        return "-"
    v = float(value)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= div:
            return f"{v / div:,.{2 if abs(v) < 10 * div else 1}f}{suffix}"
    return f"{v:,.2f}"


def pct(value: float | None, signed: bool = True, decimals: int = 2) -> str:
    """A fraction as a percentage: 0.0123 -> +1.23%."""
    if value is None:
        return "-"
    return f"{value * 100:+.{decimals}f}%" if signed else f"{value * 100:.{decimals}f}%"


def volume(value: float | None) -> str:
    """Compact: 1.2K, 3.4M, 5.6B."""
    if value is None:
        return "-"
    v = abs(value)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if v >= div:
            return f"{value / div:.1f}{suffix}"
    return f"{value:.0f}" if v >= 10 else f"{value:.2f}"


def age(now: datetime, then: datetime) -> str:
    """How long ago, compact: 5s, 3m, 2h, 4d."""
    secs = max(0.0, (now - then) / timedelta(seconds=1))
    if secs < 60:
        return f"{secs:.0f}s"
    if secs < 3600:
        return f"{secs / 60:.0f}m"
    if secs < 86400:
        return f"{secs / 3600:.0f}h"
    return f"{secs / 86400:.0f}d"


def clock(ts: datetime) -> str:
    return ts.strftime("%H:%M:%S")


def short_id(client_order_id: str, width: int = 10) -> str:
    """The tail of a client order id (its unique part) for narrow columns."""
    return (
        client_order_id if len(client_order_id) <= width else "…" + client_order_id[-(width - 1) :]
    )
