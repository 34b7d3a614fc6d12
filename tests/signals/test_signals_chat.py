"""Chat trade-signal parser: table-driven messages, sanity flags, order and signal helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_trader.core.enums import Direction, OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.signals.chat import ParseError, parse_signal

# (message, symbol, side, entry, stop, targets, leverage)
CASES = [
    (
        "BTC/USDT LONG entry 64000-64500 SL 63000 TP1 66000 TP2 68000",
        "BTC/USDT",
        Side.BUY,
        (D(64000), D(64500)),
        D(63000),
        [D(66000), D(68000)],
        None,
    ),
    ("Buy $AAPL @ 190 stop 185 target 200", "AAPL", Side.BUY, D(190), D(185), [D(200)], None),
    (
        "#ETH short 3200 sl 3350 tp 3000/2900 10x",
        "ETH",
        Side.SELL,
        D(3200),
        D(3350),
        [D(3000), D(2900)],
        D(10),
    ),
    (
        "SOL/USDT buy zone 140 - 142, targets 150, 160, stop loss 135",
        "SOL/USDT",
        Side.BUY,
        (D(140), D(142)),
        D(135),
        [D(150), D(160)],
        None,
    ),
    (
        "🚀🚀 btcusdt Long 🟢 Entry: 64k - 64.5k ⛔️ SL: 63k "
        "🎯 TP: 66k, 68k, 70k Leverage: cross 20x",
        "BTC/USDT",
        Side.BUY,
        (D(64000), D(64500)),
        D(63000),
        [D(66000), D(68000), D(70000)],
        D(20),
    ),
    (
        "📉 SHORT #DOGE entry 0.1650 – 0.1680 SL 0.1750 TP 0.1550 | 0.1450 x5",
        "DOGE",
        Side.SELL,
        (D("0.1650"), D("0.1680")),
        D("0.1750"),
        [D("0.1550"), D("0.1450")],
        D(5),
    ),
    (
        "sell ETH-USDT at 3,450 stoploss 3,520 take profit 3,300",
        "ETH/USDT",
        Side.SELL,
        D(3450),
        D(3520),
        [D(3300)],
        None,
    ),
    (
        "XRPUSDT.P LONG Entry zone: 0.52 to 0.53 Targets: 0.55 - 0.58 - 0.62 Stop: 0.50",
        "XRP/USDT",
        Side.BUY,
        (D("0.52"), D("0.53")),
        D("0.50"),
        [D("0.55"), D("0.58"), D("0.62")],
        None,
    ),
    ("$TSLA buy around 240 SL 232 TGT 260", "TSLA", Side.BUY, D(240), D(232), [D(260)], None),
    (
        "Bullish on LINK/USDT: entries 14.2/14.6, invalidation 13.5, tp 16",
        "LINK/USDT",
        Side.BUY,
        (D("14.2"), D("14.6")),
        D("13.5"),
        [D(16)],
        None,
    ),
    ("AVAX short now sl 40 tp 30", "AVAX", Side.SELL, None, D(40), [D(30)], None),
    ("eth long 3200, SL 3100, tp 3400 lev 3", "ETH", Side.BUY, D(3200), D(3100), [D(3400)], D(3)),
]


@pytest.mark.parametrize(("text", "symbol", "side", "entry", "stop", "targets", "leverage"), CASES)
def test_parse_table(text, symbol, side, entry, stop, targets, leverage):
    sig = parse_signal(text)
    assert sig.symbol == symbol
    assert sig.side is side
    assert sig.entry == entry
    assert sig.stop == stop
    assert list(sig.targets) == targets
    assert sig.leverage == leverage


@pytest.mark.parametrize(
    "text",
    [
        "BTC/USDT LONG entry 64000-64500 SL 63000 TP1 66000 TP2 68000",
        "Buy $AAPL @ 190 stop 185 target 200",
        "#ETH short 3200 sl 3350 tp 3000/2900 10x",
    ],
)
def test_clean_signals_are_fully_confident(text):
    sig = parse_signal(text)
    assert sig.confidence == 1.0
    assert sig.reasons == ()


# (message, expected reason fragment, max confidence)
FLAGS = [
    (
        "BTC/USDT long entry 64000 SL 65000 TP 66000",
        "stop 65000 is above the entry for a long",
        0.6,
    ),
    ("ETH/USDT short entry 3200 SL 3100 TP 3000", "stop 3100 is below the entry for a short", 0.6),
    ("BTC/USDT long entry 64000 TP 66000", "no stop given", 0.75),
    ("BTC/USDT long entry 64000 SL 63000", "no target given", 0.9),
    (
        "BTC/USDT long entry 64000 SL 63000 TP 62000",
        "target 62000 is below the entry for a long",
        0.7,
    ),
    (
        "BTC/USDT long entry 64000-64500 SL 64200 TP 66000",
        "stop 64200 is inside the entry zone",
        0.7,
    ),
    ("BTC/USDT long entry 64000 SL 63000 TP 68000 66000", "targets are out of order", 0.95),
    ("BTC/USDT long entry 64000 SL 63000 TP 640000", "far from the entry", 0.8),
    ("BTC/USDT long entry 64000 SL 63000 TP 64500", "first target pays 0.50 R", 0.9),
    ("BTC/USDT long entry 50000-60000 SL 45000 TP 70000", "wider than 10 %", 0.9),
    ("QNTX long entry 10 SL 9 TP 12", "symbol guessed from the word QNTX", 0.75),
    ("BTC/USDT entry 64000 SL 63000 TP 66000", "side inferred from the levels (buy)", 0.85),
    ("ETH/USDT entry 3200 SL 3300 TP 3000", "side inferred from the levels (sell)", 0.85),
    ("BTC/USDT long now SL 63000 TP 66000", "market order", 0.95),
    ("BTC/USDT long entry 64000 SL 63000 SL 62500 TP 66000", "several stops", 0.9),
    ("BTC/USDT long, sell ETH/USDT entry 64000 SL 63000 TP 66000", "several symbols", 0.9),
    ("BTC/USDT long entry 64000 SL 63000 TP 66000 200x", "leverage 200x looks wrong", 0.9),
    (
        "BTC/USDT long, then sell at top. entry 64000 SL 63000 TP 66000",
        "both buy and sell words",
        0.9,
    ),
]


@pytest.mark.parametrize(("text", "fragment", "max_conf"), FLAGS)
def test_sanity_flags_lower_confidence(text, fragment, max_conf):
    sig = parse_signal(text)
    assert any(fragment in r for r in sig.reasons), sig.reasons
    assert sig.confidence <= max_conf


def test_wrong_stop_costs_more_than_missing_target():
    wrong = parse_signal("BTC/USDT long entry 64000 SL 65000 TP 66000")
    no_tp = parse_signal("BTC/USDT long entry 64000 SL 63000")
    assert wrong.confidence < no_tp.confidence < 1.0
    assert wrong.risk_reward is None and no_tp.risk_reward is None
    assert parse_signal("BTC/USDT long entry 64000 SL 63000 TP 66000").risk_reward == 2.0


@pytest.mark.parametrize(
    "text", ["", "   ", "gm everyone, big day today", "moon soon 🚀🚀🚀", "BTC/USDT to the moon"]
)
def test_unparseable_raises_one_line_user_error(text):
    with pytest.raises(ParseError) as info:
        parse_signal(text)
    assert isinstance(info.value, UserError)
    assert "\n" not in str(info.value)


def test_known_symbols_resolve_bare_bases_and_flag_unknown():
    known = ["BTC/USDT", "ETH/USDT", "AAPL"]
    assert parse_signal("#ETH short 3200 sl 3350 tp 3000", known_symbols=known).symbol == "ETH/USDT"
    assert (
        parse_signal("btcusdt long 64000 sl 63000 tp 66000", known_symbols=known).symbol
        == "BTC/USDT"
    )
    unknown = parse_signal("$NVDA buy 900 stop 880 target 950", known_symbols=known)
    assert unknown.symbol == "NVDA"
    assert any("not among the known symbols" in r for r in unknown.reasons)
    assert unknown.confidence < 1.0


def test_known_symbols_pick_a_lowercase_word_that_is_not_a_common_ticker():
    sig = parse_signal("wif long 2.1 sl 1.9 tp 2.6", known_symbols=["WIF/USDT"])
    assert sig.symbol == "WIF/USDT"
    assert sig.reasons == ()


def test_order_request_uses_zone_midpoint_stop_and_first_target():
    sig = parse_signal("BTC/USDT LONG entry 64000-64500 SL 63000 TP1 66000 TP2 68000")
    req = sig.to_order_request(D("0.01"), venue="paper", provider="alpha")
    assert req.type is OrderType.LIMIT
    assert req.price == D(64250)
    assert req.stop_loss == D(63000)
    assert req.take_profit == D(66000)
    assert req.side is Side.BUY and req.quantity == D("0.01")
    assert req.source == "signal:alpha" and req.venue == "paper"


def test_order_request_without_entry_is_market_and_rejects_zero_size():
    sig = parse_signal("AVAX short now sl 40 tp 30")
    assert sig.to_order_request(D(1)).type is OrderType.MARKET
    with pytest.raises(UserError):
        sig.to_order_request(D(0))


def test_to_signal_and_dict():
    sig = parse_signal("#ETH short 3200 sl 3350 tp 3000/2900 10x")
    at = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    s = sig.to_signal("alpha", at, reliability=0.5)
    assert s.source == "chat:alpha" and s.direction is Direction.SHORT
    assert s.confidence == pytest.approx(0.5) and s.ts == at
    d = sig.as_dict()
    assert d["entry"] == "3200" and d["targets"] == ["3000", "2900"] and d["leverage"] == "10"
    assert d["risk_reward"] == pytest.approx(1.33, abs=0.01)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("BTCusdtETH/$#@ .,-:0123456789kxSLTPlongshortbuysell🚀🎯\n")),
        max_size=80,
    )
)
def test_any_text_parses_or_raises_parse_error(text):
    try:
        sig = parse_signal(text)
    except ParseError as exc:
        assert "\n" not in str(exc)
        return
    assert 0.0 <= sig.confidence <= 1.0
    assert sig.symbol
    if isinstance(sig.entry, tuple):
        assert sig.entry[0] <= sig.entry[1]
