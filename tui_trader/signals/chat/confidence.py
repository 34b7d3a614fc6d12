"""How sure a parse is. Confidence starts at 1 and each doubt takes off its penalty.

A *blocking* doubt (0.35) alone puts a message below the default auto-execute threshold
(0.70): whatever could make us trade the wrong thing — a number we could not place, a
missing stop, a level we could not read, a level on the wrong side, a guessed symbol,
hedged wording — must be seen by the trader first. Minor doubts (0.05-0.15) only rank.
"""

from __future__ import annotations

from decimal import Decimal

from tui_trader.core.enums import Side
from tui_trader.signals.chat.text import fmt

BLOCK = 0.35
PENALTY = {
    # blocking
    "leftover_numbers": BLOCK,
    "unreadable_level": BLOCK,
    "no_stop": BLOCK,
    "stop_wrong_side": BLOCK,
    "stop_in_zone": BLOCK,
    "target_wrong_side": BLOCK,
    "level_far": BLOCK,
    "symbol_guessed": BLOCK,
    "several_symbols": BLOCK,
    "both_sides": BLOCK,
    "several_stops": BLOCK,
    "hedged": BLOCK,
    "repost": BLOCK,
    "odd_leverage": BLOCK,
    "relative_without_entry": BLOCK,
    "no_symbol": BLOCK,
    "no_fraction": BLOCK,
    "no_new_level": BLOCK,
    # minor
    "side_inferred": 0.15,
    "plan": 0.1,
    "no_targets": 0.1,
    "targets_unordered": 0.1,
    "low_rr": 0.1,
    "wide_zone": 0.1,
    "no_entry": 0.05,
    "percent_sign": 0.05,
}
FAR_FACTOR = Decimal(3)  # a level more than 3x (or under 1/3 of) the entry is probably a typo
WIDE_ZONE = Decimal("0.10")  # an entry zone wider than 10 % of its middle


class Doubts:
    """Reasons with their penalties, in the order found."""

    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.penalty = 0.0

    def add(self, key: str, reason: str) -> None:
        self.reasons.append(reason)
        self.penalty += PENALTY[key]

    def note(self, reason: str) -> None:
        """A reason that costs nothing (what was read, for the trader)."""
        self.reasons.append(reason)

    @property
    def confidence(self) -> float:
        return round(max(0.0, min(1.0, 1.0 - self.penalty)), 4)


def check_entry(
    doubts: Doubts,
    side: Side,
    entry: tuple[Decimal, ...],
    stop: Decimal | None,
    targets: list[Decimal],
) -> None:
    """Checks a trader would do by eye: levels on the right side, plausible size, sane R."""
    sign = side.sign
    mid = sum(entry, Decimal(0)) / len(entry) if entry else None
    word = "long" if side is Side.BUY else "short"
    if len(entry) == 2 and mid and (entry[1] - entry[0]) / mid > WIDE_ZONE:
        doubts.add("wide_zone", f"entry zone {fmt(entry[0])}-{fmt(entry[1])} is wider than 10 %")
    if stop is None:
        doubts.add("no_stop", "no stop given")
    if not targets:
        doubts.add("no_targets", "no target given")
    if mid is None:
        doubts.add("no_entry", "no entry price: it would be a market order")
        if stop is not None and any((tg - stop) * sign <= 0 for tg in targets):
            doubts.add("stop_wrong_side", f"stop {fmt(stop)} is beyond a target for a {word}")
        return
    if stop is not None:
        if len(entry) == 2 and entry[0] <= stop <= entry[1]:
            doubts.add("stop_in_zone", f"stop {fmt(stop)} is inside the entry zone")
        elif (mid - stop) * sign <= 0:
            where = "above" if side is Side.BUY else "below"
            doubts.add("stop_wrong_side", f"stop {fmt(stop)} is {where} the entry for a {word}")
    wrong = [tg for tg in targets if (tg - mid) * sign <= 0]
    if wrong:
        where = "below" if side is Side.BUY else "above"
        shown = ", ".join(fmt(w) for w in wrong)
        doubts.add("target_wrong_side", f"target {shown} is {where} the entry for a {word}")
    ordered = sorted(targets, reverse=side is Side.SELL)
    if not wrong and targets != ordered:
        doubts.add("targets_unordered", "targets are out of order")
    levels = [*targets, *([stop] if stop is not None else [])]
    far = [lv for lv in levels if mid > 0 and (lv > mid * FAR_FACTOR or lv * FAR_FACTOR < mid)]
    if far:
        doubts.add("level_far", f"level {fmt(far[0])} is far from the entry {fmt(mid)}; check the number")
    if stop is not None and targets and not wrong and (mid - stop) * sign > 0:
        rr = abs(targets[0] - mid) / abs(mid - stop)
        if rr < 1:
            doubts.add("low_rr", f"first target pays {float(rr):.2f} R (less than the risk)")
