"""Loading only some sections of the settings (`config.sections`, what `tui-trader backtest`
reads) gives what the whole `Settings` gives them, and refuses the same bad input."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import BaseModel

from tui_trader.cli.common import context
from tui_trader.config.defaults import PLAIN, plain_default
from tui_trader.config.sections import SECTION_MODELS, TOP_LEVEL_KEYS, load_sections
from tui_trader.config.settings import Settings, load_settings
from tui_trader.core.errors import ConfigError

CONFIGS = [
    "",
    "[engine]\nstrategy_timeout_s = 9.5\nbase_currency = \"EUR\"\n",
    '[risk]\nmax_drawdown = 0.2\n[risk.sizing]\nmode = "fixed_notional"\nnotional = 250.0\n'
    '[[risk.protections]]\nmethod = "CooldownPeriod"\nstop_duration_candles = 3\n'
    '[risk.strategies.ema_cross.sizing]\nmode = "percent_equity"\npercent = 0.5\n',
    '[ui]\ntheme = "tui-dark"\n[paper]\nseed = 3\n[venues.x]\nkind = "paper"\n',
]


@pytest.fixture(autouse=True)
def _no_settings_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.upper().startswith("TUI_TRADER_"):
            monkeypatch.delenv(key)


def test_every_top_level_key_and_model_section_is_the_settings_own() -> None:
    fields = Settings.model_fields
    aliases = {a for f in fields.values() for a in getattr(f.validation_alias, "choices", [])}
    assert set(fields) | aliases == TOP_LEVEL_KEYS
    for name, (module, cls) in SECTION_MODELS.items():
        assert fields[name].annotation.__module__ == module and fields[name].annotation.__name__ == cls


@pytest.mark.parametrize("text", CONFIGS)
def test_sections_equal_the_whole_settings(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    whole = load_settings(path)
    alone = load_sections(path, tuple(SECTION_MODELS))
    assert alone is not None
    for name, value in alone.items():
        assert _plain(value) == getattr(whole, name).model_dump(), name
    missing = load_sections(tmp_path / "missing.toml", ("risk",))
    assert missing is not None and _plain(missing["risk"]) == load_settings(None).risk.model_dump()


def test_an_environment_override_is_read_as_the_whole_settings_read_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "h"
    home.mkdir()
    (home / "config.toml").write_text("[risk.sizing]\npercent = 0.1\n")
    args = argparse.Namespace(home=str(home))
    assert context(args, sections=("risk",)).section("risk").sizing.percent == 0.1
    monkeypatch.setenv("TUI_TRADER_RISK__SIZING__PERCENT", "0.3")
    assert load_sections(home / "config.toml", ("risk",)) is None
    assert context(args, sections=("risk",)).section("risk").sizing.percent == 0.3
    monkeypatch.delenv("TUI_TRADER_RISK__SIZING__PERCENT")
    monkeypatch.setenv("tui_trader_engine__strategy_timeout_s", "7")  # any case, as pydantic-settings
    assert context(args, sections=("risk",)).section("engine").strategy_timeout_s == 7.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[risk]\nmax_order_notional = -5\n", "risk.max_order_notional: Input should be greater than 0 (got -5)"),
        ("[risk.sizing]\nmod = 1\n", "risk.sizing.mod: unknown setting"),
        ("[riks]\nmax_drawdown = 0.1\n", "riks: unknown setting"),
        ("[engine]\nstrategy_timeout_s = 0\n", "engine.strategy_timeout_s"),
        ("[risk\nx=1", "not valid TOML"),
    ],
)
def test_bad_input_is_the_same_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as alone:
        load_sections(path, ("engine", "risk"))
    with pytest.raises(ConfigError) as whole:
        load_settings(path)
    assert expected in str(alone.value) and str(alone.value) == str(whole.value)


def _plain(value: object) -> object:
    """A section as plain values, whichever form it was loaded in."""
    if isinstance(value, SimpleNamespace):
        return {k: _plain(v) for k, v in vars(value).items()}
    return value.model_dump() if isinstance(value, BaseModel) else value


def test_the_plain_defaults_are_the_models_defaults() -> None:
    from tui_trader.config.engine import EngineSettings
    from tui_trader.config.risk import RiskSettings

    assert _plain(plain_default("engine")) == EngineSettings().model_dump()
    assert _plain(plain_default("risk")) == RiskSettings().model_dump()
    from tui_trader.config.ui import UISettings

    assert _plain(plain_default("ui")) == UISettings().model_dump()
    assert set(PLAIN) <= set(SECTION_MODELS)
    first, again = plain_default("risk"), plain_default("risk")
    assert first.protections is not again.protections and first.sizing is not again.sizing


def test_a_section_the_file_sets_is_the_model_one_it_leaves_out_the_plain_defaults(tmp_path: Path) -> None:
    from tui_trader.config.risk import RiskSettings

    path = tmp_path / "config.toml"
    path.write_text("[risk]\nmax_drawdown = 0.2\n")
    found = load_sections(path, ("engine", "risk"))
    assert found is not None
    assert isinstance(found["risk"], RiskSettings) and found["risk"].max_drawdown == 0.2
    assert isinstance(found["engine"], SimpleNamespace) and found["engine"].strategy_timeout_s == 5.0


def test_backtest_command_loads_no_settings_machinery_it_does_not_use(tmp_path: Path) -> None:
    """Without [engine]/[risk] in the config: neither pydantic nor the order path's checks,
    nor asyncio, are imported by a whole `tui-trader backtest --json`."""
    from tui_trader.strategy.synthetic import synthetic_ohlcv

    data = tmp_path / "btc.csv"
    synthetic_ohlcv(3_000, "5m", seed=3).to_csv(data, index=False)
    code = (
        "import io, sys\n"
        "from tui_trader.cli.main import main\n"
        "sys.stdout = io.StringIO()\n"
        f"code = main(['--home', {str(tmp_path / 'home')!r}, 'backtest', '--strategy', 'ema_cross',"
        f" '--data', {str(data)!r}, '--timeframe', '5m', '--json'])\n"
        "sys.stdout = sys.__stdout__\n"
        "heavy = [m for m in ('pydantic', 'pydantic_settings', 'tui_trader.config.settings',"
        " 'tui_trader.risk.checks', 'tui_trader.core.events', 'asyncio') if m in sys.modules]\n"
        "print(code, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0 []", out.stdout + out.stderr
