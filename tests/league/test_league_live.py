"""The live league: a season's strategies side by side on the paper market as the clock moves,
each in its own sub-account; its board moves at bar closes, never past the clock, keeps every
sub-account's earlier trades across updates and engine restarts (frozen clocks throughout), and
is what `league show` and the League pane (F9) show."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from tui_trader.cli.main import main
from tui_trader.config.paper import PaperSettings
from tui_trader.config.risk import RiskSettings
from tui_trader.core.clock import FrozenClock
from tui_trader.engine.client import InProcessClient
from tui_trader.engine.testing import manual_engine, paper_settings
from tui_trader.home import Home
from tui_trader.league.board import LatestBoard
from tui_trader.league.live import Contest, ContestStore, last_close, next_update, update_contest
from tui_trader.ui.app import WorkstationApp
from tui_trader.ui.panes import LeaguePane

THREE = ["ema_cross", "rsi_mean_reversion", "macd_trend"]  # 5m, 15m, 1h
START = datetime(2026, 11, 2, tzinfo=UTC)
END = START + timedelta(days=7)


def register(root: Path, min_trades: int = 3, end: datetime = END) -> ContestStore:
    store = ContestStore(root)
    store.add_season("s1", START, end)
    store.register(Contest("s1", THREE, ["BTC/USDT"], 10_000.0, min_trades, START))
    return store


def update(root: Path, now: datetime) -> dict[str, Any]:
    return update_contest(root, "s1", PaperSettings(), RiskSettings(), now)


def keys(trades: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(t["symbol"], t["entry_time"], t["exit_time"], t["entry_price"], t["exit_price"]) for t in trades]


def test_each_update_trades_to_the_last_closed_bar_and_keeps_the_earlier_trades(tmp_path: Path) -> None:
    register(tmp_path)
    first_at = START + timedelta(days=2, minutes=37)
    first = update(tmp_path, first_at)
    assert first["live"]["status"] == "running" and first["live"]["updates"] == 1
    assert first["start"] == "2026-11-02T00:00:00Z" and first["season"] == "s1"
    accounts = first["accounts"]
    assert set(accounts) == set(THREE)
    for name, account in accounts.items():  # never a bar past the clock
        tf = account["timeframe"]
        seconds = {"5m": 300, "15m": 900, "1h": 3600}[tf]
        through = datetime.fromisoformat(account["through"].replace("Z", "+00:00"))
        assert through + timedelta(seconds=seconds) == last_close(first_at, tf), name
        assert all(t["exit_time"] <= first["live"]["as_of"] for t in account["trades"])
        assert account["capital"] == 10_000.0
    # beside the Sharpe: the deflated Sharpe, the drawdown; a rank only with enough trades
    rows = {r["strategy"]: r for r in first["rows"]}
    for r in first["rows"]:
        assert r["max_drawdown"] is not None and ("deflated_sharpe" in r)
        assert (r["rank"] is None) == (r["trades"] < 3 or bool(r["note"]))
    assert any(r["rank"] == 1 for r in rows.values())
    later_at = first_at + timedelta(hours=20)
    later = update(tmp_path, later_at)
    assert later["live"]["updates"] == 2
    for name in THREE:
        old, new = first["accounts"][name]["trades"], later["accounts"][name]["trades"]
        assert keys(new[: len(old)]) == keys(old)  # the same bars, the same trades: the past stays
        assert not later["rows"][[r["strategy"] for r in later["rows"]].index(name)]["note"].endswith("mid-season?)")
    assert sum(len(a["trades"]) for a in later["accounts"].values()) > sum(len(a["trades"]) for a in accounts.values())
    # the board file is what `league show` prints
    assert ContestStore(tmp_path).result("s1") == json.loads(json.dumps(later))


def test_before_the_season_during_its_last_bar_and_after_it(tmp_path: Path) -> None:
    end = END - timedelta(minutes=30)  # 23:30: inside the hourly strategy's last bar
    register(tmp_path, end=end)
    early = update(tmp_path, START - timedelta(hours=3))
    assert early["live"]["status"] == "upcoming" and early["rows"] == [] and early["waiting"]
    assert next_update(early, START - timedelta(hours=3)) == START
    at = end - timedelta(minutes=8)  # 23:22
    assert next_update(update(tmp_path, at), at) == end - timedelta(minutes=5)  # 23:25, the next 5-minute close
    final = update(tmp_path, end + timedelta(minutes=10))
    assert final["live"]["status"] == "ended" and next_update(final, end + timedelta(minutes=10)) is None
    assert final["end"] == "2026-11-08T23:30:00Z"
    # only bars that closed inside the season: the hourly one holding its end does not count
    assert final["accounts"]["macd_trend"]["through"] == "2026-11-08T22:00:00Z"
    assert final["accounts"]["ema_cross"]["through"] == "2026-11-08T23:25:00Z"


def test_a_sub_account_whose_past_changed_is_flagged(tmp_path: Path) -> None:
    register(tmp_path)
    at = START + timedelta(days=2)
    doc = update(tmp_path, at)
    name = next(n for n, a in doc["accounts"].items() if a["trades"])
    doc["accounts"][name]["trades"][0]["entry_price"] += 1.0  # as if the strategy had been edited
    ContestStore(tmp_path).save_result("s1", doc)
    again = update(tmp_path, at + timedelta(hours=1))
    notes = {r["strategy"]: r["note"] for r in again["rows"]}
    assert "earlier trades changed since the last update" in notes[name]
    assert not any("earlier trades" in n for s, n in notes.items() if s != name)


async def test_the_engine_keeps_the_board_up_to_date_and_a_restart_mid_season_keeps_it(tmp_path: Path) -> None:
    home = Home(tmp_path / "h").ensure()
    register(home.root)
    clock = FrozenClock(START + timedelta(days=2, minutes=7))
    engine = manual_engine(paper_settings(), home=home, clock=clock)
    await engine.start()
    try:
        await engine.leagues.tick()  # (or the engine's own first tick did it at start)
        assert set(engine.leagues.due) == {"s1"}
        board = ContestStore(home.root).result("s1")
        assert board["live"]["as_of"] == "2026-11-04T00:07:00Z"
        assert await engine.leagues.tick() == []  # no bar closed since
        clock.advance(180)  # 00:10: a 5-minute bar closed
        assert await engine.leagues.tick() == ["s1"]
        before = ContestStore(home.root).result("s1")
        assert before["live"]["as_of"] == "2026-11-04T00:10:00Z"
    finally:
        await engine.stop()
    clock.advance(6 * 3600)  # the daemon was down six hours
    engine = manual_engine(paper_settings(), home=home, clock=clock)
    await engine.start()
    try:
        for extra in engine.snapshot_extras:
            if isinstance(extra, LatestBoard):
                assert extra()["league"]["season"] == "s1"  # the board is there at once after the restart
        await engine.leagues.tick()
        after = ContestStore(home.root).result("s1")
        assert after["live"]["as_of"] == "2026-11-04T06:10:00Z" and after["live"]["updates"] >= 3
        for name in THREE:
            old, new = before["accounts"][name]["trades"], after["accounts"][name]["trades"]
            assert keys(new[: len(old)]) == keys(old)
        assert not any("earlier trades" in r["note"] for r in after["rows"])
    finally:
        await engine.stop()


def test_league_run_live_registers_prints_and_shows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = str(tmp_path / "h")
    now = datetime.now(UTC)
    start, end = (now - timedelta(days=2)).date().isoformat(), (now + timedelta(days=5)).date().isoformat()
    assert main(["league", "season", "add", "s1", "--start", start, "--end", end, "--home", home]) == 0
    capsys.readouterr()
    argv = ["league", "run", "--live", "--season", "s1", "--strategies", ",".join(THREE), "--home", home]
    assert main([*argv, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["live"]["status"] == "running" and doc["live"]["updates"] == 1 and len(doc["rows"]) == 3
    assert main(["league", "show", "--season", "s1", "--json", "--home", home]) == 0
    assert json.loads(capsys.readouterr().out) == doc
    assert main(["league", "show", "--season", "s1", "--home", home]) == 0
    assert "live on the paper market: running" in capsys.readouterr().out
    assert main(argv) == 0  # the same contest again: an update, not a second contest
    assert "update 2" in capsys.readouterr().out
    assert main(["league", "update", "--season", "s1", "--json", "--home", home]) == 0
    assert json.loads(capsys.readouterr().out)["live"]["updates"] == 3
    assert main(["league", "season", "list", "--json", "--home", home]) == 0
    assert [r["live"] for r in json.loads(capsys.readouterr().out)["seasons"]] == [True]
    assert main(["league", "stop", "s1", "--home", home]) == 0
    capsys.readouterr()
    assert main(["league", "season", "list", "--home", home]) == 0
    assert "live league" not in capsys.readouterr().out
    assert main(["league", "show", "--season", "s1", "--json", "--home", home]) == 0  # the board stays
    capsys.readouterr()


@pytest.mark.parametrize(
    ("extra", "code", "says"),
    [
        (["--season", "old"], 2, "ended"),
        (["--season", "s1", "--days", "3"], 2, "leave out --days"),
        (["--venue", "binance"], 2, "runs on the paper market"),
        (["--days", "999"], 2, "between 1 and 366"),
        (["--season", "nope"], 1, "no season 'nope'"),
    ],
)
def test_bad_live_runs_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], code: int, says: str
) -> None:
    home = str(tmp_path / "h")
    main(["league", "season", "add", "old", "--start", "2020-01-01", "--end", "2020-02-01", "--home", home])
    main(["league", "season", "add", "s1", "--start", "2020-01-01", "--end", "2099-02-01", "--home", home])
    capsys.readouterr()
    assert main(["league", "run", "--live", "--strategies", "ema_cross", *extra, "--home", home]) == code
    out, err = capsys.readouterr()
    assert out == "" and says in err and err.count("\n") == 1
    assert not (tmp_path / "h" / "league" / "live").exists() or not list((tmp_path / "h" / "league" / "live").iterdir())


def test_a_contest_cannot_change_and_an_unknown_strategy_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "h")
    main(["league", "season", "add", "s1", "--start", "2020-01-01", "--end", "2099-02-01", "--home", home])
    assert main(["league", "run", "--live", "--season", "s1", "--strategies", "ema_cros", "--home", home]) == 1
    assert "ema_cros" in capsys.readouterr().err
    ContestStore(tmp_path / "h").register(Contest("s1", ["ema_cross"], ["BTC/USDT"], 10_000.0, 10, START))
    assert main(["league", "run", "--live", "--season", "s1", "--strategies", "macd_trend", "--home", home]) == 1
    err = capsys.readouterr().err
    assert "already runs live with ema_cross" in err and err.count("\n") == 1
    assert main(["league", "stop", "s2", "--home", home]) == 1


async def test_the_league_pane_shows_a_live_board(tmp_path: Path) -> None:
    home = Home(tmp_path / "h").ensure()
    register(home.root, min_trades=1)
    clock = FrozenClock(START + timedelta(days=2, minutes=7))
    engine = manual_engine(paper_settings(), home=home, clock=clock)
    await engine.start()
    try:
        await engine.leagues.tick()
        for extra in engine.snapshot_extras:
            if isinstance(extra, LatestBoard):
                extra.every_s = 0.0
        doc = ContestStore(home.root).result("s1")
        app = WorkstationApp(InProcessClient(engine), engine.settings, home)
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.press("f9")
            title = "League · s1 · live, running · as of 00:07 UTC"
            # the app's engine client and the panes behind the front tabs come after the first
            # paint: on a busy machine the first snapshot can come before them (the title was
            # still "League" once in a full run at load ~5); a few frames at most
            for _ in range(100):
                await app.refresh_snapshot()
                await pilot.pause()
                panes = app.query(LeaguePane)
                if panes and str(panes.first().border_title) == title:
                    break
            assert str(app.query_one(LeaguePane).border_title) == title
            table = app.query_one("#league-table", DataTable)
            assert [str(table.get_row_at(i)[1]) for i in range(table.row_count)] == [r["strategy"] for r in doc["rows"]]
            note = str(app.query_one("#league-note").render())
            assert "season to 2026-11-09 00:00" in note
    finally:
        await engine.stop()


def test_a_season_starting_inside_a_bar_waits_for_the_first_whole_bar_of_each_timeframe(tmp_path: Path) -> None:
    store = ContestStore(tmp_path)
    start = START + timedelta(minutes=55)  # 00:55
    store.add_season("s1", start, END)
    store.register(Contest("s1", THREE, ["BTC/USDT"], 10_000.0, 1, start))
    doc = update(tmp_path, start + timedelta(minutes=6))  # 01:01: one 5-minute bar closed
    rows = {r["strategy"]: r for r in doc["rows"]}
    assert rows["ema_cross"]["note"] in ("no trades", "") and rows["ema_cross"]["timeframe"] == "5m"
    assert rows["rsi_mean_reversion"]["note"] == rows["macd_trend"]["note"] == "no closed bar yet"
    doc = update(tmp_path, start + timedelta(minutes=20))  # 01:15: the first whole 15-minute bar closed
    rows = {r["strategy"]: r for r in doc["rows"]}
    assert rows["rsi_mean_reversion"]["note"] != "no closed bar yet"
    assert rows["macd_trend"]["note"] == "no closed bar yet"  # its first whole bar closes at 02:00
