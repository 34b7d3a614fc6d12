"""Diffed DataTable updates (Dolphie's pattern): only changed cells are written.

Each cell is given as plain text or (text, style). The last rows are cached, so an unchanged
cell costs one tuple comparison and nothing is laid out again. Call inside `app.batch_update()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

from rich.text import Text
from textual.widgets import DataTable

Cell: TypeAlias = str | tuple[str, str]
Row: TypeAlias = Sequence[Cell]


def _render(cell: Cell, justify: str) -> Text:
    if isinstance(cell, tuple):
        return Text(cell[0], style=cell[1], justify=justify)  # type: ignore[arg-type]
    return Text(cell, justify=justify)  # type: ignore[arg-type]


class TableSync:
    """Keeps a DataTable equal to a dict of key -> cells, touching as little as possible."""

    def __init__(self, table: DataTable[Text], justify: Sequence[str]) -> None:
        self.table = table
        self.justify = list(justify)
        self.rows: dict[str, tuple[Cell, ...]] = {}
        self.cell_writes = 0  # for the benchmark and tests

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
            for col, (a, b) in enumerate(zip(old, new, strict=True)):
                if a != b:
                    table.update_cell(
                        key, columns[col], _render(b, self.justify[col]), update_width=False
                    )
                    self.cell_writes += 1
            self.rows[key] = new
            changed = True
        for key in added:
            new = tuple(rows[key])
            table.add_row(*(_render(c, j) for c, j in zip(new, self.justify, strict=True)), key=key)
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
            table.add_row(*(_render(c, j) for c, j in zip(new, self.justify, strict=True)), key=key)
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
