"""Pure pieces of the UI: order checks and preview, chart maths, themes, the watchdog."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tui_trader.core.enums import OrderType, Side
from tui_trader.core.errors import ConfigError
from tui_trader.core.market import Candle, Ticker
from tui_trader.core.orders import OrderRequest
from tui_trader.ui.chart_data import bollinger, ema, fold_price
from tui_trader.ui.order_preview import check_request, preview_order
from tui_trader.ui.screens.ticket import ticket_request
from tui_trader.ui.theme import BUILTIN_DIR, Palette, discover_themes, load_theme_file
from tui_trader.ui.watchdog import TerminalWatchdog
from tui_trader.venues.paper.instruments import paper_instrument

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
BTC = paper_instrument("BTC/USDT")
TICK = Ticker("paper", "BTC/USDT", T0, 64_990.0, 65_010.0, 65_000.0)


def test_preview_notional_fee_and_far_flag() -> None:
    req = OrderRequest("BTC/USDT", Side.BUY, Decimal("0.5"), OrderType.LIMIT, Decimal(64000))
    p = preview_order(req, BTC, TICK, fee_rate=0.0005, far_pct=0.05)
    assert p.notional == pytest.approx(32_000.0) and p.fee == pytest.approx(16.0)
    assert not p.far and p.errors == {} and p.quote == "USDT"
    far = preview_order(req.with_(price=Decimal(60000)), BTC, TICK, fee_rate=0.0005, far_pct=0.05)
    assert far.far and far.distance == pytest.approx(1 - 60000 / 65000)
    market = preview_order(
        req.with_(type=OrderType.MARKET, price=None), BTC, TICK, fee_rate=0.0005, far_pct=0.05
    )
    assert market.price == 65_010.0 and not market.far  # a buy pays the ask


def test_checks_name_the_field() -> None:
    req = OrderRequest(
        "BTC/USDT",
        Side.BUY,
        Decimal("0.000001"),
        OrderType.LIMIT,
        Decimal("64000.001"),
        stop_loss=Decimal(65000),
    )
    errors = check_request(req, BTC, TICK)
    assert set(errors) == {"quantity", "price", "stop_loss"}
    assert "below the entry" in errors["stop_loss"]
    assert "price" in check_request(
        OrderRequest("BTC/USDT", Side.SELL, Decimal(1), OrderType.LIMIT), BTC, TICK
    )
    assert "symbol" in check_request(OrderRequest("NOPE", Side.SELL, Decimal(1)), None, None)


def test_ticket_fields() -> None:
    def lookup(sym: str):  # type: ignore[no-untyped-def]
        return (BTC, TICK) if sym == "BTC/USDT" else (None, None)

    ok, errors = ticket_request(
        {
            "side": "sell",
            "symbol": "btc/usdt",
            "type": "stop",
            "quantity": "0.1",
            "stop_price": "64000",
            "price": "1",
        },
        lookup,
    )
    assert errors == {} and ok is not None
    assert (ok.type, ok.stop_price, ok.price, ok.side) == (
        OrderType.STOP,
        Decimal(64000),
        None,
        Side.SELL,
    )
    bad, errors = ticket_request({"symbol": "BTC/USDT", "type": "limit", "quantity": "x"}, lookup)
    assert bad is None and "number" in errors["quantity"]


def test_ema_and_bollinger() -> None:
    values = np.arange(1.0, 41.0)
    out = ema(values, 10)
    assert np.isnan(out[:9]).all() and out[-1] < values[-1] and out[-1] > out[-2]
    mid, upper, lower = bollinger(values, 20, 2.0)
    assert mid[19] == pytest.approx(10.5) and upper[19] - mid[19] == pytest.approx(
        2 * np.std(values[:20])
    )
    assert np.isnan(lower[:19]).all()


def test_fold_price_updates_or_opens_a_bar() -> None:
    bar = Candle("X", "1m", T0, 10.0, 11.0, 9.0, 10.5, 3.0)
    same = fold_price([bar], 12.0, T0 + timedelta(seconds=30), "1m")
    assert (same[-1].close, same[-1].high, len(same)) == (12.0, 12.0, 1)
    new = fold_price([bar], 8.0, T0 + timedelta(minutes=1, seconds=5), "1m")
    assert (
        len(new) == 2
        and new[-1].open == 10.5
        and new[-1].low == 8.0
        and new[-1].open_time == T0 + timedelta(minutes=1)
    )


def test_themes_load_and_user_themes_override(tmp_path: Path) -> None:
    themes, errors = discover_themes(BUILTIN_DIR)
    assert {"tui-dark", "tui-light", "tui-colorblind"} <= set(themes) and errors == []
    blind = Palette.from_theme(themes["tui-colorblind"])
    assert (blind.up, blind.down) == ("#56B4E9", "#E69F00")  # blue/orange, not green/red
    (tmp_path / "mine.toml").write_text(
        'name = "mine"\nprimary = "#112233"\n[variables]\nprice-up = "#00ff00"\n'
    )
    (tmp_path / "broken.toml").write_text('primary = "not a colour"\n')
    themes, errors = discover_themes(BUILTIN_DIR, tmp_path)
    assert Palette.from_theme(themes["mine"]).up == "#00ff00"
    assert len(errors) == 1 and "not a colour" in errors[0]
    with pytest.raises(ConfigError, match="unknown keys"):
        (tmp_path / "typo.toml").write_text('primary = "#000000"\nprimray = "#111111"\n')
        load_theme_file(tmp_path / "typo.toml")


def test_a_theme_file_is_read_again_only_when_it_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the theme files held is kept in the cache folder (ui/theme.py): a start reads their
    TOML only when one changed, and a damaged cache only costs the reading."""
    import tomllib

    monkeypatch.setenv("TUI_TRADER_CACHE_DIR", str(tmp_path / "cache"))
    reads: list[str] = []
    loads = tomllib.loads
    monkeypatch.setattr(tomllib, "loads", lambda text: reads.append(text) or loads(text))
    user = tmp_path / "themes"
    user.mkdir()
    mine = user / "mine.toml"
    mine.write_text('name = "mine"\nprimary = "#112233"\n')
    first, errors = discover_themes(BUILTIN_DIR, user)
    assert len(reads) == 4 and errors == [] and "mine" in first
    assert discover_themes(BUILTIN_DIR, user) == (first, []) and len(reads) == 4  # none read again
    mine.write_text('name = "mine"\nprimary = "#445566"\nsecondary = "#000000"\n')
    changed, _ = discover_themes(BUILTIN_DIR, user)
    assert len(reads) == 5 and changed["mine"].primary == "#445566"
    (tmp_path / "cache" / "themes.json").write_text("{damaged")
    assert discover_themes(BUILTIN_DIR, user) == (changed, []) and len(reads) == 9


def test_watchdog_notices_a_hung_up_terminal() -> None:
    master, slave = os.openpty()
    try:
        dog = TerminalWatchdog(fds=(slave,), parent_pid=os.getppid())
        assert dog.problem() is None
        os.close(master)
        assert "terminal lost" in (dog.problem() or "")
    finally:
        os.close(slave)
