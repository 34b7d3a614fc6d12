"""A strategy's bars with a hole in them: candles an outage left missing that the venue's history
could not give back (a venue's `holes`, said in a notice when the backfill found them).

A strategy does not read its signals from such a window. Freqtrade fills missing candles with
flat ones (the last close, no volume) and trades on; Hummingbot's candles feed is not `ready`
until its window is whole again. Here the strategy waits, as Hummingbot's does, but only while
the hole is among the bars it reads: the bar being closed and the `startup_candle_count` before
it (at least one). Each bar is still added to its window (the hole rolls out of it), an open
trade's stop and ROI are still checked on it (they need the bar alone); no entry, no signal
exit. A notice says when a strategy begins to wait and when it evaluates again; `status` lists
what each waits for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from tui_trader.strategy.timeframes import timeframe_to_seconds


class Hole(Protocol):
    """A span a venue's backfill could not reach (`venues.backfill.Hole`)."""

    symbol: str
    what: str  # "trades", "1m candles"
    start_ms: int  # the first missing bar's open
    end_ms: int  # the first bar there again


@dataclass(frozen=True, slots=True)
class Wait:
    symbol: str
    timeframe: str
    start_ms: int
    end_ms: int
    until_ms: int  # the open of the first bar it evaluates again on

    def span(self) -> str:
        return f"{_utc(self.start_ms)}-{_utc(self.end_ms)} UTC"

    def as_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "hole_from": _iso(self.start_ms),
            "hole_to": _iso(self.end_ms),
            "evaluates_from": _iso(self.until_ms),
        }


class WindowHoles:
    """Which strategies wait on a hole in their bars (`hold`), said through `notify`."""

    def __init__(self, notify: Callable[[str, str, str], None]) -> None:
        self.notify = notify
        self.waiting: dict[tuple[str, str], Wait] = {}  # (strategy, symbol)

    def hold(
        self, strategy: str, symbol: str, timeframe: str, open_time: datetime, before: int, holes: Iterable[Hole]
    ) -> bool:
        """True when the bar opening at `open_time` and the `before` bars before it (at least
        one) hold a hole of `holes`: the strategy reads no signal from it."""
        key = (strategy, symbol)
        what = f"{timeframe} candles"
        mine = [h for h in holes if h.what == what and h.symbol == symbol]
        if not mine and key not in self.waiting:
            return False
        tf_ms = timeframe_to_seconds(timeframe) * 1000
        open_ms = int(open_time.timestamp() * 1000)
        before = max(1, before)
        reads_from = open_ms - before * tf_ms
        inside = [h for h in mine if h.end_ms > reads_from and h.start_ms <= open_ms]
        if not inside:
            done = self.waiting.pop(key, None)
            if done is not None:
                self.notify(
                    "info",
                    f"strategy {strategy} evaluates {symbol} {timeframe} again: the hole {done.span()} "
                    f"is behind the {before + 1} bars it reads",
                    "strategy",
                )
            return False
        newest = max(inside, key=lambda h: h.end_ms)
        wait = Wait(symbol, timeframe, min(h.start_ms for h in inside), newest.end_ms, newest.end_ms + before * tf_ms)
        if self.waiting.get(key) != wait:
            self.waiting[key] = wait
            self.notify(
                "warning",
                f"strategy {strategy} waits on {symbol} {timeframe}: the {before + 1} bars it reads have a hole "
                f"{wait.span()} the venue's history could not give back; no entry or signal exit until the bar "
                f"of {_utc(wait.until_ms)} UTC (stops and ROI still checked)",
                "strategy",
            )
        return True

    def status(self, strategy: str) -> list[dict[str, Any]]:
        return [w.as_dict() for (name, _), w in self.waiting.items() if name == strategy]

    def forget(self, strategy: str) -> None:
        for key in [k for k in self.waiting if k[0] == strategy]:
            del self.waiting[key]


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")
