"""`tui-trader quote` and `tui-trader data download --venue paper`: the paper market from a shell,
the same one the workstation shows."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from tui_trader.cli import main as cli_main
from tui_trader.config.paper import PaperSettings
from tui_trader.core.clock import FrozenClock
from tui_trader.engine.commands import dispatch
from tui_trader.engine.testing import manual_engine, step
from tui_trader.venues.paper.export import paper_path


def run(home: Path, *argv: str) -> int:
    return cli_main.main(["--home", str(home), *argv])


def test_quote_without_a_daemon_reads_the_paper_market(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, "quote", "btc/usdt", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["symbol"] == "BTC/USDT" and doc["venue"] == "paper" and "no daemon" in doc["source"]
    assert doc["bid"] < doc["ask"] and len(doc["book"]["bids"]) == 5 and len(doc["book"]["asks"]) == 5
    assert doc["book"]["bids"][0] == [doc["bid"], doc["bid_size"]]
    ts = datetime.fromisoformat(doc["ts"]).timestamp()
    path_mid = paper_path(PaperSettings(), "BTC/USDT").price(ts)
    assert abs(doc["mid"] / path_mid - 1) < 1e-4  # the same market the daemon would show
    assert run(tmp_path, "quote", "AAPL") == 0
    text = capsys.readouterr().out
    assert text.startswith("AAPL on paper") and "market: NYSE" in text and "bid size" in text


def test_a_symbol_the_paper_market_does_not_list_is_refused_as_the_daemon_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "quote", "NOPE/USDT") == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1 and "paper does not list NOPE/USDT" in out.err


def test_quote_of_another_venue_needs_a_daemon(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, "quote", "BTC/USDT", "--venue", "binance") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tui-trader daemon" in err and "Traceback" not in err


async def test_the_daemon_quote_command() -> None:
    eng = manual_engine(clock=FrozenClock(datetime(2026, 12, 6, 15, tzinfo=UTC)))
    await eng.start()
    try:
        await step(eng, 2)
        doc = await dispatch(eng, "market.quote", {"symbol": "aapl"}, "test")
        assert doc["symbol"] == "AAPL" and doc["market"].startswith("NYSE closed, opens Mon 14:30 UTC")
        with pytest.raises(Exception, match="does not list"):
            await dispatch(eng, "market.quote", {"symbol": "NOPE/USDT"}, "test")
    finally:
        await eng.stop()


def test_download_writes_the_paper_markets_own_bars(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    window = ("--since", "2026-03-02", "--until", "2026-03-09")
    for tf in ("1m", "1h"):
        args = ("data", "download", "--venue", "paper", "--symbol", "AAPL", "--timeframe", tf, *window)
        assert run(tmp_path, *args) == 0
    out = capsys.readouterr().out
    assert "paper AAPL 1h: 35 new candle(s)" in out  # 5 sessions x 7 hour bars (09:30-16:00)
    minutes = pd.read_parquet(tmp_path / "data" / "paper" / "AAPL-1m.parquet")
    hours = pd.read_parquet(tmp_path / "data" / "paper" / "AAPL-1h.parquet")
    assert len(minutes) == 5 * 390
    agg = minutes.set_index("date").resample("1h").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    ).dropna()
    assert list(agg.index) == list(hours["date"])
    for col in ("open", "high", "low", "close"):
        assert list(agg[col]) == list(hours[col])
    assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(agg["volume"], hours["volume"], strict=True))
    # The same bars the paper venue serves to charts and strategies.
    path = paper_path(PaperSettings(), "AAPL")
    assert hours["close"].iloc[-1] == path.price(datetime(2026, 3, 6, 21, tzinfo=UTC).timestamp())


def test_download_refuses_a_timeframe_under_a_minute(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(tmp_path, "data", "download", "--venue", "paper", "--symbol", "BTC/USDT", "--timeframe", "30s",
               "--since", "2026-03-02")
    assert code == 2 and "per minute" in capsys.readouterr().err
