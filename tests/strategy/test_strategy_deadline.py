"""A strategy that never returns, run in this process (`strategies check`, `backtest`,
`optimize`, a worker thread): stopped at the deadline with an error naming the strategy, the
function and the line, instead of hanging the command."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tui_trader.cli.main import main
from tui_trader.config.settings import STRATEGY_TIMEOUT_ENV
from tui_trader.strategy.errors import StrategyError
from tui_trader.strategy.loader import load_file
from tui_trader.strategy.synthetic import synthetic_ohlcv

HUNG = '''
from pandas import DataFrame
from tui_trader.strategy import IStrategy, IntParameter


class Hung(IStrategy):
    timeframe = "5m"
    stoploss = -0.1
    n = IntParameter(2, 5, default=3, space="buy")

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        while True:  # line 15
            try:
                pass
            except Exception:  # swallowing Exception does not swallow the deadline
                pass

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe
'''


@pytest.fixture
def hung(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(STRATEGY_TIMEOUT_ENV, "0.3")
    path = tmp_path / "hung.py"
    path.write_text(HUNG)
    return path


def test_analyze_stops_at_the_deadline_on_the_main_thread(hung: Path) -> None:
    from tui_trader.strategy.analysis import analyze

    strategy = load_file(hung)[0]()
    started = time.monotonic()
    with pytest.raises(StrategyError) as err:
        analyze(strategy, synthetic_ohlcv(300, "5m", seed=1))
    assert time.monotonic() - started < 10  # a hang guard, not a speed test
    assert err.value.file == str(hung) and err.value.line in (15, 16, 17, 18, 19)
    assert "Hung.populate_entry_trend did not return within 0.3 s (300 bars)" in str(err.value)


def test_analyze_stops_at_the_deadline_in_another_thread(hung: Path) -> None:
    from tui_trader.strategy.analysis import analyze

    strategy = load_file(hung)[0]()
    caught: list[BaseException] = []

    def run() -> None:
        try:
            analyze(strategy, synthetic_ohlcv(300, "5m", seed=1))
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(20)
    assert not thread.is_alive()
    (exc,) = caught
    assert isinstance(exc, StrategyError) and "populate_entry_trend did not return" in str(exc)


def test_the_deadline_scales_with_the_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui_trader.strategy.deadline import timeout_for

    monkeypatch.setenv(STRATEGY_TIMEOUT_ENV, "5")
    assert timeout_for(500) == 5 and timeout_for(20_000) == 10 and timeout_for(525_600) == pytest.approx(262.8)
    monkeypatch.setenv(STRATEGY_TIMEOUT_ENV, "0")
    assert timeout_for(500) is None


@pytest.mark.parametrize(
    "argv",
    [
        ["strategies", "check", "{file}"],
        ["backtest", "--strategy", "{file}", "--data", "{data}", "--timeframe", "5m"],
        ["optimize", "--strategy", "{file}", "--data", "{data}", "--timeframe", "5m", "--trials", "2", "--jobs", "1"],
    ],
    ids=["check", "backtest", "optimize"],
)
def test_commands_end_with_one_line_naming_the_function(hung: Path, argv: list[str], capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = Path(__file__).parents[1] / "data" / "files" / "ETH_BTC-5m.feather"
    monkeypatch.setenv("TUI_TRADER_ENGINE__STRATEGY_TIMEOUT_S", "0.3")
    args = [a.format(file=hung, data=data) for a in argv] + ["--home", str(hung.parent / "home")]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 1, err
    if argv[0] == "optimize":  # the search carries on past failed trials, then says why they failed
        flat = " ".join(out.split())  # rich wraps long lines
        assert "every trial failed: " in flat and "Hung.populate_entry_trend did not return within 0.3 s" in flat
        return
    assert f"error: {hung}:" in err and "Hung.populate_entry_trend did not return within 0.3 s" in err
    assert len(err.strip().splitlines()) == 1
