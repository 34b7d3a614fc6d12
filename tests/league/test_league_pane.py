"""The League pane follows `league run` as it fills in: a real run writes its board after each
strategy; the engine hands the newest one to the workstation (snapshot.extra["league"]); the pane,
under Pilot, shows the ranked rows best first and the run's progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from tui_trader.cli.main import main
from tui_trader.engine.client import InProcessClient
from tui_trader.engine.testing import manual_engine, paper_settings
from tui_trader.home import Home
from tui_trader.league.board import LatestBoard
from tui_trader.league.seasons import LeagueStore
from tui_trader.ui.app import WorkstationApp
from tui_trader.ui.panes import LeaguePane

THREE = "ema_cross,rsi_mean_reversion,macd_trend"


def test_a_run_publishes_its_board_after_each_strategy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui_trader.league.seasons import LeagueStore as Store

    seen: list[dict[str, Any]] = []
    save = Store.save_result

    def spy(self: Store, season: str, result: dict[str, Any]) -> Path:
        seen.append(json.loads(json.dumps(result)))
        return save(self, season, result)

    monkeypatch.setattr(Store, "save_result", spy)
    home = tmp_path / "h"
    assert main(["league", "run", "--strategies", THREE, "--days", "5", "--home", str(home), "--json"]) == 0
    final = json.loads(capsys.readouterr().out)
    assert [d["progress"] for d in seen] == [
        {"done": 1, "of": 3, "running": "rsi_mean_reversion"},
        {"done": 2, "of": 3, "running": "macd_trend"},
        {"done": 3, "of": 3, "running": None},
    ]
    assert [len(d["rows"]) for d in seen] == [1, 2, 3]
    assert {d["run_at"] for d in seen} == {final["run_at"]} and seen[-1] == final
    # the same board the pane reads
    assert LatestBoard(home)()["league"] == final
    assert main(["league", "show", "--home", str(home)]) == 0
    assert "in progress" not in capsys.readouterr().out


def test_latest_board_rereads_only_changed_files_and_reports_a_damaged_one(tmp_path: Path) -> None:
    now = [0.0]
    board = LatestBoard(tmp_path, every_s=1.0, clock=lambda: now[0])
    assert board() == {}  # no league yet
    store = LeagueStore(tmp_path)
    store.save_result("s1", {"season": "s1", "run_at": "2026-01-01T00:00:00Z", "rows": []})
    assert board() == {}  # looked less than every_s ago
    now[0] = 1.0
    assert board()["league"]["season"] == "s1"
    store.save_result("s2", {"season": "s2", "run_at": "2026-01-02T00:00:00Z", "rows": []})
    now[0] = 2.0
    assert board()["league"]["season"] == "s2"  # the newest run
    (store.results_dir / "s2.json").write_text("{not json")
    now[0] = 3.0
    assert "cannot read" in board()["league"]["error"]


async def test_the_pane_shows_the_leaderboard_and_a_run_in_progress(tmp_path: Path) -> None:
    home = Home(tmp_path / "h").ensure()
    engine = manual_engine(paper_settings(), home=home)
    await engine.start()
    try:
        app = WorkstationApp(InProcessClient(engine), engine.settings, home)
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.press("f9")  # its tab beside Orders and Performance comes to the front
            await app.refresh_snapshot()
            await pilot.pause()
            pane = app.query_one(LeaguePane)
            assert str(pane.border_title).startswith("League · none run yet")
            assert main(["league", "run", "--strategies", THREE, "--days", "5", "--home", str(home.root),
                         "--min-trades", "1", "--json"]) == 0  # fmt: skip
            doc = LeagueStore(home.root).result()
            for extra in engine.snapshot_extras:  # the engine looks at the folder about once a second
                if isinstance(extra, LatestBoard):
                    extra.every_s = 0.0
            await app.refresh_snapshot()
            await pilot.pause()
            table = app.query_one("#league-table", DataTable)
            labels = [str(c.label) for c in table.columns.values()]  # the columns that fit
            shown = [dict(zip(labels, map(str, table.get_row_at(i)), strict=True)) for i in range(table.row_count)]
            assert [r["Strategy"] for r in shown] == [r["strategy"] for r in doc["rows"]]
            ranked = [r for r in doc["rows"] if r["rank"] is not None]
            assert ranked and shown[0]["#"] == "1" and shown[0]["Sharpe"] == f"{ranked[0]['score']:.2f}"
            assert str(pane.border_title) == f"League · {doc['season']}"
            # a run in progress (its board after the first of three strategies)
            partial = {**doc, "season": "later", "rows": doc["rows"][:1], "run_at": "9999-01-01T00:00:00Z",
                       "progress": {"done": 1, "of": 3, "running": "macd_trend"}}  # fmt: skip
            LeagueStore(home.root).save_result("later", partial)
            await app.refresh_snapshot()
            await pilot.pause()
            assert table.row_count == 1 and str(pane.border_title) == "League · later · 1/3 run"
            await pilot.press("f9")
            assert app.focused is not None and app.focused.id == "league-table"
    finally:
        await engine.stop()
