"""A widget drawn line by line from styled pieces, each line drawn again only when it changed.

A widget whose `render()` returns one Rich Text is drawn again whole on every refresh: Textual
turns the Text into its own Content, wraps it, and resolves the style of every span at every
position (~0.25 ms a line). The order book's ladder changed every frame at 1,000 messages a
second, so it cost ~6 ms a frame, the largest part of one.

Here the owner hands `show_lines` the lines as tuples of (text, style) pieces, the style a Rich
style string as `Text.append` takes. Only lines that differ from the last ones are marked
dirty, and a line is drawn by joining its pieces, each style resolved once through Textual's own
pipeline (the widget's base style under the piece's style, exactly as the Text would be drawn),
then cropped to the width (no wrapping). `as_text` gives the same lines as one Text (what the
widget shows, for tests and the clipboard-free reader); tests/ui/test_ui_lines.py checks that
both draw the same cells.

Text selection with the mouse is off for these widgets (the drawn segments carry no offsets).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

Piece: TypeAlias = tuple[str, str]  # text, Rich style string ("" for the widget's own style)
Line: TypeAlias = tuple[Piece, ...]


def as_text(lines: Sequence[Line]) -> Text:
    """The lines as one Rich Text (no wrapping, cropped), as a `render()` would return them."""
    text = Text(no_wrap=True, overflow="crop")
    for y, line in enumerate(lines):
        if y:
            text.append("\n")
        for piece, style in line:
            text.append(piece, style=style)
    return text


class LinesWidget(Widget):
    """Subclasses compute their lines (for `self.size`) and hand them to `show_lines`."""

    ALLOW_SELECT = False

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: list[Line] = []
        self._strips: dict[int, Strip] = {}  # y -> the drawn line, for the key below
        self._styles: dict[str, Style] = {}  # style string -> the style Textual draws it with
        self._drawn_for: tuple[object, ...] = ()  # (width, base style) the caches hold

    @property
    def lines(self) -> list[Line]:
        return self._lines

    def show_lines(self, lines: Sequence[Line]) -> None:
        """Show `lines`; only the lines that changed are drawn again."""
        old, new = self._lines, list(lines)
        self._lines = new
        if len(old) != len(new):
            self._strips.clear()
            self.refresh()
            return
        changed = [y for y in range(len(new)) if old[y] != new[y]]
        if not changed:
            return
        strips = self._strips
        for y in changed:
            strips.pop(y, None)
        first, last = changed[0], changed[-1]
        self.refresh(Region(0, first, max(1, self.size.width), last - first + 1))

    def render(self) -> Text:
        """The lines as one Text (what is shown); drawing goes through render_line."""
        return as_text(self._lines)

    def notify_style_update(self) -> None:
        self._drawn_for = ()
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.visual_style
        drawn_for = (width, base)
        if drawn_for != self._drawn_for:
            self._drawn_for = drawn_for
            self._strips.clear()
            self._styles.clear()
        strip = self._strips.get(y)
        if strip is None:
            if y < len(self._lines):
                style = self._style
                segments = [Segment(piece, style(s)) for piece, s in self._lines[y] if piece]
                strip = Strip(segments).crop(0, width)
            else:
                strip = Strip.blank(width, base.rich_style)
            self._strips[y] = strip
        return strip

    def _style(self, style: str) -> Style:
        """The style a piece is drawn with: Textual's own rendering of one cell in it."""
        resolved = self._styles.get(style)
        if resolved is None:
            one = Text()
            one.append("x", style=style)
            strips = Visual.to_strips(self, visualize(self, one), 1, 1, self.visual_style)
            segment = next((s for s in strips[0] if s.text), None) if strips else None
            resolved = (segment.style or Style()) if segment is not None else Style()
            resolved = resolved.clear_meta_and_links()
            self._styles[style] = resolved
        return resolved
