"""ctrl+p: a command-palette Provider offering every workstation action, built fresh from
the current state (open orders to cancel, symbols, timeframes, themes, layouts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

PaletteCommand = tuple[str, str, Callable[[], object]]  # title, help, callback


class OffersCommands(Protocol):
    def palette_commands(self) -> list[PaletteCommand]: ...


class WorkstationCommands(Provider):
    def _commands(self) -> list[PaletteCommand]:
        app = cast(OffersCommands, self.app)
        return app.palette_commands()

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
