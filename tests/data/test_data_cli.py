"""`tui-trader data import / list / download` end to end through the CLI entry point."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui_trader.cli import main as cli_main

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared fakes
from fakes.binance_rest import FakeBinance

# small excerpts of Freqtrade's sample data, shipped with the tests (files/make_excerpts.py)
FREQTRADE = Path(__file__).resolve().parent / "files"


@pytest.fixture(autouse=True)
def only_data_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other command modules are built in parallel; this area tests its own."""
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("tui_trader.cli.data_cmd",))


def run(home: Path, *argv: str) -> int:
    return cli_main.main(["--home", str(home), *argv])


def test_import_then_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, "data", "import", str(FREQTRADE / "ETH_BTC-5m.feather")) == 0
    out = capsys.readouterr().out
    assert "600 candles (5m)" in out and "stored 600 candle(s) as import ETH/BTC 5m" in out
    assert (tmp_path / "data" / "import" / "ETH_BTC-5m.parquet").is_file()

    argv = ["data", "import", str(FREQTRADE / "XRP_ETH-trades.json.gz"), "--timeframe", "5m"]
    assert run(tmp_path, *argv, "--venue", "binance", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["venue"] == "binance" and doc["symbol"] == "XRP/ETH" and doc["imported_rows"] == 12
    assert doc["report"]["gap_count"] == 0 and doc["report"]["ok"] is True

    assert run(tmp_path, "data", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["venue"], d["symbol"], d["timeframe"], d["rows"]) for d in listed] == [
        ("binance", "XRP/ETH", "5m", 12),
        ("import", "ETH/BTC", "5m", 600),
    ]
    assert listed[1]["start"] == "2018-01-10T04:55:00Z"
    assert run(tmp_path, "data", "list") == 0
    assert "ETH/BTC" in capsys.readouterr().out


def test_import_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, "data", "import", str(FREQTRADE / "XRP_ETH-trades.json.gz")) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--timeframe" in err and err.count("\n") == 1
    csv = tmp_path / "prices.csv"
    csv.write_text(
        "date,open,high,low,close,volume\n2024-01-01T00:05Z,1,2,0.5,1.5,3\n2024-01-01T00:00Z,1,2,0.5,1.5,3\n"
    )
    assert run(tmp_path, "data", "import", str(csv), "--symbol", "BTC/USDT") == 1
    assert "--clean" in capsys.readouterr().err
    assert run(tmp_path, "data", "import", str(csv), "--symbol", "BTC/USDT", "--clean") == 0
    out = capsys.readouterr().out
    assert (
        "timeframe 5m taken from the bar spacing" in out and "cleaned: sorted rows by time" in out
    )
    assert run(tmp_path, "data", "import", str(csv), "--clean") == 2  # no symbol: usage error
    assert "--symbol" in capsys.readouterr().err
    assert run(tmp_path, "data") == 2


def test_download_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui_trader.data import download

    t0 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)
    with FakeBinance(["BTC/USDT"]) as fake:
        fake.set_klines(
            "BTC/USDT",
            "1h",
            [[t0 + i * 3_600_000, 10 + i, 11 + i, 9 + i, 10 + i, 1] for i in range(48)],
        )
        real = download.make_exchange

        def patched(venue: str, config: dict | None = None) -> object:
            return fake.patch(real(venue, {"options": FakeBinance.ccxt_options()}))

        monkeypatch.setattr(download, "make_exchange", patched)
        argv = [
            "data",
            "download",
            "--venue",
            "binance",
            "--symbol",
            "BTC/USDT",
            "--timeframe",
            "1h",
        ]
        assert run(tmp_path, *argv, "--since", "2024-01-01", "--until", "2024-01-02", "--json") == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["new_rows"] == 24 and doc["stored_end"] == "2024-01-01T23:00:00Z"
        assert run(tmp_path, *argv, "--since", "2024-01-01") == 0
        assert "24 new candle(s) from 2024-01-02T00:00:00Z" in capsys.readouterr().out
        assert run(tmp_path, *argv, "--since", "someday") == 2
        assert "--since" in capsys.readouterr().err
