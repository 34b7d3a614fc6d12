"""A routed order's route as its parent stores it (`meta["route"]`): the children sent, the
venues that failed it and why, whether it is cancelled or done, and the story for the user."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui_trader.core.orders import Order

AUTO = "auto"  # `--venue auto`: the router picks the venues (engine/router.py)
NOTES_KEPT = 12


def is_parent(order: Order) -> bool:
    return isinstance(order.meta.get("route"), dict)


def is_child(order: Order) -> bool:
    return bool(order.meta.get("route_parent"))


@dataclass(slots=True)
class Route:
    failover: str
    children: list[str] = field(default_factory=list)  # every child id, in the order they were made
    settled: list[str] = field(default_factory=list)  # children whose unfilled part was dealt with
    tried: dict[str, str] = field(default_factory=dict)  # venue -> why it failed this order
    notes: list[str] = field(default_factory=list)  # what happened, for the user
    cancel: bool = False
    done: bool = False  # no more children will be sent

    @classmethod
    def new(cls, failover: str) -> Route:
        return cls(failover)

    @classmethod
    def of(cls, parent: Order) -> Route:
        m = parent.meta.get("route") or {}
        return cls(
            str(m.get("failover", "same_quote")),
            list(m.get("children", [])),
            list(m.get("settled", [])),
            dict(m.get("tried", {})),
            list(m.get("notes", [])),
            bool(m.get("cancel", False)),
            bool(m.get("done", False)),
        )

    def to_meta(self) -> dict[str, Any]:
        return {
            "failover": self.failover,
            "children": list(self.children),
            "settled": list(self.settled),
            "tried": dict(self.tried),
            "notes": list(self.notes[-NOTES_KEPT:]),
            "cancel": self.cancel,
            "done": self.done,
        }

    def note(self, text: str) -> None:
        if not self.notes or self.notes[-1] != text:
            self.notes.append(text)

    def summary(self) -> str:
        """The parent's reason: what the route did, latest last."""
        return "; then ".join(self.notes[-3:])
