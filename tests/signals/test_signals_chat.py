"""Chat trade-signal parser: confidence flags, order and signal helpers, fuzzing.

What each message reads as is the corpus (tests/signals/data/chat_corpus.toml,
test_signals_chat_corpus.py); this file checks how doubts lower confidence and what the
parse turns into.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_trader.core.enums import Direction, OrderType, Side
from tui_trader.core.errors import UserError
from tui_trader.signals.chat import Kind, ParseError, parse_message, parse_signal
from tui_trader.signals.chat.segments import is_question, split_quote
from tui_trader.signals.chat.text import normalise

AUTO = 0.7  # the default [signals.chat] min_confidence


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


# (message, expected reason fragment, must it block auto-execution?)
FLAGS = [
    ("BTC/USDT long entry 64000 SL 65000 TP 66000", "stop 65000 is above the entry for a long", True),
    ("ETH/USDT short entry 3200 SL 3100 TP 3000", "stop 3100 is below the entry for a short", True),
    ("BTC/USDT long entry 64000 TP 66000", "no stop given", True),
    ("BTC/USDT long entry 64000 SL 63000 TP 62000", "target 62000 is below the entry", True),
    ("BTC/USDT long entry 64000-64500 SL 64200 TP 66000", "stop 64200 is inside the entry zone", True),
    ("BTC/USDT long entry 64000 SL 63000 TP 640000", "far from the entry", True),
    ("QNTX long entry 10 SL 9 TP 12", "symbol guessed from the word QNTX", True),
    ("BTC/USDT long entry 64000 SL 63000 SL 62500 TP 66000", "several stops", True),
    ("BTC/USDT long, sell ETH/USDT entry 64000 SL 63000 TP 66000", "several symbols", True),
    ("BTC/USDT long entry 64000 SL 63000 TP 66000 200x", "leverage 200x looks wrong", True),
    ("BTC/USDT long, then sell at top. entry 64000 SL 63000 TP 66000", "both buy and sell words", True),
    ("NVDA long 118 120 sl 112 tp 130", "numbers not placed: 120", True),
    ("BTC long 64000 SL tba TP 66000", "could not read a level after 'sl tba'", True),
    ("BTC long 64000 sl 63000 tp 66000, maybe", "hedged wording ('maybe')", True),
    ("ETH long now sl -3% tp 3400", "levels given in % or R of an entry price", True),
    ("BTC/USDT long entry 64000 SL 63000", "no target given", False),
    ("BTC/USDT long entry 64000 SL 63000 TP 68000 66000", "targets are out of order", False),
    ("BTC/USDT long entry 64000 SL 63000 TP 64500", "first target pays 0.50 R", False),
    ("BTC/USDT long entry 50000-60000 SL 45000 TP 70000", "wider than 10 %", False),
    ("Reposting: BTC long 63,400 sl 62,600 tp 65,000", "repeats an earlier call ('reposting')", True),
    ("BTC/USDT entry 64000 SL 63000 TP 66000", "side inferred from the levels (buy)", False),
    ("ETH/USDT entry 3200 SL 3300 TP 3000", "side inferred from the levels (sell)", False),
    ("BTC/USDT long now SL 63000 TP 66000", "market order", False),
    ("BTC long 64000 sl 63000 tp 66000, move SL to BE after TP1", "management plan", False),
]


@pytest.mark.parametrize(("text", "fragment", "blocks"), FLAGS)
def test_each_doubt_is_named_and_blocking_ones_stop_auto_execution(text, fragment, blocks):
    sig = parse_signal(text)
    assert any(fragment in r for r in sig.reasons), sig.reasons
    assert sig.confidence < 1.0
    assert (sig.confidence < AUTO) is blocks, (sig.confidence, sig.reasons)


def test_wrong_stop_costs_more_than_missing_target():
    wrong = parse_signal("BTC/USDT long entry 64000 SL 65000 TP 66000")
    no_tp = parse_signal("BTC/USDT long entry 64000 SL 63000")
    assert wrong.confidence < no_tp.confidence < 1.0
    assert wrong.risk_reward is None and no_tp.risk_reward is None
    assert parse_signal("BTC/USDT long entry 64000 SL 63000 TP 66000").risk_reward == 2.0


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("gm everyone, big day today", Kind.INFO),
        ("moon soon 🚀🚀🚀", Kind.INFO),
        ("BTC/USDT to the moon", Kind.INFO),
        ("Closing my BTC long here, +12% 💰", Kind.EXIT),
        ("$AAPL calls", Kind.UNSUPPORTED),
    ],
)
def test_parse_signal_refuses_anything_but_an_entry_in_one_line(text, kind):
    assert parse_message(text).kind is kind
    with pytest.raises(ParseError) as info:
        parse_signal(text)
    assert isinstance(info.value, UserError)
    assert kind.value in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_message_is_a_parse_error(text):
    with pytest.raises(ParseError, match="empty message"):
        parse_message(text)


def test_known_symbols_resolve_spellings_and_refuse_what_no_venue_trades():
    known = ["BTC/USDT", "ETH/USDT", "AAPL", "XAU_USD"]
    assert parse_signal("#ETH short 3200 sl 3350 tp 3000", known_symbols=known).symbol == "ETH/USDT"
    assert parse_signal("btcusdt long 64000 sl 63000 tp 66000", known_symbols=known).symbol == "BTC/USDT"
    assert parse_signal("gold long 2315 sl 2305 tp 2335", known_symbols=known).symbol == "XAU_USD"
    unknown = parse_message("$NVDA buy 900 stop 880 target 950", known_symbols=known)
    assert unknown.kind is Kind.UNSUPPORTED and unknown.symbol == "NVDA"
    assert "not traded on the configured venues" in unknown.reasons[0]
    assert unknown.confidence == 0.0


def test_known_symbols_pick_a_lowercase_word_that_is_not_a_common_ticker():
    sig = parse_signal("wif long 2.1 sl 1.9 tp 2.6", known_symbols=["WIF/USDT"])
    assert sig.symbol == "WIF/USDT"
    assert sig.reasons == ()


def test_percent_levels_are_relative_to_the_entry_and_follow_the_side():
    long = parse_signal("#XRP buy 0.52 sl -5% tp +10%")
    assert (long.stop, long.targets) == (D("0.494"), (D("0.572"),))
    short = parse_signal("ETH short 3200 sl 2% tp 5%")  # no sign: the side decides
    assert (short.stop, short.targets) == (D("3264"), (D("3040"),))
    odd = parse_signal("ETH short 3200 sl -2% tp 3000")  # a target's sign on a stop: flagged
    assert odd.stop == D("3264") and any("sign of a target" in r for r in odd.reasons)


def test_order_request_uses_zone_midpoint_stop_and_first_target():
    sig = parse_signal("BTC/USDT LONG entry 64000-64500 SL 63000 TP1 66000 TP2 68000")
    req = sig.to_order_request(D("0.01"), venue="paper", provider="alpha")
    assert req.type is OrderType.LIMIT
    assert req.price == D(64250)
    assert req.stop_loss == D(63000)
    assert req.take_profit == D(66000)
    assert req.side is Side.BUY and req.quantity == D("0.01")
    assert req.source == "signal:alpha" and req.venue == "paper"


def test_a_trigger_entry_becomes_a_stop_order():
    sig = parse_signal("BTC short if it loses 62k, sl 63.5k, tp 58k")
    req = sig.to_order_request(D("0.01"))
    assert req.type is OrderType.STOP and req.stop_price == D(62000) and req.price is None
    assert req.side is Side.SELL and req.stop_loss == D(63500)


def test_order_request_without_entry_is_market_and_rejects_zero_size():
    sig = parse_signal("AVAX short now sl 40 tp 30")
    assert sig.entry == () and sig.to_order_request(D(1)).type is OrderType.MARKET
    with pytest.raises(UserError):
        sig.to_order_request(D(0))


def test_only_an_entry_becomes_an_order_or_a_signal():
    exit_msg = parse_message("Closing my BTC long here")
    at = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    with pytest.raises(UserError, match="exit"):
        exit_msg.to_order_request(D(1))
    with pytest.raises(UserError, match="exit"):
        exit_msg.to_signal("alpha", at)


def test_to_signal_and_dict():
    sig = parse_signal("#ETH short 3200 sl 3350 tp 3000/2900 10x")
    at = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    s = sig.to_signal("alpha", at, reliability=0.5)
    assert s.source == "chat:alpha" and s.direction is Direction.SHORT
    assert s.confidence == pytest.approx(0.5) and s.ts == at
    d = sig.as_dict()
    assert d["kind"] == "entry" and d["entry_type"] == "limit"
    assert d["entry"] == ["3200"] and d["targets"] == ["3000", "2900"] and d["leverage"] == "10"
    assert d["risk_reward"] == pytest.approx(1.33, abs=0.01)
    assert d["fraction"] is None and d["breakeven"] is False and d["all_symbols"] is False


def test_exit_update_and_cancel_fields():
    half = parse_message("Take half off SOL here, let the rest ride with stop at entry")
    assert (half.kind, half.fraction, half.breakeven) == (Kind.EXIT, D("0.5"), True)
    move = parse_message("Adjusting BTC stop loss to 63.2k")
    assert (move.kind, move.stop, move.fraction) == (Kind.UPDATE, D(63200), None)
    everything = parse_message("Cancel all pending orders")
    assert (everything.kind, everything.symbol, everything.all_symbols) == (Kind.CANCEL, None, True)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("BTCusdtETH/$#@ .,-:%0123456789kxSLTPlongshortbuysellcloe🚀🎯⛔\n")),
        max_size=80,
    )
)
def test_any_text_parses_without_raising(text):
    if not text.strip():
        return
    sig = parse_message(text)
    assert 0.0 <= sig.confidence <= 1.0
    if sig.kind is Kind.ENTRY:
        assert sig.symbol and sig.side is not None and sig.entry_type is not None
    if len(sig.entry) == 2:
        assert sig.entry[0] <= sig.entry[1]
    if not sig.kind.actionable:
        assert sig.confidence == 0.0 and sig.reasons


# -- the structure around the levels: quotes, sentences, spelling ------------------------------


def test_a_quote_is_context_and_the_reply_is_the_message():
    parts = split_quote("> ETH short 3,300 sl 3,380\n> tp 3,150\nclosing this here +1.2R")
    assert parts.quote == "ETH short 3,300 sl 3,380\ntp 3,150"
    assert parts.body == "closing this here +1.2R"
    # nothing but a quote, or a line that starts with a price ("> 232.50" is "above 232.50"): as written
    assert split_quote("> BTC long 64000 sl 63000").body == "> BTC long 64000 sl 63000"
    assert split_quote("AAPL breakout buy\n> 232.50").quote == ""
    # ">>> " quotes the rest of the message
    assert split_quote("nice\n>>> BTC long\nsl 63000").quote == "BTC long\nsl 63000"


def test_a_reply_takes_the_symbol_and_side_of_the_quoted_call_and_nothing_else():
    parsed = parse_message("> ETH short 3,300 sl 3,380 tp 3,150\ncut it here")
    assert (parsed.kind, parsed.symbol, parsed.side, parsed.stop, parsed.targets) == (
        Kind.EXIT, "ETH", Side.SELL, None, ()
    )  # fmt: skip
    own = parse_message("> ETH short 3,300 sl 3,380\nSOL: move stop to 141")
    assert (own.kind, own.symbol, own.stop) == (Kind.UPDATE, "SOL", D("141"))


@pytest.mark.parametrize(
    ("text", "word", "asked"),
    [
        ("Is BTC long at 64k with SL 63k a good idea?", "long", True),
        ("BTC long 64000 sl 63000 tp 66000. Who's in?", "long", False),
        ("Should I long ETH here or wait?", "long", True),
        ("@everyone is SOL long still valid ? 145", "long", True),
    ],
)
def test_a_side_word_is_asked_only_inside_a_question(text, word, asked):
    low = text.lower()
    assert is_question(low, low.index(word)) is asked


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("BNB LONG ENTERY 590", "BNB LONG ENTRY 590"),
        ("tagret 5, stoplos 4", "target 5, stoploss 4"),
        ("S/L 1.0870 T/P2 1.08", "SL 1.0870 TP2 1.08"),
        ("ETH SL -> 3,280", "ETH SL to 3,280"),
        ("buy > 232.50", "buy  above 232.50"),
        ("sentry entered shop", "sentry entered shop"),  # real words stay
    ],
)
def test_shorthands_and_one_letter_typos_of_labels_are_read_as_the_label(written, read):
    assert normalise(written) == read


@pytest.mark.parametrize(
    "text",
    [
        "Fed cuts rates, BTC pumping",
        "BTC dumping hard, longs getting wrecked",
        "gold might dump below 2300",
        "Reduce risk today, markets are choppy",
        "Markets close early today",
        "Market closes early Friday",
        "$NVDA earnings after close, no position",
        "ETH ran into the close",
    ],
)
def test_what_the_market_does_is_not_an_exit(text):
    assert parse_message(text).kind is Kind.INFO


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Cut SOL here, not working", Kind.EXIT),
        ("cut my losses on ADA", Kind.EXIT),
        ("We cut the SOL position in half", Kind.EXIT),
        ("Dumping my LINK bag here", Kind.EXIT),
        ("Market close all BTC", Kind.EXIT),  # the order type, not the market closing
        ("market close my ETH long", Kind.EXIT),
    ],
)
def test_the_same_verbs_close_a_position_when_the_provider_does_it(text, kind):
    assert parse_message(text).kind is kind
