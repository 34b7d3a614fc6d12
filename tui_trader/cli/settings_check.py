"""The settings the workstation's first screen is drawn from, without loading pydantic first.

`tui-trader` must draw its first screen quickly (DESIGN.md: < 0.5 s) and loading the whole
settings (pydantic, pydantic-settings and every section's model) takes ~0.15 s of CPU, a third
of that. The screen needs only the `[ui]` values and whether more than one venue is configured;
the engine, built after the first paint, needs the whole `Settings`. So:

- nothing to check (no config file, or one that sets nothing, and no `TUI_TRADER_*` variable):
  the screen is drawn from the `[ui]` defaults (`config.defaults`, checked against the model by
  tests) and the whole settings load when the engine is built.
- something to check: a forked child loads and validates the whole settings exactly as
  `load_settings` always has, while this process imports Textual and the screens (on the other
  core when it is free). This process waits for the child's answer before it takes the home's
  lock, opens the log or draws anything. Valid: the child sends the `[ui]` values, the venues'
  names and `[engine]`'s strategy deadline. Invalid: it sends the `ConfigError`, raised here:
  the same one line, the same exit status, nothing drawn or changed, as before. No usable
  answer (the child died, or its error does not pickle): the settings are loaded here, as
  before this existed, and that load raises or returns what it does.
- with `--debug` (a traceback from where an error is raised) or where `os.fork` does not exist
  and there is something to check: loaded here, before the screen, as before.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from tui_trader.core.errors import UserError

if TYPE_CHECKING:
    from tui_trader.cli.common import Context
    from tui_trader.config.settings import Settings


class FirstScreenSettings:
    """The settings as the first screen reads them: `ui` (every `[ui]` value, as attributes) and
    `venues` as checked; any other section is the whole `Settings`, loaded by `full` on first
    use (after the first paint: the engine's build)."""

    def __init__(self, ui: dict[str, Any], venues: list[str], full: Callable[[], Settings]) -> None:
        self.ui = SimpleNamespace(**ui)
        self._venue_names = venues
        self._full = full

    @property
    def venues(self) -> dict[str, Any]:
        """The configured venues' names (each mapped to None: the first screen asks only how
        many there are; the engine reads the whole settings' own)."""
        return dict.fromkeys(self._venue_names)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._full(), name)


class SettingsCheck:
    """Where the first screen's settings come from: `values` known at once (nothing to check),
    a forked child's answer (`pid`, `reader`), or neither (load them here)."""

    def __init__(self, values: dict[str, Any] | None = None, pid: int = 0, reader: int = -1) -> None:
        self._values = values
        self.pid = pid
        self._reader = reader

    @classmethod
    def start(cls, ctx: Context, *, fork: bool = True) -> SettingsCheck:
        from tui_trader.config.sections import env_overrides, read_toml

        if not env_overrides() and not read_toml(ctx.config_file):  # nothing set: the defaults
            from tui_trader.config.defaults import plain_default

            ui = vars(plain_default("ui"))
            timeout = plain_default("engine").strategy_timeout_s
            return cls({"ui": ui, "venues": [], "strategy_timeout_s": timeout})
        if not fork or not hasattr(os, "fork"):
            return cls()
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: answer, then leave without running this process's exit handlers
            os.close(reader)
            try:
                _answer(writer, ctx)
            finally:
                os._exit(0)
        os.close(writer)
        return cls(pid=pid, reader=reader)

    def result(self) -> dict[str, Any] | None:
        """The values, or None when there are none (then load the settings here). Raises the
        `UserError` the child's load raised."""
        if self._reader < 0:
            return self._values
        chunks = []
        try:
            while chunk := os.read(self._reader, 65536):
                chunks.append(chunk)
        finally:
            os.close(self._reader)
            self._reader = -1
            os.waitpid(self.pid, 0)
        try:
            kind, value = pickle.loads(b"".join(chunks))
        except Exception:  # nothing, or cut short: the child died
            return None
        if kind == "error" and isinstance(value, UserError):
            raise value
        return value if kind == "ok" and isinstance(value, dict) else None

    def settings(self, ctx: Context) -> Any:
        """The settings to draw the first screen from (the values, else the whole settings
        loaded here, raising as `load_settings` does); sets the strategy deadline's variable
        for the processes the engine starts, as `context` does for other commands."""
        from tui_trader.config.sections import STRATEGY_TIMEOUT_ENV

        values = self.result()
        if values is None:
            settings = ctx.settings
            os.environ[STRATEGY_TIMEOUT_ENV] = str(settings.engine.strategy_timeout_s)
            return settings
        os.environ[STRATEGY_TIMEOUT_ENV] = str(values["strategy_timeout_s"])
        return FirstScreenSettings(values["ui"], values["venues"], lambda: ctx.settings)


def _answer(writer: int, ctx: Context) -> None:
    try:
        settings = ctx.settings
        answer: tuple[str, Any] = (
            "ok",
            {
                "ui": settings.ui.model_dump(),
                "venues": list(settings.venues),
                "strategy_timeout_s": settings.engine.strategy_timeout_s,
            },
        )
    except UserError as exc:
        answer = ("error", exc)
    except BaseException:  # a bug: this process loads the settings itself and shows it as before
        answer = ("crash", None)
    try:
        data = pickle.dumps(answer)
    except Exception:  # an error that does not pickle: this process finds it again itself
        data = pickle.dumps(("crash", None))
    view = memoryview(data)
    while view:
        view = view[os.write(writer, view) :]
    os.close(writer)
