"""A slot of the grid: panes that share one place, a tab bar over the one in front.

Textual's TabbedContent is seven widgets and two more a tab (itself, its tab bar, the bar's
scroll, list, list bar and underline, the switcher; a tab and a page each): the grid's two slots
were 28 of the first screen's 76 widgets, each mounted, styled and drawn before the first paint.
A slot here is itself, its tab bar (one widget, drawn as Textual's tabs look, underline included)
and its panes, the ones behind hidden. (The small terminals' tabs layout keeps Textual's.)
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Size
from textual.renderables.bar import Bar
from textual.widget import Widget

from tui_trader.ui.panes.base import Pane

TAB_GAP = 1  # cells between two tabs' labels


class SlotTabs(Widget, can_focus=True):
    """The slot's tab bar: the labels on one line, the active one's underline on the next. Left
    and right (while it has the keyboard) and a click pick a tab, as Textual's Tabs do."""

    DEFAULT_CSS = """
    SlotTabs {
        width: 1fr;
        height: 2;
        & > .slot-tabs--tab { color: $foreground 50%; }
        & > .slot-tabs--hover { color: $foreground; }
        & > .slot-tabs--active { color: $foreground; }
        & > .underline--bar { color: $block-cursor-background; background: $foreground 10%; }
        &:focus {
            & > .underline--bar { background: $foreground 30%; }
            & > .slot-tabs--active {
                text-style: $block-cursor-text-style;
                color: $block-cursor-foreground;
                background: $block-cursor-background;
            }
        }
        &:ansi {
            & > .slot-tabs--tab { text-style: dim; }
            & > .slot-tabs--active { text-style: not dim bold; }
            & > .underline--bar { color: $block-cursor-background; background: $border-blurred; }
        }
    }
    """
    COMPONENT_CLASSES = {"slot-tabs--tab", "slot-tabs--hover", "slot-tabs--active", "underline--bar"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Previous tab", show=False),
        Binding("right", "step(1)", "Next tab", show=False),
    ]
    ALLOW_SELECT = False

    def __init__(self, labels: dict[str, str]) -> None:
        super().__init__()
        self.labels = labels  # pane key -> its tab's label, in the bar's order
        self._hover: str | None = None

    @property
    def slot(self) -> Slot:
        parent = self.parent
        assert isinstance(parent, Slot)
        return parent

    def spans(self) -> dict[str, tuple[int, int]]:
        """Each tab's columns in the bar: pane key -> (start, end)."""
        out, x = {}, 0
        for key, label in self.labels.items():
            out[key] = (x, x + len(label))
            x += len(label) + TAB_GAP
        return out

    def render(self) -> RenderableType:
        active = self.slot.active
        line = Text(no_wrap=True, overflow="crop")
        for i, (key, label) in enumerate(self.labels.items()):
            if i:
                line.append(" " * TAB_GAP)
            kind = "active" if key == active else "hover" if key == self._hover else "tab"
            line.append(label, self.get_component_rich_style("slot-tabs--tab", f"slot-tabs--{kind}"))
        bar = self.get_component_rich_style("underline--bar")
        start, end = self.spans().get(active, (0, 0))
        return Group(
            line,
            Bar((start, end), Style.from_color(bar.color), Style.from_color(bar.bgcolor)),
        )

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 2

    def _tab_at(self, x: int) -> str | None:
        return next((key for key, (start, end) in self.spans().items() if start <= x < end), None)

    def on_click(self, event: events.Click) -> None:
        key = self._tab_at(event.x)
        if key is not None:
            self.slot.active = key

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hover = self._tab_at(event.x) if event.y == 0 else None
        if hover != self._hover:
            self._hover = hover
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def action_step(self, step: int) -> None:
        keys = list(self.labels)
        self.slot.active = keys[(keys.index(self.slot.active) + step) % len(keys)]


class Slot(Vertical):
    """Panes sharing one place of the grid, the one in front shown (`active`: its key). A pane
    may be added after the slot is mounted (`add`): its tab is in the bar from the start."""

    BLANK = True  # the bar and the pane in front cover it: Textual draws none of its own lines

    def __init__(self, labels: dict[str, str], *panes: Pane, id: str, classes: str) -> None:
        self._active = panes[0].KEY  # the first in front
        for pane in panes[1:]:
            pane.display = False
        self.tabs = SlotTabs(labels)
        super().__init__(self.tabs, *panes, id=id, classes=classes)

    @property
    def active(self) -> str:
        return self._active

    @active.setter
    def active(self, key: str) -> None:
        if key == self._active or key not in self.tabs.labels:
            return
        self._active = key
        for pane in self.query_children(Pane):
            pane.display = key == pane.KEY
        self.tabs.refresh()

    async def add(self, pane: Pane) -> None:
        """Mount a pane of this slot (one whose tab was shown without it)."""
        pane.display = self._active == pane.KEY
        await self.mount(pane)
