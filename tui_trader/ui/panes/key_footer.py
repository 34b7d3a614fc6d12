"""The keys footer: one widget drawing the keys Textual's Footer draws as a widget each.

Textual's Footer is a container with a widget a key (eight on the workstation's screen, the
palette's among them): nine widgets of the first screen, ~5 % of the work before its first paint,
and each change of the keys shown (a focus change, a screen pushed or popped) built them all
again (10-70 ms with the full grid). This one draws the same line itself: each key as Textual's
FooterKey draws it (the key, then its description, in the footer's colours), the command
palette's key on the right behind a thin bar, a key under the mouse highlighted with its
tooltip shown; a press on a key presses it (a disabled one rings the bell). It redraws only
when the keys differ from those shown, and not while another screen covers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

PALETTE_BAR = "▏"  # Textual draws the palette key's left border ("vkey") with it


@dataclass(frozen=True, slots=True)
class FooterItem:
    """One key as the footer shows it."""

    key: str  # what pressing it simulates
    display: str  # how the key is written (^k for ctrl+k)
    description: str
    enabled: bool
    tooltip: str


class KeyFooter(Widget, can_focus=False):
    """The keys of the screen's active bindings shown in the footer, in one widget."""

    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-footer--item { background: $footer-item-background; }
        & > .key-footer--hover { color: $footer-key-foreground; background: $block-hover-background; }
        & > .key-footer--key { color: $footer-key-foreground; background: $footer-key-background; text-style: bold; }
        & > .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .key-footer--bar { color: $foreground 20%; }
    }
    """
    COMPONENT_CLASSES = {
        "key-footer--item",
        "key-footer--hover",
        "key-footer--key",
        "key-footer--description",
        "key-footer--bar",
    }
    ALLOW_SELECT = False

    def __init__(self) -> None:
        super().__init__()
        self.items: tuple[FooterItem, ...] = ()
        self.palette: FooterItem | None = None  # the command palette's key, drawn on the right
        self._spans: list[tuple[int, int, FooterItem]] = []  # where each item was drawn
        self._hover: FooterItem | None = None

    def on_mount(self) -> None:
        """The keys the screen has now, in the first frame (Textual's footer showed none until
        the screen's first bindings update, after the first paint)."""
        self.items, self.palette = self._keys()
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def _keys(self) -> tuple[tuple[FooterItem, ...], FooterItem | None]:
        """The shown bindings, one per action (as Textual's footer), and the palette's key."""
        app = self.app
        active = self.screen.active_bindings
        items: dict[str, FooterItem] = {}
        for _, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in items:
                items[binding.action] = self._item(binding, enabled, tooltip)
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _, binding, enabled, tooltip = active[app.COMMAND_PALETTE_BINDING]
            palette = self._item(binding, enabled, binding.tooltip or binding.description)
        return tuple(items.values()), palette

    def _item(self, binding: Binding, enabled: bool, tooltip: str) -> FooterItem:
        return FooterItem(binding.key, self.app.get_key_display(binding), binding.description, enabled, tooltip)

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """The screen's bindings may have changed: redraw if the keys did, while it is on top."""
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen or not screen.is_active:
            return
        keys = self._keys()
        if keys != (self.items, self.palette):
            self.items, self.palette = keys
            self.refresh()

    # -- drawing -----------------------------------------------------------------------------

    def _style(self, name: str, item: FooterItem) -> Style:
        """The key's or description's style over the item's (as a FooterKey's parts over the
        FooterKey: only what the part sets itself, transparent backgrounds left out)."""
        base = self.get_component_rich_style("key-footer--hover" if item == self._hover else "key-footer--item")
        style = base + self.get_component_rich_style(name, partial=True)
        return style + Style(dim=True) if not item.enabled else style

    def _draw(self, item: FooterItem, compact: bool) -> Text:
        """As Textual's FooterKey: ` key ` then `description `; compact (the palette's key):
        `key`, then ` description`."""
        key = item.display if compact else f" {item.display} "
        description = f" {item.description}" if compact else f"{item.description} "
        return Text.assemble(
            (key, self._style("key-footer--key", item)),
            (description if item.description else "", self._style("key-footer--description", item)),
        )

    def render(self) -> Text:
        width = self.size.width
        line = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        for item in self.items:
            drawn = self._draw(item, compact=False)
            self._spans.append((line.cell_len, line.cell_len + drawn.cell_len, item))
            line.append_text(drawn)
        if self.palette is not None:
            right = Text.assemble((PALETTE_BAR, self.get_component_rich_style("key-footer--bar")))
            right.append_text(self._draw(self.palette, compact=True))
            right.append(" ")  # the palette key's right padding
            start = max(line.cell_len, width - right.cell_len)
            line.append(" " * (start - line.cell_len))
            self._spans.append((start + 1, start + right.cell_len, self.palette))
            line.append_text(right)
        line.truncate(width)
        return line

    # -- the mouse ---------------------------------------------------------------------------

    def _item_at(self, x: int) -> FooterItem | None:
        return next((item for start, end, item in self._spans if start <= x < end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hover = self._item_at(event.x)
        if hover != self._hover:
            self._hover = hover
            self.tooltip = hover.tooltip if hover is not None and hover.tooltip else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        item = self._item_at(event.x)
        if item is None:
            return
        if item.enabled:
            self.app.simulate_key(item.key)
        else:
            self.app.bell()
