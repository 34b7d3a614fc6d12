"""The rule that says what a backfill could not reach (`venues.backfill`): only a full page
that starts after the gap's start, anchored at the present, leaves a hole; candles the same.
And where it is shown: a row of the tape (`market.trades`), where the prints are missing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from textual.theme import BUILTIN_THEMES

from tui_trader.core.enums import Side
from tui_trader.core.market import TradePrint
from tui_trader.engine.tape import with_holes
from tui_trader.secrets import Credentials
from tui_trader.ui.panes.tape import render_tape
from tui_trader.ui.theme import Palette
from tui_trader.venues.backfill import Hole, hole_before

from fakes.venue_harness import ccxt_settings, ccxt_venue


def test_a_full_page_of_the_newest_rows_starting_after_the_gap_is_a_hole() -> None:
    assert hole_before(list(range(1_000, 1_060)), 500, 60, anchored_at_now=True) == (500, 1_000)


def test_a_page_that_reaches_back_or_is_not_full_or_starts_at_since_is_none() -> None:
    assert hole_before(list(range(400, 460)), 500, 60, anchored_at_now=True) is None  # reached back
    assert hole_before(list(range(1_000, 1_059)), 500, 60, anchored_at_now=True) is None  # all it had
    assert hole_before(list(range(1_000, 1_060)), 500, 60, anchored_at_now=False) is None  # from `since`
    assert hole_before([], 500, 60, anchored_at_now=True) is None


def test_the_notice_names_the_symbol_the_span_in_utc_and_the_venue() -> None:
    text = Hole("bybit", "BTC/USDT", "1m candles", 1_700_000_000_000, 1_700_000_090_000, 500).text()
    assert text.startswith("BTC/USDT 1m candles from 22:13:20-22:14:50 UTC (90s)")
    assert "bybit's history answered its 500 newest" in text and "hole" in text
    tail = Hole("binance", "BTC/USDT", "trades", 1_700_000_000_000, 1_700_000_090_000, 5000, tail=True).text()
    assert "the 5000 read back from the outage's start did not reach them (a page limit)" in tail


def _prints(*seconds: float) -> list[TradePrint]:
    """Prints at these seconds past 12:00 UTC, newest first (as the tape answers)."""
    base = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    return [TradePrint("bybit", "BTC/USDT", base + timedelta(seconds=s), 100.0 + s, 0.5, Side.BUY)
            for s in sorted(seconds, reverse=True)]  # fmt: skip


def _ms(second: float) -> int:
    return int((datetime(2026, 1, 5, 12, 0, tzinfo=UTC) + timedelta(seconds=second)).timestamp() * 1000)


def test_the_tape_shows_the_hole_as_a_row_where_its_prints_are_missing() -> None:
    hole = Hole("bybit", "BTC/USDT", "trades", _ms(10), _ms(40), 60)
    rows = with_holes(_prints(5, 10, 40, 41, 42), [hole, Hole("bybit", "ETH/USDT", "trades", _ms(20), _ms(30), 60)])
    assert [r.get("gap", False) for r in rows] == [False, False, False, True, False, False]
    assert rows[3]["from"] == "2026-01-05T12:00:10Z" and rows[3]["to"] == "2026-01-05T12:00:40Z"
    assert with_holes(_prints(50, 51), [hole]) == with_holes(_prints(50, 51), [])  # older than what is shown
    text = render_tape(rows, Palette.from_theme(BUILTIN_THEMES["textual-dark"]), 2, 4).plain
    lines = text.splitlines()
    assert len(lines) == 7 and lines[4] == "── no prints 12:00:10-12:00:40: not in the venue's history ──"
    assert lines[3].startswith("12:00:40") and lines[5].startswith("12:00:10")


async def test_a_trades_answer_that_ignores_since_is_judged_as_the_newest_after_its_second_page() -> None:
    """A venue not known to answer only its newest prints, none streamed live yet: a full first
    page, then the same page again for the next `since`: the answer is the newest, the span
    before it is said (it would have asked ten times, then said a wrong "page limit")."""
    venue = ccxt_venue(ccxt_settings("okx", {}, ["BTC/USDT"]), Credentials("k", "s"))
    newest = [{"id": str(i), "timestamp": 10_000 + i, "symbol": "BTC/USDT", "price": 1.0, "amount": 0.1,
               "side": "buy"} for i in range(500)]  # fmt: skip
    asked: list[int] = []

    async def rest(fn: Any, symbol: str, since: int, limit: int, params: Any, *, what: str) -> list[dict[str, Any]]:
        asked.append(since)
        return newest  # whatever `since` says

    venue._ex = SimpleNamespace(markets={}, fetch_trades=None)
    venue._rest = rest  # type: ignore[method-assign]
    await venue._backfill_trades("BTC/USDT", 1_000, 20_000)
    assert asked == [1_000, 10_499]
    (hole,) = venue.holes
    assert (hole.start_ms, hole.end_ms, hole.tail) == (1_000, 10_000, False)


async def test_a_venues_holes_are_in_its_status_with_their_span_since_when() -> None:
    """`tui-trader status --json` (the daemon's status: the snapshot's venues) lists each hole an
    outage left, symbol, what, from and to, as the engine's snapshot does for a screen and a
    remote client the same (it was in a notice only, which scrolls away)."""
    from collections import deque

    from tui_trader.core.encoding import to_jsonable
    from tui_trader.daemon.protocol import decode_snapshot
    from tui_trader.engine.testing import manual_engine

    eng = manual_engine(start=datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    await eng.start()
    try:
        eng.venues["paper"].holes = deque(  # type: ignore[attr-defined]
            [Hole("paper", "BTC/USDT", "1m candles", _ms(60), _ms(600), 0, why="the venue stopped answering")]
        )
        snap = eng.snapshot()
        (doc,) = [v for v in to_jsonable(snap.venues) if v["name"] == "paper"]
        (hole,) = doc["holes"]
        assert {k: hole[k] for k in ("symbol", "what", "timeframe", "start", "end")} == {
            "symbol": "BTC/USDT", "what": "1m candles", "timeframe": "1m",
            "start": "2026-01-05T12:01:00Z", "end": "2026-01-05T12:10:00Z",
        }  # fmt: skip
        assert "the venue stopped answering" in hole["detail"]
        again = decode_snapshot(to_jsonable(snap))  # a remote client's copy
        assert [h.start for v in again.venues for h in v.holes] == [datetime(2026, 1, 5, 12, 1, tzinfo=UTC)]
    finally:
        await eng.stop()


async def test_trades_the_venue_stops_answering_for_are_said_missing_and_the_other_symbols_read_on() -> None:
    """The venue answers one page of BTC's prints, then every try of the next fails (silent,
    rate-limited to the end): the prints read are kept, the rest of BTC's gap is said missing
    with the venue's reason, and ETH's prints are still read back (the error ended the whole
    backfill, out of a background task: no notice, ETH's gap silent too)."""
    from tui_trader.core.events import NoticeEvent, TradeEvent
    from tui_trader.venues.base import VenueError

    venue = ccxt_venue(ccxt_settings("okx", {}, ["BTC/USDT", "ETH/USDT"]), Credentials("k", "s"))
    events: list[Any] = []
    venue._emit = events.append

    def page(symbol: str, since: int) -> list[dict[str, Any]]:  # BTC's a full page, ETH's up to the present
        return [{"id": f"{symbol}-{since + i}", "timestamp": since + i, "symbol": symbol, "price": 1.0,
                 "amount": 0.1, "side": "buy"} for i in range(500 if symbol == "BTC/USDT" else 100)]  # fmt: skip

    async def rest(fn: Any, symbol: str, since: int, limit: int, params: Any, *, what: str) -> list[dict[str, Any]]:
        if symbol == "BTC/USDT" and since > 1_000:
            raise VenueError("okx: backfill trades: RequestTimeout")
        return page(symbol, since)

    venue._ex = SimpleNamespace(markets={}, fetch_trades=None, parse_timeframe=lambda tf: 60)
    venue._rest = rest  # type: ignore[method-assign]
    venue._gap_from = ({}, {"BTC/USDT": 1_000, "ETH/USDT": 2_000})
    venue.clock = SimpleNamespace(now=lambda: datetime.fromtimestamp(20, UTC))  # type: ignore[assignment]
    await venue._backfill()
    printed = [e.trade for e in events if isinstance(e, TradeEvent)]
    assert sum(t.symbol == "BTC/USDT" for t in printed) == 500 and sum(t.symbol == "ETH/USDT" for t in printed) == 100
    (hole,) = venue.holes
    assert (hole.symbol, hole.start_ms, hole.end_ms) == ("BTC/USDT", 1_499, 20_000)
    (notice,) = [e.message for e in events if isinstance(e, NoticeEvent)]
    assert "the venue stopped answering (VenueError: okx: backfill trades: RequestTimeout)" in notice
