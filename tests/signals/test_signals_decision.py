"""Decision engine: weights, decay, confluence, volatility damping, ranking, reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_trader.core.clock import FrozenClock
from tui_trader.core.enums import Direction
from tui_trader.core.errors import ConfigError
from tui_trader.core.signals import Signal
from tui_trader.signals.decision import DecisionEngine, family, format_age, rank, score_symbol
from tui_trader.signals.settings import DecisionSettings, load_signals_settings

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
S = DecisionSettings()
L, SH, F = Direction.LONG, Direction.SHORT, Direction.FLAT


def sig(
    source,
    direction,
    strength=1.0,
    *,
    symbol="BTC/USDT",
    age_h=0.0,
    tf=None,
    conf=None,
    reason="",
    meta=None,
):
    return Signal(
        source=source,
        symbol=symbol,
        direction=direction,
        strength=strength,
        ts=NOW - timedelta(hours=age_h),
        reason=reason,
        confidence=conf,
        timeframe=tf,
        meta=meta or {},
    )


def test_single_fresh_signal_scores_its_conviction():
    rec = score_symbol("BTC/USDT", [sig("strategy:ema", L, 0.8)], S, NOW)
    assert rec is not None
    assert rec.score == pytest.approx(0.8) and rec.direction is L
    assert rec.top_reasons[0].startswith("strategy:ema long +0.80")


def test_confidence_beats_strength_when_given():
    rec = score_symbol("X", [sig("chat:alpha", SH, 1.0, conf=0.5, symbol="X")], S, NOW)
    assert rec is not None and rec.score == pytest.approx(-0.5)


def test_age_halves_per_half_life_and_very_old_signals_drop():
    hl_h = S.half_life("strategy") / 3600
    one = score_symbol("X", [sig("strategy:a", L, 0.8, age_h=hl_h)], S, NOW)
    two = score_symbol("X", [sig("strategy:a", L, 0.8, age_h=2 * hl_h)], S, NOW)
    assert one is not None and two is not None
    assert one.score == pytest.approx(0.4) and two.score == pytest.approx(0.2)
    assert (
        score_symbol(
            "X", [sig("strategy:a", L, 0.8, age_h=(S.max_half_lives + 0.1) * hl_h)], S, NOW
        )
        is None
    )


def test_weights_combine_sources():
    signals = [sig("strategy:a", L, 0.8), sig("news", SH, 1.0, conf=0.4)]
    rec = score_symbol("BTC/USDT", signals, S, NOW)
    # (1.0*0.8 - 0.5*0.4) / (1.0 + 0.5)
    assert rec is not None and rec.score == pytest.approx(0.4)
    custom = DecisionSettings(weights={"strategy": 1.0, "news": 2.0})
    rec2 = score_symbol("BTC/USDT", signals, custom, NOW)
    assert rec2 is not None and rec2.score == pytest.approx(0.0) and rec2.direction is F


def test_zero_weight_source_is_ignored():
    custom = DecisionSettings(weights={"news": 0.0, "strategy": 1.0})
    assert score_symbol("X", [sig("news", L, 1.0)], custom, NOW) is None


def test_only_the_newest_signal_of_a_source_counts():
    old_long = sig("strategy:a", L, 1.0, age_h=1)
    new_short = sig("strategy:a", SH, 0.5)
    rec = score_symbol("BTC/USDT", [new_short, old_long], S, NOW)
    assert rec is not None and rec.score == pytest.approx(-0.5) and len(rec.contributions) == 1


def test_disagreement_lowers_confidence_and_more_sources_raise_it():
    agree = score_symbol(
        "X", [sig("strategy:a", L, 0.6), sig("ml", L, 0.6), sig("chat:a", L, 0.6)], S, NOW
    )
    split = score_symbol(
        "X", [sig("strategy:a", L, 0.6), sig("ml", SH, 0.6), sig("chat:a", L, 0.6)], S, NOW
    )
    alone = score_symbol("X", [sig("chat:a", L, 0.6)], S, NOW)
    assert agree and split and alone
    assert split.confidence < agree.confidence
    assert alone.confidence < agree.confidence


def test_multi_timeframe_confluence_bonus_and_opposition():
    tfs = [sig("strategy:a", L, 0.4, tf=tf) for tf in ("15m", "1h", "4h")]
    base = score_symbol("X", tfs[:1], S, NOW)
    three = score_symbol("X", tfs, S, NOW)
    assert base and three
    assert three.score == pytest.approx(base.score * (1 + 2 * S.confluence_bonus))
    assert any("confluence: long on 15m, 1h, 4h" in n for n in three.notes)
    opposed = score_symbol("X", [*tfs, sig("strategy:a", SH, 0.1, tf="1d")], S, NOW)
    assert opposed and not any("+30%" in n for n in opposed.notes)
    assert any("+15%" in n for n in opposed.notes)


def test_high_volatility_regime_damps():
    calm = [sig("strategy:a", L, 0.8), sig("regime", F, 0.0, meta={"regime": "RANGE"})]
    storm = [sig("strategy:a", L, 0.8), sig("regime", F, 0.0, meta={"regime": "HIGH_VOL"})]
    a, b = score_symbol("X", calm, S, NOW), score_symbol("X", storm, S, NOW)
    assert a and b
    assert b.score == pytest.approx(a.score * S.high_vol_damping, abs=1e-3)
    assert b.confidence == pytest.approx(a.confidence * S.high_vol_damping, abs=1e-3)
    assert b.notes and "high-volatility" in b.notes[0]


def test_rank_orders_by_strength_and_spreads_market_wide_news():
    signals = [
        sig("strategy:a", L, 0.3, symbol="ETH/USDT"),
        sig("strategy:a", SH, 0.9, symbol="BTC/USDT"),
        sig("news", SH, 1.0, conf=0.6, symbol="*", reason="Powell: no hurry to cut [FED_SPEECH]"),
    ]
    recs = rank(signals, S, NOW)
    assert [r.symbol for r in recs] == ["BTC/USDT", "ETH/USDT"]
    eth = recs[1]
    assert any(c.signal.symbol == "*" for c in eth.contributions)
    assert eth.score == pytest.approx((0.3 - 0.5 * 0.6) / 1.5, abs=1e-4)
    off = rank(signals, DecisionSettings(market_wide=False), NOW)
    assert {r.symbol: r.score for r in off}["ETH/USDT"] == pytest.approx(0.3)
    assert [r.symbol for r in rank(signals, S, NOW, symbols=["SOL/USDT"])] == [
        "SOL/USDT"
    ]  # news only


def test_top_reasons_are_three_strongest_in_the_direction():
    signals = [
        sig("strategy:a", L, 0.9, reason="ema cross"),
        sig("ml", L, 0.7, reason="p(up)=0.70"),
        sig("chat:alpha", L, 0.5, reason="BTC long"),
        sig("news", SH, 0.2, reason="bad headline"),
        sig("strategy:b", L, 0.1, reason="weak"),
    ]
    rec = score_symbol("BTC/USDT", signals, S, NOW)
    assert rec is not None and rec.direction is L
    assert len(rec.top_reasons) == 3
    assert [r.split(" ")[0] for r in rec.top_reasons] == ["strategy:a", "ml", "chat:alpha"]


def test_engine_holds_latest_and_prunes_with_the_clock():
    clock = FrozenClock(NOW)
    engine = DecisionEngine(DecisionSettings(), clock)
    engine.extend(
        [
            sig("strategy:a", L, 0.8),
            sig("strategy:a", L, 0.2, age_h=1),
            sig("chat:x", SH, 0.5, symbol="ETH/USDT"),
        ]
    )
    assert len(engine.signals()) == 2
    assert [r.symbol for r in engine.recommend()] == ["BTC/USDT", "ETH/USDT"]
    clock.advance(S.max_half_lives * S.half_life("strategy") + 1)
    recs = engine.recommend()
    assert [r.symbol for r in recs] == ["ETH/USDT"]  # chat half-life is longer
    assert len(engine.signals()) == 1


def test_settings_validation_is_one_line_config_error():
    assert (
        load_signals_settings({"decision": {"weights": {"chat": 2}}}).decision.weight("chat") == 2
    )
    for raw in (
        {"decision": {"weights": {"chat": -1}}},
        {"decision": {"wieghts": {}}},
        {"news": {"interval_s": 0}},
    ):
        with pytest.raises(ConfigError) as info:
            load_signals_settings(raw)
        assert str(info.value).startswith("signals.") and "\n" not in str(info.value)


def test_helpers():
    assert family("strategy:ema_cross") == "strategy" and family("news") == "news"
    assert [format_age(s) for s in (5, 90, 7200, 200000)] == ["5s", "2m", "2h", "2d"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["strategy:a", "strategy:b", "ml", "news", "chat:a", "regime", "other"]
            ),
            st.sampled_from([L, SH, F]),
            st.floats(0, 1),
            st.floats(0, 48),
            st.sampled_from([None, "1h", "4h", "1d"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_scores_and_confidence_stay_in_range(items):
    signals = [sig(src, d, s, age_h=a, tf=tf) for src, d, s, a, tf in items]
    for rec in rank(signals, S, NOW):
        assert -1.0 <= rec.score <= 1.0
        assert 0.0 <= rec.confidence <= 1.0
        assert len(rec.top_reasons) <= 3
        assert (rec.direction is F) == (abs(rec.score) < S.flat_threshold)
