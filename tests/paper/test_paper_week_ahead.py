"""The paper market's path is computed a week at a time (~5 ms a symbol). The next week is
computed in a thread shortly before it starts: crossing into it (at 00:00 UTC, when candles of
every timeframe close and strategies place their orders) no longer holds the event loop for
every symbol's new week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tui_trader.core.clock import FrozenClock
from tui_trader.engine.testing import paper_settings
from tui_trader.venues.paper import PaperVenue
from tui_trader.venues.paper.feeds import WARM_AHEAD_S, SimulatedSource
from tui_trader.venues.paper.path import BLOCK_SECONDS, PricePath


class _Sink:
    def __init__(self) -> None:
        self.quotes = 0

    def on_book(self, book: Any) -> None:
        pass

    def on_trade(self, trade: Any) -> None:
        pass

    def on_ticker(self, ticker: Any) -> None:
        self.quotes += 1


async def test_the_next_week_is_computed_ahead_in_a_thread_not_on_the_loop_when_first_quoted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a week no other test reaches, so nothing has computed it already
    week = int(datetime(2031, 3, 1, tzinfo=UTC).timestamp() // BLOCK_SECONDS)
    start = datetime.fromtimestamp(week * BLOCK_SECONDS, UTC)
    clock = FrozenClock(start - timedelta(minutes=30))
    settings = paper_settings().paper.model_copy(update={"seed": 90_210})
    venue = PaperVenue(settings, clock, run_feed=False)
    source = venue.source
    assert isinstance(source, SimulatedSource)
    sink = _Sink()
    source.step(sink)  # this week's path, computed as its first quote needs it

    assert source.warm_ahead() is None  # half an hour before: not yet
    clock.set(start - timedelta(seconds=WARM_AHEAD_S - 60))
    warming = source.warm_ahead()
    assert warming is not None
    await warming
    assert source.warm_ahead() is None  # once a week

    def on_the_loop(self: PricePath, index: int) -> Any:
        raise AssertionError(f"week {index} of {self.symbol} computed when first quoted")

    monkeypatch.setattr(PricePath, "_make_block", on_the_loop)
    clock.set(start + timedelta(seconds=1))
    source.step(sink)  # every symbol quoted in the new week, from what was computed ahead
    assert sink.quotes == 2 * len(source.sim.symbols)
