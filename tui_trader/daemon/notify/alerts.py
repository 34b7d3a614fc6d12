"""Which engine events deserve an alert, and the one line each becomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tui_trader.core.enums import ConnectionState, OrderStatus
from tui_trader.core.events import ConnectionEvent, Event, FillEvent, NoticeEvent, OrderEvent, RiskEvent

# Bus kinds the notifier listens to (orders only for venue-side rejections).
KINDS = ("fill", "risk", "order", "connection", "notice")
_DOWN = frozenset({ConnectionState.DISCONNECTED, ConnectionState.RECONNECTING, ConnectionState.DEGRADED})


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str  # fill | reject | breaker | disconnect | strategy_error
    ts: datetime
    text: str


def classify(event: Event) -> Alert | None:
    if isinstance(event, FillEvent):
        f = event.fill
        return Alert(
            "fill",
            f.ts,
            f"fill {f.side.value} {f.quantity} {f.symbol} @ {f.price} on {f.venue} (order {f.client_order_id})",
        )
    if isinstance(event, RiskEvent):
        if event.client_order_id and not event.code.startswith(("breaker", "kill_switch")):
            return Alert("reject", event.ts, f"rejected {event.client_order_id}: {event.message}")
        return Alert("breaker", event.ts, f"{event.code}: {event.message}")
    if isinstance(event, OrderEvent):
        o = event.order
        # Engine-side rejections already arrive as a RiskEvent (their order carries a reject_code).
        if o.status is OrderStatus.REJECTED and "reject_code" not in o.meta:
            what = f"{o.side.value} {o.quantity} {o.symbol} ({o.client_order_id})"
            return Alert("reject", o.updated_at, f"{o.venue} rejected {what}: {o.reason or 'no reason given'}")
        return None
    if isinstance(event, ConnectionEvent):
        if event.state in _DOWN:
            detail = f": {event.detail}" if event.detail else ""
            return Alert("disconnect", event.ts, f"{event.venue} {event.state.value}{detail}")
        return None
    if isinstance(event, NoticeEvent) and event.level == "error":
        return Alert("strategy_error", event.ts, f"{event.source}: {event.message}")
    return None


def summarize(alerts: list[Alert], max_lines: int) -> tuple[str, str]:
    """(subject, body) for one batched message."""
    counts: dict[str, int] = {}
    for a in alerts:
        counts[a.kind] = counts.get(a.kind, 0) + 1
    subject = "tui-trader: " + ", ".join(f"{n} {_plural(kind, n)}" for kind, n in counts.items())
    lines = [f"{a.ts:%H:%M:%S} {a.text}" for a in alerts[:max_lines]]
    if len(alerts) > max_lines:
        lines.append(f"... and {len(alerts) - max_lines} more")
    return subject, "\n".join(lines)


def _plural(kind: str, n: int) -> str:
    label = kind.replace("_", " ")
    return label if n == 1 else label + "s"
