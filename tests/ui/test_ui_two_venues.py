"""Two paper venues (different seeds) quote the same symbols: the watchlist shows a row per venue
with that venue's own price, and picking one makes its venue active for quotes and orders."""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import DataTable

from tui_trader.config import Settings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.engine import Engine
from tui_trader.engine.client import InProcessClient
from tui_trader.engine.position_check import disagreements
from tui_trader.ui.app import WorkstationApp
from tui_trader.ui.panes import OrderBookPane, WatchlistPane
from tui_trader.ui.panes.statusbar import StatusBar
from tui_trader.venues.paper import PaperVenue

from ui_helpers import START, HeldSource, Rig, answer


def two_venue_rig() -> Rig:
    settings = Settings(ui={"flash_ms": 0}, paper={"symbols": ["BTC/USDT", "ETH/USDT"]})
    clock = FrozenClock(START)
    venues = {}
    for name, seed in (("paper", 7), ("paper2", 11)):
        venue = PaperVenue(settings.paper.model_copy(update={"seed": seed}), clock, name=name)
        venue.source = HeldSource(venue.source)  # type: ignore[assignment]
        venues[name] = venue
    engine = Engine(settings, None, clock=clock, venues=venues, in_memory=True)  # type: ignore[arg-type]
    return Rig(WorkstationApp(InProcessClient(engine), settings, None), engine, clock)


def step_both(rig: Rig, n: int) -> None:
    for venue in rig.engine.venues.values():
        for _ in range(n):
            venue.source.step(venue)  # type: ignore[attr-defined]


async def test_each_venue_shows_its_own_quote() -> None:
    rig = two_venue_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot)
        step_both(rig, 40)
        await rig.app.refresh_snapshot()
        await pilot.pause()
        watchlist = rig.app.query_one(WatchlistPane)
        rows = watchlist._sync.rows  # type: ignore[union-attr]
        assert {"paper:BTC/USDT", "paper2:BTC/USDT"} <= set(rows), list(rows)
        last = {key: str(rows[key][3]) for key in ("paper:BTC/USDT", "paper2:BTC/USDT")}
        for key, text in last.items():
            venue = key.split(":")[0]
            ticker = rig.engine.ticker("BTC/USDT", venue)
            assert ticker is not None and f"{ticker.last:,.2f}" in text, (key, text, ticker.last)
        assert last["paper:BTC/USDT"] != last["paper2:BTC/USDT"]  # different seeds, different prices

        # picking paper2's row makes paper2 the active venue: its book, and orders go there
        table = rig.app.query_one("#watchlist-table", DataTable)
        table.focus()
        table.move_cursor(row=list(rows).index("paper2:BTC/USDT"))
        await pilot.press("enter")
        await pilot.pause()
        assert (rig.app.symbol, rig.app.venue) == ("BTC/USDT", "paper2")
        await rig.app.refresh_snapshot()
        await pilot.pause()
        assert "paper2" in str(rig.app.query_one(OrderBookPane).border_title)
        inst, ticker = rig.app.lookup("BTC/USDT")
        assert ticker is not None and ticker.venue == "paper2" and inst is not None and inst.venue == "paper2"
        below = Decimal(str(round(ticker.mid * 0.999, 2)))
        worker = rig.app.submit_order(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.01"), OrderType.LIMIT, below))
        await answer(rig, pilot, "ctrl+y")
        for _ in range(100):
            if worker.is_finished:
                break
            await pilot.pause(0.01)
        placed = [o for o in rig.engine.recent_orders.values() if o.symbol == "BTC/USDT"]
        assert placed and placed[-1].venue == "paper2"

        # paper2's balances no longer believed: the status bar says so beside paper2 alone
        rig.engine.portfolio.cash_not_known("paper2", "fills kept arriving", rig.clock.now())
        await rig.app.refresh_snapshot()
        await pilot.pause()
        bar = rig.app.query_one(StatusBar).render()
        plain = bar.plain if hasattr(bar, "plain") else str(bar)
        assert "paper2 connected cash not known" in plain and plain.count("cash not known") == 1, plain

        # the broker's positions unlike ours at paper (its last account read): said beside it
        rig.engine.reconciler.cash.positions.found["paper"] = disagreements({"BTC/USDT": Decimal("0.01")}, {})
        await rig.app.refresh_snapshot()
        await pilot.pause()
        bar = rig.app.query_one(StatusBar).render()
        plain = bar.plain if hasattr(bar, "plain") else str(bar)
        assert "paper connected positions disagree (BTC/USDT)" in plain, plain


async def bar_showing(rig, pilot, bar, text: str) -> str:  # type: ignore[no-untyped-def]
    """The status bar's text once a frame shows `text` (a few frames at most; the last text
    if none does, for the assertion to print)."""
    for _ in range(50):
        await rig.app.refresh_snapshot()
        await pilot.pause()
        shown = str(bar.render())
        if text in shown:
            break
    return shown


async def test_the_status_bar_names_a_silent_private_stream_and_a_rate_limit() -> None:
    """A venue whose private order stream owes news past its deadline (market data flowing) and
    whose rate gate is closed by a ban: the status bar says which stream and that it is rate
    limited (the venue-wide state alone would read "connected")."""
    from tui_trader.ui.panes.statusbar import StatusBar
    from tui_trader.venues.ratelimit import RateGate
    from tui_trader.venues.streams import StreamBoard

    rig = two_venue_rig()
    mono = [0.0]
    board = StreamBoard(1.0, monotonic=lambda: mono[0])
    board.add("ticker:BTC/USDT")
    board.add("orders", private=True)
    gate = RateGate("paper2", monotonic=lambda: mono[0])
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot)
        venue = rig.engine.venues["paper2"]
        venue.streams = board  # type: ignore[attr-defined]
        venue.rate_gate = gate  # type: ignore[attr-defined]
        bar = rig.app.query_one(StatusBar)
        shown = await bar_showing(rig, pilot, bar, "paper2")
        assert "silent" not in shown and "rate limited" not in shown, shown

        board.message("ticker:BTC/USDT")
        board.expect("orders", "c1")  # an order the venue acknowledged: the stream owes its news
        mono[0] = 1.5
        board.message("ticker:BTC/USDT")  # market data flows on
        assert board.silent() == ["orders"]
        gate.hit(418, {"Retry-After": "120"})
        shown = await bar_showing(rig, pilot, bar, "rate limited")
        assert "paper2" in shown and "(orders silent)" in shown and "rate limited" in shown, shown
