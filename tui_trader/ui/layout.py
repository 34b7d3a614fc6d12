"""Where the panes go: a grid on big terminals, tabs on small ones, chosen by `layout`
(auto/tabs/grid) and the terminal's size; number keys show a pane."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Container, Grid, Vertical
from textual.events import Resize
from textual.widgets import TabbedContent, TabPane

from tui_trader.ui.commandline import LAYOUTS
from tui_trader.ui.panes import MULTI_VENUE, PANES, ChartPane, Pane, WatchlistPane
from tui_trader.ui.panes.statusbar import StatusBar
from tui_trader.ui.workstation_state import WorkstationState

GRID_MIN = (160, 48)  # width, height for the rich grid in the "auto" layout


class Workspace(Container):
    """Holds the panes: a grid on big terminals, tabs on small ones. Recomposed on switch."""

    def __init__(self, workstation: LayoutMixin) -> None:
        super().__init__(id="workspace")
        self.workstation = workstation

    def compose(self) -> ComposeResult:
        panes = self.workstation.make_panes()
        multi = self.workstation.multi_venue
        if self.workstation.layout_mode == "grid":
            with Grid(id="grid"):
                yield panes["watchlist"]
                yield panes["chart"]
                if multi:
                    with Vertical(id="grid-book"):
                        yield panes["book"]
                        yield panes["venues"]
                else:
                    yield panes["book"]
                with Vertical(id="grid-left"):
                    yield panes["positions"]
                    yield panes["strategies"]
                yield panes["blotter"]
                with Vertical(id="grid-side"):
                    yield panes["risk"]
                    yield panes["signals"]
                    if multi:
                        yield panes["spreads"]
        else:
            with TabbedContent(id="tabs"):
                for i, cls in enumerate(PANES, start=1):
                    if cls.KEY in MULTI_VENUE and not multi:
                        continue
                    with TabPane(f"{i % 10} {cls.TAB}", id=f"tab-{cls.KEY}"):
                        yield panes[cls.KEY]


class LayoutMixin(WorkstationState):
    """Builds the panes, picks grid or tabs, and reports which panes are visible."""

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

    def _pick_layout(self, width: int, height: int) -> str:
        if self.layout_choice != "auto":
            return self.layout_choice
        return "grid" if width >= GRID_MIN[0] and height >= GRID_MIN[1] else "tabs"

    async def _apply_layout(self) -> None:
        mode = self._pick_layout(self.size.width, self.size.height)
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
            return list(self._panes.values())
        try:
            active = self.query_one("#tabs", TabbedContent).active
        except Exception:
            return []
        pane = self._panes.get(active.removeprefix("tab-"))
        return [pane] if pane is not None else []

    async def set_layout(self, layout: str) -> None:
        self.layout_choice = layout
        await self._apply_layout()
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
        if not pane.is_mounted:  # the Venues and Spreads panes with one venue
            self.notify(f"{pane.TITLE}: only with two or more venues ([venues.NAME] in config.toml)")
            return
        if self.layout_mode == "tabs":
            self.query_one("#tabs", TabbedContent).active = f"tab-{key}"
            self.refresh_now()
        pane.focus_main()
