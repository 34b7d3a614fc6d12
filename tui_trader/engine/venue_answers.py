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
