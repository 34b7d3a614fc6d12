"""LinesWidget (ui/lines.py): drawn line by line from styled pieces, it shows exactly what
Textual draws for the same lines as one Rich Text (same characters, same styles), crops long
lines (Textual would wrap them, whatever the Text's no_wrap says), and draws again only the
lines that changed. The order book's ladder, drawn this way, matches its Text in the grid
(stacked) and the compact layout (side by side), with an own order marked and after a theme
change."""

from __future__ import annotations

from decimal import Decimal

from rich.style import Style
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.visual import Visual, visualize

from tui_trader.core.enums import OrderType, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.ui.lines import Line, LinesWidget
from tui_trader.ui.panes.orderbook import Ladder

from ui_helpers import build_rig, frame


def _cells(strip: Strip) -> list[tuple[str, Style | None]]:
    return [(ch, seg.style.clear_meta_and_links() if seg.style else None) for seg in strip for ch in seg.text]


def _as_text_draws(widget: LinesWidget) -> list[list[tuple[str, Style | None]]]:
    """What Textual draws for the widget's lines as one Text (a `render()` widget's lines)."""
    width, height = widget.size
    strips = Visual.to_strips(widget, visualize(widget, widget.render()), width, height, widget.visual_style)
    return [_cells(strips[y]) if y < len(strips) else _cells(widget.render_line(y)) for y in range(height)]


def _drawn(widget: LinesWidget) -> list[list[tuple[str, Style | None]]]:
    return [_cells(widget.render_line(y)) for y in range(widget.size.height)]


class Board(LinesWidget):
    DEFAULT_CSS = "Board { height: 1fr; }"


class One(App[None]):
    def compose(self) -> ComposeResult:
        yield Board(id="board")


LINES: list[Line] = [
    (("price", "bold"), ("  size", ""), (" depth", "dim")),
    (("64,212.07", "#00ff00"), ("  1.78900 ", ""), ("◀ 0.5", "bold reverse #ffaa00"), (" ████", "on #003300")),
    ((f"{'a line exactly as wide as the board, to its last cell':.50}", "italic red"),),
    ((" spread 3.21 · mid 64,181.59 ", "bold #ffaa00"),),
    (),
    (("", "bold"), ("after an empty piece", "underline")),
]


async def test_lines_draw_what_the_same_text_draws_and_only_changed_lines_again() -> None:
    app = One()
    async with app.run_test(size=(50, 10)) as pilot:
        board = app.query_one(Board)
        board.show_lines(LINES)
        await pilot.pause()
        assert _drawn(board) == _as_text_draws(board)
        board.show_lines([*LINES, (("a line far longer than the board is wide " * 3, "red"),)])
        assert len(_cells(board.render_line(len(LINES)))) == board.size.width  # cropped, never wrapped
        board.show_lines(LINES)
        kept = {y: board.render_line(y) for y in range(len(LINES))}
        changed = list(LINES)
        changed[1] = (("64,212.08", "#00ff00"), ("  1.70000 ", ""), ("", ""), (" ███", "on #003300"))
        board.show_lines(changed)
        for y in range(len(LINES)):  # the unchanged lines are the strips drawn before
            assert (board.render_line(y) is kept[y]) is (y != 1), y
        assert _drawn(board) == _as_text_draws(board)
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        assert _drawn(board) == _as_text_draws(board)
        board.show_lines(LINES[:2])  # fewer lines: the rest blank
        await pilot.pause()
        assert _drawn(board) == _as_text_draws(board)
        assert board.render().plain.splitlines()[0] == "price  size depth"


async def test_the_ladder_draws_what_its_text_draws_in_both_layouts() -> None:
    for size in ((160, 48), (80, 24)):
        rig = build_rig()
        async with rig.app.run_test(size=size) as pilot:
            await rig.ready(pilot, steps=5)
            if size == (80, 24):
                rig.app.action_show_pane("book")
            snap = rig.app.snapshot
            assert snap is not None
            ticker = snap.ticker("BTC/USDT")
            assert ticker is not None and ticker.bid
            await rig.app.client.place(
                OrderRequest(
                    symbol="BTC/USDT",
                    side=Side.BUY,
                    type=OrderType.LIMIT,
                    quantity=Decimal("0.5"),
                    price=Decimal(str(ticker.bid)),
                )
            )
            rig.step(2)
            await frame(rig, pilot)
            await frame(rig, pilot)
            ladder = rig.app.query_one(Ladder)
            plain = ladder.render().plain
            assert "◀" in plain, plain  # the own order is marked on its level
            summary_first = "spread" in plain.splitlines()[0]  # side by side (80x24); stacked: the header
            assert summary_first is (size == (80, 24)), plain
            assert _drawn(ladder) == _as_text_draws(ladder)
            rig.app.set_theme("tui-light" if "tui-light" in rig.app.available_themes else "textual-light")
            await frame(rig, pilot)
            assert _drawn(ladder) == _as_text_draws(ladder)


def _screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """What the terminal shows (the compositor's lines, cached ones included)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_panes_not_on_screen_catch_up_when_shown() -> None:
    """In the tabs layout only the tab in front is drawn; the watchlist and the book, left
    behind while prices moved, show the latest quote as soon as they are in front again."""
    rig = build_rig()
    async with rig.app.run_test(size=(100, 30)) as pilot:
        await rig.ready(pilot, steps=3)
        for key, other in (("watchlist", "positions"), ("book", "chart")):
            rig.app.action_show_pane(key)
            await frame(rig, pilot)
            rig.app.action_show_pane(other)
            await frame(rig, pilot)
            before = rig.app.snapshot.ticker("BTC/USDT")  # type: ignore[union-attr]
            for _ in range(8):  # prices move while the pane is behind another
                rig.clock.advance(5)
                rig.step()
                await frame(rig, pilot)
            after = rig.app.snapshot.ticker("BTC/USDT")  # type: ignore[union-attr]
            assert before is not None and after is not None and after.bid != before.bid
            rig.app.action_show_pane(key)
            await frame(rig, pilot)
            await pilot.pause()
            shown = _screen_text(rig.app)
            assert f"{after.bid:,.2f}" in shown, (key, after.bid, shown)


def _drawn_in(app, widget) -> list[str]:  # type: ignore[no-untyped-def]
    """The screen's lines where `widget` is."""
    r = widget.region
    lines = [strip.text for strip in app.screen._compositor.render_strips()]
    return [line[r.x : r.right] for line in lines[r.y : r.bottom]]


async def test_a_frame_shows_the_latest_of_the_ticks_since_the_last_one() -> None:
    """Several ticks between two frames: the watchlist and the book (both on screen in the grid)
    draw the latest quote."""
    rig = build_rig()
    async with rig.app.run_test(size=(160, 48)) as pilot:
        await rig.ready(pilot, steps=3)
        await frame(rig, pilot)
        ladder, watchlist = rig.app.query_one(Ladder), rig.app.query_one("#watchlist-table")
        bids = set()
        for _ in range(3):
            for _ in range(4):  # four ticks, one frame
                rig.clock.advance(2)
                rig.step()
            await frame(rig, pilot)
            latest = rig.app.snapshot.ticker("BTC/USDT")  # type: ignore[union-attr]
            assert latest is not None and latest == rig.engine.snapshot().ticker("BTC/USDT")
            bid, last = f"{latest.bid:,.2f}", f"{latest.last:,.2f}"
            bids.add(bid)
            row = next(line for line in _drawn_in(rig.app, watchlist) if "BTC/USDT" in line)
            assert last in row.split(), (last, row)  # the grid's watchlist shows last and change
            book = _drawn_in(rig.app, ladder)
            summary = next(i for i, line in enumerate(book) if "spread" in line)
            assert book[summary + 1].split()[0] == bid, (bid, book[summary + 1])  # the best bid
        assert len(bids) > 1  # the quote moved from frame to frame
