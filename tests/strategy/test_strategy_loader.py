"""Discovery, broken files reported with file:line, entry points, and hot reload."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tui_trader.core.errors import UserError
from tui_trader.strategy import loader
from tui_trader.strategy.errors import StrategyError
from tui_trader.strategy.loader import discover, load_strategy
from tui_trader.strategy.reload import StrategyWatcher, reload_runner
from tui_trader.strategy.runner import StrategyRunner

GOOD = """
from tui_trader.strategy import IStrategy, IntParameter

class MyGood(IStrategy):
    timeframe = "15m"
    buy_len = IntParameter(2, 9, default=VALUE)

    def populate_entry_trend(self, dataframe, metadata):
        dataframe.loc[dataframe["close"] > dataframe["open"], "enter_long"] = 1
        return dataframe
"""

BROKEN = """
import math

x = 1
y = math.sqrt(-1)  # line 5 raises ValueError
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_broken_file_is_reported_and_the_rest_load(tmp_path):
    _write(tmp_path / "good.py", GOOD.replace("VALUE", "4"))
    _write(tmp_path / "broken.py", BROKEN)
    _write(tmp_path / "syntax.py", "class X(:\n")
    _write(tmp_path / "_private.py", "raise SystemExit")
    infos = {i.name: i for i in discover([tmp_path])}
    assert {"ema_cross", "rsi_trend", "MyGood", "broken", "syntax"} <= set(infos)
    assert "_private" not in infos
    good = infos["MyGood"]
    assert good.ok and good.timeframe == "15m" and good.source == "dir"
    assert good.parameters["buy_len"]["default"] == 4
    broken = infos["broken"]
    assert not broken.ok and broken.line == 5
    assert broken.error.startswith(f"{tmp_path / 'broken.py'}:5: ") and "ValueError" in broken.error
    assert infos["syntax"].line == 1 and "SyntaxError" in infos["syntax"].error
    assert all(i.ok for i in infos.values() if i.source == "plugins")


def test_load_strategy_by_name_with_params(tmp_path):
    _write(tmp_path / "good.py", GOOD.replace("VALUE", "4"))
    s = load_strategy("mygood", [tmp_path], {"buy_len": 7})
    assert type(s).__name__ == "MyGood" and s.buy_len.value == 7
    assert load_strategy("ema_cross").name == "ema_cross"
    assert load_strategy(str(tmp_path / "good.py")).timeframe == "15m"
    with pytest.raises(UserError, match="unknown strategy 'nope'"):
        load_strategy("nope", [tmp_path])
    _write(tmp_path / "broken.py", BROKEN)
    with pytest.raises(StrategyError, match=r"broken\.py:5"):
        load_strategy("broken", [tmp_path])


def test_bad_class_attributes_are_reported(tmp_path):
    _write(tmp_path / "badtf.py", GOOD.replace("VALUE", "4").replace('"15m"', '"15x"'))
    [info] = [i for i in discover([tmp_path], include_bundled=False)]
    assert "unknown timeframe" in info.error and info.line is not None


@dataclass
class _FakeDist:
    name: str


class _FakeEntryPoint:
    def __init__(self, name: str, value: str, target: object) -> None:
        self.name, self.value, self.dist = name, value, _FakeDist("acme-strats")
        self._target = target
        self.loaded = False

    def load(self) -> object:
        self.loaded = True
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


def test_entry_points_listed_without_import_and_loaded_on_demand(monkeypatch):
    from tui_trader.strategy import IStrategy

    class Packaged(IStrategy):
        timeframe = "1h"

    good = _FakeEntryPoint("packaged", "acme:Packaged", Packaged)
    bad = _FakeEntryPoint("badpkg", "acme:Nope", ImportError("No module named acme"))
    monkeypatch.setattr(loader, "_entry_points", lambda: [good, bad])
    listed = {i.name: i for i in discover(include_bundled=False, import_packages=False)}
    assert set(listed) == {"packaged", "badpkg"} and not good.loaded
    assert listed["packaged"].package == "acme-strats:acme:Packaged"
    infos = {i.name: i for i in discover(include_bundled=False)}
    assert infos["packaged"].timeframe == "1h" and infos["packaged"].ok
    assert "No module named acme" in infos["badpkg"].error
    assert isinstance(load_strategy("packaged", include_bundled=False), Packaged)


def test_hot_reload_swaps_class_and_keeps_state(tmp_path):
    path = _write(tmp_path / "good.py", GOOD.replace("VALUE", "4"))
    watcher = StrategyWatcher([tmp_path])
    assert watcher.changed() == []
    strategy = load_strategy("MyGood", [tmp_path])
    runner = StrategyRunner(strategy, ["BTC/USDT"], on_decision=lambda d: None)
    runner.strategy.custom_state["count"] = 3
    runner.restore(
        {
            "trades": {
                "BTC/USDT": {
                    "pair": "BTC/USDT",
                    "is_short": False,
                    "open_rate": 10.0,
                    "amount": 2.0,
                    "open_date_utc": "2025-01-01T00:00:00+00:00",
                }
            }
        }
    )
    _write(path, GOOD.replace("VALUE", "5").replace('"15m"', '"5m"'))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a coarse-mtime filesystem
    assert watcher.changed() == [path.resolve()]
    old_class = type(runner.strategy)
    assert reload_runner(runner, path) is None
    assert type(runner.strategy) is not old_class
    assert runner.strategy.timeframe == "5m"
    assert runner.strategy.buy_len.value == 5  # the edited default applies
    assert runner.strategy.custom_state == {"count": 3}
    assert list(runner.open_trades()) == ["BTC/USDT"]
    runner.strategy.set_parameters({"buy_len": 8})
    _write(path, GOOD.replace("VALUE", "6"))
    assert reload_runner(runner, path) is None
    assert runner.strategy.buy_len.value == 8  # a value set on purpose survives a reload
    # A broken edit keeps the running version.
    _write(path, BROKEN)
    err = reload_runner(runner, path)
    assert err is not None and err.line == 5
    assert runner.strategy.timeframe == "15m" and runner.strategy.buy_len.value == 8
    path.unlink()
    assert watcher.changed() == [path.resolve()]


def test_freqtrade_import_paths_resolve_to_ours(tmp_path):
    """Every import of Freqtrade's full strategy template loads, unchanged."""
    path = tmp_path / "ported.py"
    path.write_text(
        "from datetime import datetime, timezone\n"
        "from freqtrade.strategy import (IStrategy, Trade, Order, PairLocks, informative,\n"
        "    BooleanParameter, CategoricalParameter, DecimalParameter, IntParameter, RealParameter,\n"
        "    timeframe_to_minutes, timeframe_to_next_date, timeframe_to_prev_date,\n"
        "    merge_informative_pair, stoploss_from_absolute, stoploss_from_open)\n"
        "from freqtrade.persistence import Trade as T2, Order as O2, PairLocks as P2\n"
        "from freqtrade.exchange import timeframe_to_seconds, timeframe_to_msecs\n"
        "from freqtrade.enums import RunMode, ExitType\n"
        "import freqtrade.vendor.qtpylib.indicators as qtpylib_old\n"
        "from technical import qtpylib\n"
        "import talib.abstract as ta\n"
        "class Ported(IStrategy):\n"
        "    timeframe = '5m'\n"
        "    minimal_roi = {'0': 0.04}\n"
        "NOW = datetime(2024, 1, 1, 10, 7, tzinfo=timezone.utc)\n"
        "CHECKS = (timeframe_to_minutes('1h'), timeframe_to_prev_date('5m', NOW),\n"
        "          timeframe_to_next_date('5m', NOW), timeframe_to_msecs('1m'),\n"
        "          stoploss_from_open(0.05, 0.10), stoploss_from_absolute(95, 100),\n"
        "          qtpylib.rsi is qtpylib_old.rsi, ExitType.ROI.value, RunMode.BACKTEST.value)\n"
    )
    from tui_trader.strategy import IStrategy
    from tui_trader.strategy.loader import load_file

    (cls,) = load_file(path)
    assert issubclass(cls, IStrategy)
    import sys

    module = sys.modules[cls.__module__]
    minutes, prev, nxt, ms, from_open, absolute, same, roi, mode = module.CHECKS
    assert minutes == 60 and ms == 60_000 and same and roi == "roi" and mode == "backtest"
    assert (prev.minute, nxt.minute) == (5, 10)
    assert from_open == pytest.approx(1 - 1.05 / 1.10) and absolute == pytest.approx(0.05)
    assert module.T2 is module.Trade and module.P2 is module.PairLocks


def test_a_named_strategy_loads_without_importing_the_others(tmp_path: Path) -> None:
    """`backtest --strategy NAME` imports the file named NAME, not every plugin beside it (a
    slow or broken neighbour neither delays nor blocks it)."""
    marker = tmp_path / "imported"
    _write(tmp_path / "mygood.py", GOOD.replace("VALUE", "3"))
    _write(tmp_path / "neighbour.py", f"open({str(marker)!r}, 'a').write('x')\n" + GOOD.replace(
        "MyGood", "Neighbour").replace("VALUE", "4"))  # fmt: skip
    strategy = load_strategy("mygood", [tmp_path])
    assert type(strategy).__name__ == "MyGood"
    assert not marker.exists()
    # a name no file is named for still finds its class, looking through the rest
    assert type(load_strategy("Neighbour", [tmp_path])).__name__ == "Neighbour"
    assert marker.exists()
