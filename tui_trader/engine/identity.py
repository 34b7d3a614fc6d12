"""Who an order really comes from: set by the engine from the caller, never from request fields.

The strategy host places as `strategy:<name>`, the signal services as `signal:<provider>` (copy
trading as `copy:<leader>`); everything else is a person (the TUI, the CLI, a socket script),
whatever the request says. Socket actors always carry `@transport`, so a client cannot name
itself into a strategy. The identity decides the limits (per-strategy overrides), whether the
order is automated (rounded to the lot instead of refused; locked by protections) and whose
sub-ledger its fills go to.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_trader.core.errors import UsageError
from tui_trader.core.orders import OrderRequest

AUTOMATED_KINDS = ("strategy", "signal", "copy")
RESERVED_SOURCES = ("strategy", "copy", "kill_switch", "venue")


@dataclass(frozen=True, slots=True)
class Origin:
    source: str
    strategy: str | None
    automated: bool


MANUAL = Origin("manual", None, False)


def origin_of(actor: str) -> Origin:
    kind, sep, name = actor.partition(":")
    if not sep or not name or "@" in actor or kind not in AUTOMATED_KINDS:
        return MANUAL
    return Origin(actor, name if kind == "strategy" else None, True)


def identify(req: OrderRequest, actor: str) -> tuple[OrderRequest, Origin]:
    """The request with the engine's identity on it; link fields a caller may not set are refused."""
    origin = origin_of(actor)
    for field_name, how in (("parent_id", "brackets: --sl/--tp"), ("oco_id", "the order.oco command")):
        if getattr(req, field_name):
            raise UsageError(f"{field_name} is set by the engine ({how}); leave it out of the order")
    if req.strategy is not None and req.strategy != origin.strategy:
        raise UsageError(
            f"an order cannot claim strategy {req.strategy!r}: the engine sets it from where the order "
            "comes from; leave it out"
        )
    if origin.automated:
        source = origin.source
    elif req.source.startswith(RESERVED_SOURCES):
        source = "manual"  # a label only, and never one of the engine's own
    else:
        source = req.source or "manual"
    if req.source == source and req.strategy == origin.strategy:
        return req, origin  # already as the engine would set it (a strategy's own orders)
    return req.with_(source=source, strategy=origin.strategy), origin
