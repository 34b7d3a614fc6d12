"""The keys footer: one widget drawing the keys Textual's Footer draws as a widget each.

Textual's Footer is a container with a widget a key (eight on the workstation's screen, the
palette's among them): nine widgets of the first screen, ~5 % of the work before its first paint,
and each change of the keys shown (a focus change, a screen pushed or popped) built them all
again (10-70 ms with the full grid). This one draws the same line itself: each key as Textual's
FooterKey draws it (the key, then its description, in the footer's colours), the command
palette's key on the right behind a thin bar, a key under the mouse highlighted with its
tooltip shown; a press on a key presses it (a disabled one rings the bell). It redraws only
when the keys differ from those shown, and not while another screen covers it.

When the keys do not fit (the workstation's take 80 columns, 111 with the orders' two), they
give way in an order of importance instead of being cut at the right edge: the palette's key first,
then the timeframe, command line and quit keys, then the focused pane's own keys from the right,
then sell and buy. `?` (the key map, which lists every key) and the kill switch never give way,
and `?` then says how many keys are not shown (`? Keys +3`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

PALETTE_BAR = "▏"  # Textual draws the palette key's left border ("vkey") with it

# By binding id: the keys that give way first on a narrow terminal (in this order), the ones that
# give way last (after the focused pane's own keys, the rightmost first) and those that never do.
GIVE_WAY_FIRST = ("timeframe", "command_line", "quit")
GIVE_WAY_LAST = ("sell", "buy")
KEEP = ("help", "flatten")
HELP = "help"  # the key map's binding: it lists every key, so it says how many are not shown


@dataclass(frozen=True, slots=True)
class FooterItem:
    """One key as the footer shows it."""

    id: str | None  # the binding's id
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
        return FooterItem(
            binding.id, binding.key, self.app.get_key_display(binding), binding.description, enabled, tooltip
        )

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

    def _fitted(self, width: int) -> tuple[tuple[FooterItem, ...], bool]:
        """The keys shown in `width` cells, in their order, and whether the palette's key is:
        all of them when they fit; else the palette's key goes and then the least important
        keys (_give_way) until the rest fit, `?` counting the keys not shown."""
        items = self.items
        widths = [self._draw(item, compact=False).cell_len for item in items]
        palette = 0 if self.palette is None else len(PALETTE_BAR) + self._draw(self.palette, True).cell_len + 1
        if sum(widths) + palette <= width:
            return items, self.palette is not None
        shown = set(range(len(items)))
        for i in self._give_way():
            hint = len(f" +{len(items) - len(shown)}") if len(shown) < len(items) else 0
            if sum(widths[j] for j in shown) + hint <= width:
                break
            shown.discard(i)
        if len(shown) == len(items):
            return items, False
        hidden = [item.description for i, item in enumerate(items) if i not in shown]

        def hinted(item: FooterItem) -> FooterItem:
            if item.id != HELP:
                return item
            return replace(
                item,
                description=f"{item.description} +{len(hidden)}",
                tooltip=f"{item.tooltip} (not shown here: {', '.join(hidden)})",
            )

        return tuple(hinted(item) for i, item in enumerate(items) if i in shown), False

    def _give_way(self) -> list[int]:
        """The keys (their indices) in the order they give way on a narrow terminal."""
        items = self.items

        def turn(i: int) -> tuple[int, int]:
            name = items[i].id or ""
            if name in GIVE_WAY_FIRST:
                return 0, GIVE_WAY_FIRST.index(name)
            if name in GIVE_WAY_LAST:
                return 2, GIVE_WAY_LAST.index(name)
            return 1, -i  # the focused pane's own keys, the rightmost first

        return sorted((i for i, item in enumerate(items) if item.id not in KEEP), key=turn)

    def render(self) -> Text:
        width = self.size.width
        line = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        items, with_palette = self._fitted(width)
        for item in items:
            drawn = self._draw(item, compact=False)
            self._spans.append((line.cell_len, line.cell_len + drawn.cell_len, item))
            line.append_text(drawn)
        if self.palette is not None and with_palette:
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
