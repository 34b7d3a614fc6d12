"""Where the panes go: a grid on big terminals, tabs on small ones, chosen by `layout`
(auto/tabs/grid) and the terminal's size; number keys show a pane."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical
from textual.events import Resize

from tui_trader.ui.panes import MULTI_VENUE, PANES, ChartPane, Pane, WatchlistPane
from tui_trader.ui.panes.statusbar import StatusBar
from tui_trader.ui.slot import Slot
from tui_trader.ui.vocabulary import LAYOUTS
from tui_trader.ui.workstation_state import WorkstationState

if TYPE_CHECKING:
    from textual.widgets import TabbedContent

GRID_MIN = (160, 48)  # width, height for the rich grid in the "auto" layout
GRID_FORCED_MIN = (140, 40)  # below this even `layout grid` shows tabs (and says why)


# In the grid, panes that share a slot as tabs (their number key brings them to the front).
SLOTS: dict[str, tuple[str, ...]] = {
    "slot-mid": ("blotter", "performance", "league"),
    "slot-right": ("risk", "signals", "tape", "spreads", "copy"),  # spreads with two or more venues
}


class Row(Horizontal):
    """A row of the workstation whose widgets cover it: Textual draws none of its own lines
    (`BLANK`), only its widgets'. It drew every line of each container in full under the
    widgets that covered them, ~0.1 ms of CPU a line: a third of the first frame's lines."""

    BLANK = True


class Column(Vertical):
    """A column whose panes cover it (see Row)."""

    BLANK = True


class Workspace(Container):
    """Holds the panes: a grid on big terminals, tabs on small ones. Recomposed on switch.

    The grid (160x48 and up): watchlist | chart | book on top; positions over strategies |
    orders & fills (tabbed with performance) | risk, signals and the tape (tabbed) below. The
    middle column takes the width left, so the orders show quantity, price, status and reason.
    With two or more venues the Venues pane sits under the book and Spreads is a tab beside
    the tape; with one they are not built (nothing to compare).
    """

    def __init__(self, workstation: LayoutMixin) -> None:
        super().__init__(id="workspace")
        self.workstation = workstation

    BLANK = True  # its rows or its tabs cover it (see Row)

    def compose(self) -> ComposeResult:
        panes = self.workstation.make_panes()
        # the first screen: a slot's panes behind its front tab are mounted after the first
        # paint (mount_deferred_panes): they are not seen until their number key is pressed
        deferred = self.workstation.deferred_panes = {}
        defer = not self.workstation.painted
        multi = self.workstation.multi_venue
        if not multi:
            panes = {k: p for k, p in panes.items() if k not in MULTI_VENUE}
        if self.workstation.layout_mode == "grid":
            # the rows straight in the workspace and a column of one pane is that pane: Textual
            # draws every container in full before its children over it (~20 % of the first
            # frame's lines were containers' lines that nobody saw)
            with Row(id="grid-top"):
                yield panes["watchlist"].set_classes("pane col-left")
                yield panes["chart"].set_classes("pane col-mid")
                if multi:
                    with Column(id="grid-book", classes="col-right"):
                        yield panes["book"]
                        yield panes["venues"]
                else:
                    yield panes["book"].set_classes("pane col-right")
            with Row(id="grid-bottom"):
                with Column(id="grid-left", classes="col-left"):
                    yield panes["positions"]
                    yield panes["strategies"]
                yield from _slot("slot-mid", "col-mid", panes, deferred if defer else None)
                yield from _slot("slot-right", "col-right", panes, deferred if defer else None)
        else:
            from textual.widgets import TabbedContent, TabPane  # the grid's slots are not Textual's

            with TabbedContent(id="tabs"):
                for cls in PANES:
                    if cls.KEY not in panes:
                        continue
                    with TabPane(f"{_number(cls.KEY)} {cls.TAB}".strip(), id=f"tab-{cls.KEY}"):
                        yield panes[cls.KEY]


def _slot(
    slot_id: str, column: str, panes: dict[str, Pane], deferred: dict[str, tuple[Pane, Slot]] | None
) -> ComposeResult:
    """The slot's panes behind their tabs; with `deferred`, only the front one's pane (the others
    recorded as pane key -> (the pane, this slot), mounted after the first paint)."""
    keys = [key for key in SLOTS[slot_id] if key in panes]
    labels = {key: f"{_number(key)} {type(panes[key]).TAB}" for key in keys}
    later = keys[1:] if deferred is not None else []
    shown = [panes[key] for key in keys if key not in later]
    slot = Slot(labels, *shown, id=slot_id, classes=f"{column} slot")
    if deferred is not None:
        deferred.update({key: (panes[key], slot) for key in later})
    yield slot


def _number(key: str) -> str:
    """The key that shows a pane: 1..9, then 0, then the letter keys of the multi-venue panes."""
    for i, cls in enumerate(PANES[:10], start=1):
        if key == cls.KEY:
            return str(i % 10)
    return PANE_LETTERS.get(key, "")


PANE_LETTERS = {"venues": "v", "spreads": "V", "copy": "F8", "league": "F9"}  # the panes after the tenth


class LayoutMixin(WorkstationState):
    """Builds the panes, picks grid or tabs, and reports which panes are visible."""

    painted = False  # the first screen was drawn (panes composed later are mounted at once)
    deferred_panes: dict[str, tuple[Pane, Slot]]  # pane key -> the pane and the slot it goes in

    async def mount_deferred_panes(self) -> None:
        """After the first paint: the panes behind the grid's front tabs (Workspace.compose).

        The panes and slots are the ones composed together: the workspace recomposed meanwhile
        (the first snapshot's venues differ from the configuration's), its new slots hold all
        their panes and the old ones are removed, so nothing is mounted (a pane looked up by its
        key then was the new screen's, mounted a second time while it was mounting)."""
        self.painted = True
        deferred, self.deferred_panes = getattr(self, "deferred_panes", {}), {}
        for pane, slot in deferred.values():
            if slot.is_attached and pane.parent is None:
                await slot.add(pane)

    def make_panes(self) -> dict[str, Pane]:
        self._built_multi = self.multi_venue
        panes: dict[str, Pane] = {}
        for cls in PANES:
            if cls is WatchlistPane:
                edited = self.desk.watchlist if self.desk.watchlist is not None else self.ui.watchlist or None
                shown = [s.upper() for s in edited] if edited is not None else None
                pane: Pane = WatchlistPane(shown, self.ui.flash_ms)
            elif cls is ChartPane:
                pane = ChartPane(self.client.candles, self.ui.chart_refresh_s)
            else:
                pane = cls()
            panes[cls.KEY] = pane
        self._panes = panes
        return panes

    layout_note = ""  # why the layout shown is not the one chosen ("" when it is)

    def _pick_layout(self, width: int, height: int) -> str:
        self.layout_note = ""
        if self.layout_choice == "grid" and width and (width < GRID_FORCED_MIN[0] or height < GRID_FORCED_MIN[1]):
            w, h = GRID_FORCED_MIN
            self.layout_note = f"the grid needs at least {w}x{h} and this terminal is {width}x{height}: showing tabs"
            return "tabs"
        if self.layout_choice != "auto":
            return self.layout_choice
        return "grid" if width >= GRID_MIN[0] and height >= GRID_MIN[1] else "tabs"

    async def _apply_layout(self) -> None:
        mode = self._pick_layout(self.size.width, self.size.height)
        if self.layout_note:
            self.query_one(StatusBar).say(self.layout_note, self.palette.warning)
        if mode == self.layout_mode:
            return
        self.layout_mode = mode
        self.screen.set_class(mode == "grid", "-grid")
        await self.query_one(Workspace).recompose()
        self.refresh_now()

    async def on_resize(self, event: Resize) -> None:
        await self._apply_layout()

    @property
    def multi_venue(self) -> bool:
        """Two or more venues run: the Venues and Spreads panes have something to show. Before
        the first snapshot, the configuration says."""
        if self.snapshot is not None:
            return len(self.snapshot.venues) > 1
        return bool(getattr(getattr(self, "settings", None), "venues", None))

    async def follow_venues(self) -> None:
        """Recompose when the venues running differ from what the panes were built for."""
        if self.multi_venue != getattr(self, "_built_multi", self.multi_venue):
            await self.query_one(Workspace).recompose()
            self.refresh_now()

    def visible_panes(self) -> list[Pane]:
        if self.layout_mode == "grid":
            hidden: set[str] = set()
            for slot, keys in SLOTS.items():
                try:
                    front = self.query_one(f"#{slot}", Slot).active
                except Exception:
                    front = keys[0]
                hidden |= {k for k in keys if k != front}
            return [p for k, p in self._panes.items() if k not in hidden and p.is_mounted]
        try:
            active = self._tabs().active
        except Exception:
            return []
        pane = self._panes.get(active.removeprefix("tab-"))
        return [pane] if pane is not None else []

    def _tabs(self) -> TabbedContent:
        """The tabs of the small terminals' layout."""
        from textual.widgets import TabbedContent

        return self.query_one("#tabs", TabbedContent)

    async def _show_deferred(self, key: str) -> None:
        await self.mount_deferred_panes()  # or, under way already, it returns at once: wait (~ms)
        for _ in range(100):
            pane = self._panes.get(key)
            if pane is None or pane.is_mounted:
                break
            await asyncio.sleep(0.01)
        self.action_show_pane(key)

    async def set_layout(self, layout: str) -> None:
        self.layout_choice = layout
        await self._apply_layout()
        if self.layout_note:
            self.notify(self.layout_note, severity="warning")
        else:
            self.query_one(StatusBar).say(f"layout {layout} ({self.layout_mode})")

    def action_next_layout(self) -> None:
        following = LAYOUTS[(LAYOUTS.index(self.layout_choice) + 1) % len(LAYOUTS)]
        self.run_worker(self.set_layout(following), group="layout")

    def action_maximize_pane(self) -> None:
        """z: the focused pane alone on the screen (z or Esc again brings the others back)."""
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        focused = self.focused
        pane = next((p for p in self._panes.values() if focused is not None and p in focused.ancestors_with_self), None)
        if pane is None:
            self.notify("focus a pane first (its number key)", severity="warning")
            return
        screen.maximize(pane, container=False)

    def action_show_pane(self, key: str) -> None:
        pane = self._panes.get(key)
        if pane is None:
            return
        if key in getattr(self, "deferred_panes", {}):  # asked for in the first moments
            self.run_worker(self._show_deferred(key), group="layout")
            return
        if not pane.is_mounted:  # the Venues and Spreads panes with one venue
            self.notify(f"{pane.TITLE}: only with two or more venues ([venues.NAME] in config.toml)")
            return
        if self.layout_mode == "tabs":
            self._tabs().active = f"tab-{key}"
            self.refresh_now()
        else:
            for slot, keys in SLOTS.items():
                if key in keys:
                    self.query_one(f"#{slot}", Slot).active = key
                    self.refresh_now()
        pane.focus_main()
