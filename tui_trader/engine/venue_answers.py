"""The venue commands' answers in one line, as `tui-trader venue ...` prints them and the
workstation's command line says them (no import of the engine: a client loads this alone)."""

from __future__ import annotations

from typing import Any


def reconnected_line(doc: dict[str, Any]) -> str:
    """`venue.reconnect`'s answer: "kucoin: connected" (with "; cash re-read: USDT 0 -> 1,000"
    when the balances read again moved it), or "kucoin: degraded: WHY"."""
    detail = f": {doc['detail']}" if doc.get("detail") else ""
    cash = f"; cash re-read: {doc['cash']}" if doc.get("cash") else ""
    return f"{doc['venue']}: {doc['state']}{detail}{cash}"


def adopted_line(doc: dict[str, Any]) -> str:
    """`venue.adopt`'s answer: "ib: AAPL 3 -> 1 (the broker's), booked at 187.2; cash re-read:
    USD ..." or "ib: AAPL 1 already agrees with the broker; nothing changed"."""
    head = f"{doc['venue']}: {doc['symbol']}"
    if not doc.get("changed"):
        return f"{head} {doc['now']} already agrees with the broker; nothing changed"
    cash = f"; cash re-read: {doc['cash']}" if doc.get("cash") else ""
    return f"{head} {doc['was']} -> {doc['now']} (the broker's), booked at {doc['price']}{cash}"
