"""Diffed DataTable updates (Dolphie's pattern): only changed cells are written, and only
changed cells (and the lines of their rows) are drawn again.

Each cell is given as plain text or (text, style). The last rows are cached, so an unchanged
cell costs one tuple comparison and nothing is laid out again. Call inside `app.batch_update()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias, cast

from rich.style import Style
from rich.text import Text
from textual._types import SegmentLines
from textual.coordinate import Coordinate
from textual.css.styles import RenderStyles
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets._data_table import ColumnKey, RowKey

Cell: TypeAlias = str | tuple[str, str]
Row: TypeAlias = Sequence[Cell]


class LiveTable(DataTable[Text]):
    """A DataTable that draws again only the cells, and the rows, that changed.

    Textual's DataTable keys every cache on a counter that each `update_cell` bumps, so one new
    price made it draw every visible line again, re-format every row's cells and rebuild its
    line offsets (~5 ms a frame for a 20-row watchlist at 1,000 messages/s, the largest cost of
    a frame). Here `update_cell` leaves that counter alone: it bumps a version of its cell and
    of its row, and marks only that row's line for drawing. A cell's rendering, a row's
    rendering and a line are keyed on those versions too (the DataTable's own caches are
    consulted only for an entry made at the row's current version). Anything else that
    changes the table (rows added, removed, sorted, columns, widths, a resize, the theme)
    still bumps the counter and clears everything, as before. What is drawn is the same
    (tests/ui/test_ui_live_table.py compares it with a DataTable's).

    While one `render_lines` call draws the table, the table's style and its header's (which
    Textual works out from every ancestor's CSS, twice a line) are worked out once."""

    DRAWN_MAX = 4_000  # entries remembered per cache before all are forgotten (cursor moves, hovers)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cell_versions: dict[tuple[RowKey, ColumnKey], int] = {}
        self._row_versions: dict[RowKey, int] = {}
        # (row index, column index) -> (what it was drawn for, its lines): the latest only
        self._live_cells: dict[tuple[int, int], tuple[tuple[object, ...], SegmentLines]] = {}
        self._drawn_rows: dict[tuple[object, ...], int] = {}  # row cache key -> row version it holds
        self._drawn_lines: dict[tuple[object, ...], int] = {}  # line cache key -> row version
        self._live_generation = 0
        self._styles_this_pass: dict[str, _FixedStyles] | None = None  # only inside render_lines
        self._style_this_pass: Style | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        self._styles_this_pass = {}
        self._style_this_pass = None
        try:
            return super().render_lines(crop)
        finally:
            self._styles_this_pass = None
            self._style_this_pass = None

    @property
    def rich_style(self) -> Style:
        if self._styles_this_pass is None:
            return super().rich_style
        if self._style_this_pass is None:
            self._style_this_pass = super().rich_style
        return self._style_this_pass

    def get_component_styles(self, *names: str) -> RenderStyles:
        if self._styles_this_pass is None:
            return super().get_component_styles(*names)
        key = " ".join(names)
        styles = self._styles_this_pass.get(key)
        if styles is None:
            styles = self._styles_this_pass[key] = _FixedStyles(super().get_component_styles(*names))
        return cast(RenderStyles, styles)

    def update_cell(
        self, row_key: RowKey | str, column_key: ColumnKey | str, value: Text, *, update_width: bool = False
    ) -> None:
        row = RowKey(row_key) if isinstance(row_key, str) else row_key
        column = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        if update_width or row not in self._row_locations or column not in self._column_locations:
            # widths may change (a change of the whole table), or no such cell (Textual raises)
            super().update_cell(row_key, column_key, value, update_width=update_width)
            return
        if self.rows[row].auto_height:  # its height may change with its text: the whole table
            super().update_cell(row, column, value)
            return
        self._data[row][column] = value
        self._cell_versions[row, column] = self._cell_versions.get((row, column), 0) + 1
        self._row_versions[row] = self._row_versions.get(row, 0) + 1
        row_index = self._row_locations.get(row)
        assert row_index is not None  # checked above
        self._row_renderable_cache.discard((self._update_count, row_index))
        self.refresh_row(row_index)

    def _same_generation(self) -> None:
        """Forget the versions when the table changed as a whole (its counter moved)."""
        if self._update_count != self._live_generation:
            self._live_generation = self._update_count
            self._cell_versions.clear()
            self._row_versions.clear()
            self._live_cells.clear()
            self._drawn_rows.clear()
            self._drawn_lines.clear()

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._live_cells.clear()
        self._drawn_rows.clear()
        self._drawn_lines.clear()

    def notify_style_update(self) -> None:
        self._live_cells.clear()
        super().notify_style_update()

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        self._same_generation()
        try:
            row_key, _ = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        key = (
            y,
            x1,
            x2,
            self.size.width,
            self.cursor_coordinate,
            self.hover_coordinate,
            base_style,
            self.cursor_type,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )  # as DataTable._render_line keys its line cache
        _forget_stale(self._drawn_lines, self._line_cache, key, self._row_versions.get(row_key, 0))
        return super()._render_line(y, x1, x2, base_style)

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[SegmentLines, SegmentLines]:
        self._same_generation()
        key = (
            row_key,
            line_no,
            base_style,
            cursor_location,
            hover_location,
            self.cursor_type,
            self.show_cursor,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )  # as DataTable._render_line_in_row keys its row cache
        _forget_stale(self._drawn_rows, self._row_render_cache, key, self._row_versions.get(row_key, 0))
        return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        if row_index < 0 or column_index < 0:  # the header and row labels: as Textual does
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        self._same_generation()
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        assert row_key is not None and column_key is not None  # a cell on screen
        key = (
            self._cell_versions.get((row_key, column_key), 0),
            base_style,
            width,
            cursor,
            hover,
            self._show_hover_cursor,
            self.show_cursor,
            self._pseudo_class_state,
        )
        cell = (row_index, column_index)
        drawn = self._live_cells.get(cell)
        if drawn is not None and drawn[0] == key:
            return drawn[1]
        # DataTable's own cell cache is keyed without the cell's version: drop its entry first
        self._cell_render_cache.discard(
            (
                row_key,
                column_key,
                base_style,
                cursor,
                hover,
                self._show_hover_cursor,
                self._update_count,
                self._pseudo_class_state,
            )
        )
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        self._live_cells[cell] = (key, lines)
        return lines


def _forget_stale(drawn: dict[tuple[object, ...], int], cache: Any, key: tuple[object, ...], version: int) -> None:
    """Drop `cache`'s entry for `key` unless it was made for the row's current `version`."""
    if drawn.get(key, 0) != version:
        cache.discard(key)
    if len(drawn) >= LiveTable.DRAWN_MAX and key not in drawn:
        drawn.clear()
        cache.clear()
    drawn[key] = version


class _FixedStyles:
    """A component's styles whose rich_style is worked out once (one render pass)."""

    def __init__(self, styles: RenderStyles) -> None:
        self._styles = styles
        self.rich_style = styles.rich_style

    def __getattr__(self, name: str) -> Any:
        return getattr(self._styles, name)


def _render(cell: Cell, justify: str) -> Text:
    if isinstance(cell, tuple):
        return Text(cell[0], style=cell[1], justify=justify)  # type: ignore[arg-type]
    return Text(cell, justify=justify)  # type: ignore[arg-type]


class TableSync:
    """Keeps a DataTable equal to a dict of key -> cells, touching as little as possible."""

    def __init__(self, table: DataTable[Text], justify: Sequence[str]) -> None:
        self.table = table
        self.justify = list(justify)
        self.rows: dict[str, tuple[Cell, ...]] = {}  # every column's cell, shown or not
        self.shown: list[int] = list(range(len(self.justify)))  # the columns on screen, in order
        self.cell_writes = 0  # for the benchmark and tests

    def _cells(self, cells: tuple[Cell, ...]) -> list[Text]:
        return [_render(cells[i], self.justify[i]) for i in self.shown]

    def sync(self, rows: Mapping[str, Row]) -> bool:
        """Apply `rows` (in display order). True when anything changed."""
        table = self.table
        columns = list(table.columns)
        new_keys = list(rows)
        old_keys = list(self.rows)
        stale = [k for k in old_keys if k not in rows]
        kept = [k for k in old_keys if k in rows]
        added = [k for k in new_keys if k not in self.rows]
        order_ok = kept == [k for k in new_keys if k in self.rows] and new_keys[: len(kept)] == kept
        if (stale and len(stale) * 2 > len(old_keys)) or not order_ok:
            return self._rebuild(rows)
        changed = bool(stale or added)
        for key in stale:
            table.remove_row(key)
            del self.rows[key]
        for key in kept:
            new = tuple(rows[key])
            old = self.rows[key]
            if new == old:
                continue
            for pos, col in enumerate(self.shown):
                if old[col] != new[col]:
                    table.update_cell(key, columns[pos], _render(new[col], self.justify[col]), update_width=False)
                    self.cell_writes += 1
            self.rows[key] = new
            changed = True
        for key in added:
            new = tuple(rows[key])
            table.add_row(*self._cells(new), key=key)
            self.rows[key] = new
        return changed

    def _rebuild(self, rows: Mapping[str, Row]) -> bool:
        """Most rows went stale or the order changed: clear and re-add, keeping the cursor's row."""
        table = self.table
        selected = self.selected_key()
        table.clear()
        self.rows = {}
        for key, cells in rows.items():
            new = tuple(cells)
            table.add_row(*self._cells(new), key=key)
            self.rows[key] = new
        if selected in self.rows:
            table.move_cursor(row=list(self.rows).index(selected), animate=False)
        return True

    def selected_key(self) -> str | None:
        table = self.table
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return key


ColumnSpec: TypeAlias = tuple[str, int, str]  # label, width, justify: as the panes declare them
FLEX_MIN = 8


class FittedTable(TableSync):
    """A TableSync whose columns fit the table's width (no horizontal scrollbar, ever).

    Columns named in `drop` go first, in that order, then others from the right (the first
    column always stays); the `flex` column takes whatever width is left, so a reason or a
    message is as long as the pane allows. Rows are given with every column's cell; the ones
    not shown are skipped. Call `fit` before `sync` (cheap when the width has not changed)."""

    def __init__(
        self,
        table: DataTable[Text],
        columns: Sequence[ColumnSpec],
        *,
        drop: Sequence[str] = (),
        flex: str | None = None,
    ) -> None:
        super().__init__(table, [c[2] for c in columns])
        # Its columns fit: a horizontal scrollbar would only show before the first fit (the
        # first screen's), and Textual would build, lay out and draw it, then take it away.
        table.styles.overflow_x = "hidden"
        self.columns = list(columns)
        self.drop = list(drop)
        self.flex = flex
        self.width = -1
        self._layout: tuple[tuple[int, int], ...] = ()
        for label, width, _ in columns:
            table.add_column(label, key=label.lower(), width=width)
        self._layout = tuple((i, w) for i, (_, w, _) in enumerate(columns))

    def fit(self, width: int | None = None) -> bool:
        """Choose the columns for `width` (default: the table's); True when they changed."""
        width = (self.table.size.width - 1) if width is None else width  # one cell for a scrollbar
        if width <= 0 or width == self.width:
            return False
        self.width = width
        pad = 2 * self.table.cell_padding
        chosen = list(range(len(self.columns)))
        by_label = {label: i for i, (label, _, _) in enumerate(self.columns)}

        def need(cols: list[int]) -> int:
            return sum((FLEX_MIN if self.columns[i][0] == self.flex else self.columns[i][1]) + pad for i in cols)

        for label in self.drop:
            if need(chosen) <= width:
                break
            if by_label.get(label) in chosen:
                chosen.remove(by_label[label])
        while need(chosen) > width and len(chosen) > 1:
            victims = [i for i in chosen[1:] if self.columns[i][0] != self.flex] or chosen[1:]
            chosen.remove(victims[-1])
        widths = []
        rest = width - need([i for i in chosen if self.columns[i][0] != self.flex])
        for i in chosen:
            label, w, _ = self.columns[i]
            widths.append((i, max(FLEX_MIN, rest - pad) if label == self.flex else w))
        layout = tuple(widths)
        if layout == self._layout:
            return False
        self._layout = layout
        self.shown = chosen
        table = self.table
        selected = self.selected_key()
        table.clear(columns=True)
        for i, w in layout:
            label = self.columns[i][0]
            table.add_column(label, key=label.lower(), width=w)
        rows = self.rows
        self.rows = {}
        for key, cells in rows.items():  # the same rows, with the new columns
            table.add_row(*self._cells(cells), key=key)
            self.rows[key] = cells
        if selected in self.rows:
            table.move_cursor(row=list(self.rows).index(selected), animate=False)
        return True
