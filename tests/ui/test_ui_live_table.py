"""LiveTable: a DataTable that draws again only the cells that changed, and draws exactly what
Textual's DataTable draws (same text, same styles) through updates, a moved cursor, removed and
re-ordered rows, narrower columns and a theme change."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widgets import DataTable

from tui_trader.ui.tables import FittedTable, LiveTable

COLUMNS = (("Symbol", 9, "left"), ("Bid", 10, "right"), ("Ask", 10, "right"), ("Chg%", 7, "right"))


def _rows(n: int, bump: int = 0) -> dict[str, list[str | tuple[str, str]]]:
    return {
        f"S{i:02d}": [
            f"S{i:02d}",
            f"{100 + i + (bump if i == 3 else 0):.2f}",
            f"{101 + i:.2f}",
            (f"{i - 5:+.1f}%", "green" if i > 5 else "red"),
        ]
        for i in range(n)
    }


class Alone(App[None]):
    def __init__(self, table: type[DataTable[Text]]) -> None:
        super().__init__()
        self.table_class = table

    def compose(self) -> ComposeResult:
        yield self.table_class(id="table", cursor_type="row")


def _lines(table: DataTable[Text]) -> list[list[tuple[str, object]]]:
    strips: list[Strip] = [table.render_line(y) for y in range(table.size.height)]
    return [[(seg.text, seg.style) for seg in strip] for strip in strips]


class Counting(LiveTable):
    drawn = 0

    def _render_cell(self, row_index, column_index, base_style, width, cursor=False, hover=False):  # type: ignore[no-untyped-def]
        before = self._live_cells.get((row_index, column_index))
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        if row_index >= 0 and column_index >= 0 and self._live_cells.get((row_index, column_index)) is not before:
            Counting.drawn += 1
        return lines


async def _draw(table_class: type[DataTable[Text]]) -> list[list[list[tuple[str, object]]]]:
    """What the table shows after each step: updates, a moved cursor, a removed row, a new
    order, narrower columns, another theme."""
    frames = []
    app = Alone(table_class)
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one("#table", DataTable)
        sync = FittedTable(table, COLUMNS)
        steps = [
            _rows(12),
            _rows(12, bump=1),  # one cell changes
            _rows(12, bump=2),
            _rows(12, bump=3),  # the cursor's row (below) changes
            _rows(12, bump=4),  # and again, the cursor moved off it
            {k: v for k, v in _rows(12, bump=2).items() if k != "S05"},  # a row goes
            dict(reversed(list(_rows(12).items()))),  # the order changes: rebuilt
        ]
        for step, rows in enumerate(steps):
            sync.fit()
            sync.sync(rows)
            if step == 2:
                table.move_cursor(row=4)
            if step == 3:
                table.move_cursor(row=3)
            if step == 4:
                table.move_cursor(row=5)
            await pilot.pause()
            frames.append(_lines(table))
        assert sync.fit(30)  # narrower: columns dropped
        await pilot.pause()
        frames.append(_lines(table))
        app.theme = "textual-light"
        await pilot.pause()
        frames.append(_lines(table))
    return frames


async def test_live_table_draws_what_datatable_draws() -> None:
    plain, live = await _draw(DataTable), await _draw(LiveTable)
    assert len(live) == len(plain) == 9
    for step, (a, b) in enumerate(zip(live, plain, strict=True)):
        assert a == b, f"step {step}"
    for step in range(1, 9):  # every step shows a change
        assert plain[step] != plain[step - 1], step


class One(App[None]):
    def compose(self) -> ComposeResult:
        yield Counting(id="live", cursor_type="row")


async def test_live_table_draws_only_the_changed_cell_again() -> None:
    app = One()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(Counting)
        sync = FittedTable(table, COLUMNS)
        sync.fit()
        sync.sync(_rows(10))
        await pilot.pause()
        _lines(table)
        Counting.drawn = 0
        sync.sync(_rows(10, bump=1))  # S03's bid only
        assert sync.cell_writes == 1
        dirty = list(table._repaint_regions)  # only S03's line is drawn again, not the table
        assert len(dirty) == 1 and dirty[0].height == 1 and dirty[0].y == table.header_height + 3, dirty
        await pilot.pause()
        _lines(table)
        assert Counting.drawn == 1
        Counting.drawn = 0
        sync.sync(_rows(9, bump=1))  # a row removed: the table changed, every cell again
        await pilot.pause()
        _lines(table)
        assert Counting.drawn >= 9 * len(COLUMNS)
