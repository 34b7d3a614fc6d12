"""The workstation's first screen is drawn from settings known without pydantic
(cli/settings_check.py): the [ui] defaults when nothing is set, else a forked child's check of
the whole settings. Each answer must be what `load_settings` gives, and each refusal its line."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui_trader.cli import settings_check
from tui_trader.cli.common import context
from tui_trader.cli.settings_check import FirstScreenSettings, SettingsCheck
from tui_trader.config.sections import STRATEGY_TIMEOUT_ENV
from tui_trader.config.settings import load_settings
from tui_trader.core.errors import ConfigError
from tui_trader.core.kept_code import ENV_CACHE_DIR

from process_env import child_env

GOOD = (
    '[ui]\ntheme = "tui-light"\nwatchlist = ["ETH/USDT"]\nquick_size = { "BTC/USDT" = "0.01" }\nrefresh_hz = 10\n'
    '[engine]\nstrategy_timeout_s = 7.5\n[venues.extra]\nkind = "paper"\n'
)
BAD = {
    "[ui]\nrefresh_hz = 500\n": "ui.refresh_hz",
    "[paper]\nsede = 1\n": "paper.sede: unknown setting",
    "[risk]\nmax_order_notional = -5\n": "risk.max_order_notional",
}


@pytest.fixture(autouse=True)
def _no_settings_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.upper().startswith("TUI_TRADER_") and k != ENV_CACHE_DIR]:
        monkeypatch.delenv(key)


def _ctx(home: Path, *, demo: bool = False):
    return context(argparse.Namespace(home=str(home), config=None, demo=demo), defer=True)


def test_nothing_set_draws_from_the_ui_defaults_without_a_child(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    check = SettingsCheck.start(ctx)
    assert check.pid == 0  # nothing to check: no child
    settings = check.settings(ctx)
    assert isinstance(settings, FirstScreenSettings)
    assert vars(settings.ui) == load_settings(ctx.config_file).ui.model_dump()
    assert settings.venues == {} and os.environ[STRATEGY_TIMEOUT_ENV] == "5.0"
    (tmp_path / "config.toml").write_text("# only comments\n")
    assert SettingsCheck.start(_ctx(tmp_path)).pid == 0


def test_a_config_is_checked_by_a_child_and_drawn_from_its_values(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(GOOD)
    ctx = _ctx(tmp_path)
    check = SettingsCheck.start(ctx)
    assert check.pid > 0
    settings = check.settings(ctx)
    whole = load_settings(ctx.config_file)
    assert isinstance(settings, FirstScreenSettings)
    assert vars(settings.ui) == whole.ui.model_dump() and settings.ui.theme == "tui-light"
    assert list(settings.venues) == list(whole.venues) == ["extra"]
    assert os.environ[STRATEGY_TIMEOUT_ENV] == "7.5"
    assert ctx._settings is None  # the whole settings not loaded yet: after the first paint
    assert settings.risk == whole.risk and ctx.settings.venues == whole.venues  # loaded on first use
    with pytest.raises(ProcessLookupError):
        os.kill(check.pid, 0)  # the child was reaped


def test_an_environment_override_is_checked_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUI_TRADER_UI__THEME", "tui-colorblind")
    ctx = _ctx(tmp_path)
    check = SettingsCheck.start(ctx)
    assert check.pid > 0 and check.settings(ctx).ui.theme == "tui-colorblind"
    monkeypatch.setenv("TUI_TRADER_UI__REFRESH_HZ", "0")
    with pytest.raises(ConfigError, match=r"ui\.refresh_hz"):
        SettingsCheck.start(_ctx(tmp_path)).settings(ctx)


@pytest.mark.parametrize("text", list(BAD))
def test_a_bad_config_is_refused_with_the_line_load_settings_gives(tmp_path: Path, text: str) -> None:
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(ConfigError) as direct:
        load_settings(tmp_path / "config.toml")
    ctx = _ctx(tmp_path)
    with pytest.raises(ConfigError) as checked:
        SettingsCheck.start(ctx).settings(ctx)
    assert str(checked.value) == str(direct.value) and BAD[text] in str(checked.value)
    with pytest.raises(ConfigError) as here:  # --debug: no child, the load's own traceback
        SettingsCheck.start(ctx, fork=False).settings(ctx)
    assert str(here.value) == str(direct.value)


def test_a_child_that_dies_without_answering_leaves_the_load_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.toml").write_text(GOOD)
    monkeypatch.setattr(settings_check, "_answer", lambda writer, ctx: os._exit(3))
    ctx = _ctx(tmp_path)
    settings = SettingsCheck.start(ctx).settings(ctx)
    assert settings is ctx.settings and settings.ui.theme == "tui-light"  # the whole settings, loaded here
    (tmp_path / "config.toml").write_text(next(iter(BAD)))
    ctx = _ctx(tmp_path)
    with pytest.raises(ConfigError, match=r"ui\.refresh_hz"):
        SettingsCheck.start(ctx).settings(ctx)


def test_the_demo_preset_reaches_the_engine_settings(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(GOOD)
    for config in (GOOD, ""):
        (tmp_path / "config.toml").write_text(config)
        ctx = _ctx(tmp_path, demo=True)
        settings = SettingsCheck.start(ctx).settings(ctx)
        assert {"demo_trend", "demo_dip"} <= set(settings.strategies) == set(ctx.settings.strategies)


def test_a_bare_workstation_refuses_a_bad_config_before_drawing(tmp_path: Path) -> None:
    """The whole command: one line, exit 1, nothing drawn (no terminal needed to refuse)."""
    (tmp_path / "config.toml").write_text("[ui]\nrefresh_hz = 500\n")
    env = child_env()
    done = subprocess.run(
        [sys.executable, "-m", "tui_trader.cli.main", "--home", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'config.toml'}: ui.refresh_hz: Input should be less than or equal to 60 (got 500)"
    ]
    assert not (tmp_path / "logs" / "tui.log").exists() or (tmp_path / "logs" / "tui.log").stat().st_size == 0


def test_the_collector_is_held_until_the_first_paint_and_given_back_whatever_happens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tui-trader` runs no garbage-collection passes while it starts (ui/heap.py); the app
    ends the hold after its first paint, and the command ends it even if no paint came."""
    import gc

    from tui_trader.cli.main import main
    from tui_trader.ui import heap
    from tui_trader.ui.app import WorkstationApp

    during: list[bool] = []
    monkeypatch.setattr(WorkstationApp, "run", lambda self, *a, **k: during.append(gc.isenabled()))
    assert gc.isenabled()
    assert main(["--home", str(tmp_path)]) == 0
    assert during == [False] and gc.isenabled()
    gc.disable()  # a caller that had it off keeps it off
    try:
        heap.hold_for_start()
        heap.end_start_hold()
        assert not gc.isenabled()
    finally:
        gc.enable()
