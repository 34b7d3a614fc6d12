"""What a backfill after an outage could not reach: the part of a gap the venue's REST history
does not go back to.

A venue answers a bounded page (Bybit spot's recent trades: its 60 newest prints, whatever
`since` says; an OHLCV endpoint: so many candles). A full page that starts after the gap's
start, while it reaches up to what the live stream printed after the gap (or the venue is known
to answer only its newest prints), leaves the time between unfilled: the prints made there are
not in the tape, the candles not in the chart. A venue that answers from `since` is read page
after page; if the pages run out before the present, the rest is the hole (`tail`). That span
is said, never papered over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableSequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tui_trader.core.events import Event, NoticeEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Hole:
    """`what` ("trades", "1m candles") of `symbol` from `start_ms` to `end_ms` (venue time) that the
    venue's answer of `answered` rows did not reach."""

    venue: str
    symbol: str
    what: str
    start_ms: int
    end_ms: int
    answered: int
    tail: bool = False  # the end of the gap: the pages read from its start ran out first
    why: str = ""  # the reason in a phrase, where it is not one of the two above

    def text(self) -> str:
        long = self.end_ms - self.start_ms >= 86_400_000  # a day and more: dates too
        seconds = (self.end_ms - self.start_ms) / 1000
        span = f"{_hms(self.start_ms, long)}-{_hms(self.end_ms, long)} UTC ({seconds:.0f}s)"
        if self.why:
            why = self.why
        elif self.tail:
            why = f"the {self.answered} read back from the outage's start did not reach them (a page limit)"
        else:
            why = f"{self.venue}'s history answered its {self.answered} newest, none that far back"
        return f"{self.symbol} {self.what} from {span} are missing after the outage: {why}; that span stays a hole"


def say(hole: Hole, holes: MutableSequence[Hole], emit: Callable[[Event], None], now: datetime) -> None:
    """Keep `hole` among the venue's `holes` (the chart, `status --json`, a strategy's wait) and
    say it: a warning in the log and a notice."""
    holes.append(hole)
    log.warning("%s: %s", hole.venue, hole.text())
    emit(NoticeEvent(now, "warning", hole.text(), hole.venue))


def hole_before(times_ms: list[int], gap_from_ms: int, limit: int, *, anchored_at_now: bool) -> tuple[int, int] | None:
    """(gap_from_ms, oldest row) when a full page (`limit` rows) anchored at the present begins
    after the gap's start; None when the page reached back, or was not full (the venue gave all
    it had), or begins at `since` (a venue that honours it: the page covers the gap's start)."""
    if len(times_ms) < limit or not times_ms or not anchored_at_now:
        return None
    oldest = min(times_ms)
    return (gap_from_ms, oldest) if oldest > gap_from_ms else None


def _hms(ms: int, dated: bool = False) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S" if dated else "%H:%M:%S")
