"""`tui-trader strategies list / check` in-process."""

from __future__ import annotations

import json

from tui_trader.cli.main import main

BROKEN = "from tui_trader.strategy import IStrategy\n\nclass B(IStrategy):\n    timeframe = 5\n"
RAISES = """from tui_trader.strategy import IStrategy


class R(IStrategy):
    def populate_indicators(self, dataframe, metadata):
        return dataframe["missing"]
"""


def test_list_json_includes_bundled_home_and_broken(tmp_path, capsys):
    home = tmp_path / "home"
    (home / "strategies").mkdir(parents=True)
    (home / "strategies" / "bad.py").write_text("import nope_not_a_module\n", encoding="utf-8")
    assert main(["strategies", "list", "--json", "--home", str(home)]) == 0
    doc = json.loads(capsys.readouterr().out)
    by_name = {s["name"]: s for s in doc["strategies"]}
    assert {
        "ema_cross",
        "rsi_mean_reversion",
        "macd_trend",
        "breakout",
        "stochrsi_ema",
        "rsi_trend",
    } <= set(by_name)
    assert by_name["ema_cross"]["timeframe"] == "5m"
    assert by_name["ema_cross"]["parameters"]["buy_fast"]["low"] == 5
    assert by_name["bad"]["error"].startswith(str(home / "strategies" / "bad.py") + ":1:")
    assert main(["strategies", "list", "--home", str(home)]) == 0
    out = capsys.readouterr()
    assert "BROKEN" in out.out and "rsi_trend" in out.out


def test_check_bundled_and_broken_files(tmp_path, capsys):
    from tui_trader.strategy.loader import bundled_dir

    assert (
        main(
            [
                "strategies",
                "check",
                str(bundled_dir() / "rsi_trend.toml"),
                "--json",
                "--home",
                str(tmp_path),
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] and doc["strategies"][0]["signals"]["enter_long"] > 0
    bad = tmp_path / "b.py"
    bad.write_text(BROKEN, encoding="utf-8")
    assert main(["strategies", "check", str(bad), "--home", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad.resolve()}:3:") and "timeframe" in err
    raising = tmp_path / "r.py"
    raising.write_text(RAISES, encoding="utf-8")
    assert main(["strategies", "check", str(raising), "--home", str(tmp_path)]) == 1
    assert f"{raising.resolve()}:6:" in capsys.readouterr().err
    toml = tmp_path / "t.toml"
    toml.write_text('[strategy]\nname = "t"\ntimeframe = "5m"\n[entry]\nwhen = "foo > 1"\n')
    assert main(["strategies", "check", str(toml), "--home", str(tmp_path)]) == 1
    assert f"{toml}:5: unknown column 'foo'" in capsys.readouterr().err
    assert main(["strategies", "check", str(tmp_path / "none.py"), "--home", str(tmp_path)]) == 2
