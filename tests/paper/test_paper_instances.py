"""Named paper instances: several exchanges on one shared paper market, each with its own seed,
fees, latency, balances and a premium (basis) over the market, as real venues differ."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui_trader.config import Settings, load_settings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.errors import ConfigError
from tui_trader.core.market import Candle
from tui_trader.venues.paper import PaperVenue
from tui_trader.venues.registry import build_venues

NOW = datetime(2026, 3, 11, 17, 42, 13, tzinfo=UTC)


def build(venues: dict[str, dict[str, object]], now: datetime = NOW) -> tuple[dict[str, PaperVenue], FrozenClock]:
    clock = FrozenClock(now)
    built = build_venues(Settings(venues=venues), clock, None)  # type: ignore[arg-type]
    out = {}
    for name, v in built.items():
        assert isinstance(v, PaperVenue)
        v.run_feed = False
        out[name] = v
    return out, clock


async def quotes(venues: dict[str, PaperVenue], symbol: str = "BTC/USDT") -> dict[str, tuple[float, float]]:
    for v in venues.values():
        if v.state.value != "connected":
            await v.connect(lambda event: None)
        v.step()
    return {n: (v._tickers[symbol].bid, v._tickers[symbol].ask) for n, v in venues.items()}


async def test_two_seeds_quote_one_market_at_different_prices() -> None:
    venues, clock = build({"east": {"kind": "paper", "seed": 11}, "west": {"kind": "paper", "seed": 12}})
    gaps = []
    for _ in range(30):
        clock.advance(601)
        q = await quotes(venues)
        mids = {n: (b + a) / 2 for n, (b, a) in q.items()}
        assert mids["east"] != mids["west"]
        gaps.append(abs(math.log(mids["east"] / mids["paper"])) * 1e4)
    # the same market: a few basis points apart, never an unrelated random walk
    assert max(gaps) < 30
    assert sum(gaps) / len(gaps) > 0.5
    for v in venues.values():
        await v.close()


async def test_the_reference_instance_is_the_market_itself() -> None:
    """`paper` (and any instance with the market's seed and no basis) quotes exactly what the
    single paper venue always quoted."""
    venues, _ = build({"twin": {"kind": "paper"}})
    q = await quotes(venues)
    assert q["twin"] == q["paper"]
    alone, _ = build({})
    assert (await quotes(alone))["paper"] == q["paper"]


async def test_a_fixed_basis_moves_quotes_and_history_alike() -> None:
    venues, _ = build({"rich": {"kind": "paper", "basis_bps": 20, "basis_noise_bps": 0}})
    q = await quotes(venues)
    ratio = ((q["rich"][0] + q["rich"][1]) / 2) / ((q["paper"][0] + q["paper"][1]) / 2)
    assert ratio == pytest.approx(1.002, abs=2e-6)
    rich = await venues["rich"].fetch_candles("BTC/USDT", "1m", limit=30)
    plain = await venues["paper"].fetch_candles("BTC/USDT", "1m", limit=30)
    for r, p in zip(rich, plain, strict=True):
        assert r.close == pytest.approx(p.close * 1.002, abs=0.011)
        assert r.low <= min(r.open, r.close) <= max(r.open, r.close) <= r.high


async def test_an_instance_with_its_own_seed_keeps_one_coherent_history() -> None:
    """The basis is constant within each minute: hour bars are their minutes, and the last bar
    joins the live quote."""
    venues, _ = build({"east": {"kind": "paper", "seed": 11}})
    east = venues["east"]
    hours = await east.fetch_candles("BTC/USDT", "1h", limit=48)
    minutes = await east.fetch_candles("BTC/USDT", "1m", limit=60 * 48)
    for bar in hours[-24:]:
        inside = [c for c in minutes if bar.open_time <= c.open_time < bar.open_time + timedelta(hours=1)]
        assert (bar.open, bar.close) == (inside[0].open, inside[-1].close)
        assert bar.high == max(c.high for c in inside) and bar.low == min(c.low for c in inside)
    q = await quotes(venues)
    last: Candle = minutes[-1]
    mid = sum(q["east"]) / 2
    assert abs(mid / last.close - 1) < 0.003


async def test_each_instance_has_its_own_fees_and_balances() -> None:
    venues, _ = build(
        {"east": {"kind": "paper", "seed": 11, "taker_fee": 0.001, "maker_fee": 0.0, "balances": {"USDT": 5000}}}
    )
    east = venues["east"]
    assert float(east.matching.taker_fee) == pytest.approx(0.001) and east.matching.maker_fee == 0
    assert {c: float(b.total) for c, b in (await east.fetch_balances()).items()} == {"USDT": 5000.0}
    assert float(venues["paper"].matching.taker_fee) == pytest.approx(0.0005)


def test_auto_is_not_a_venue_name() -> None:
    with pytest.raises(ConfigError, match="reserved"):
        build({"auto": {"kind": "paper"}})


def test_paper_keys_on_a_ccxt_venue_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[venues.binance]\nkind = "ccxt"\nexchange = "binance"\nseed = 3\n')
    with pytest.raises(ConfigError, match="only apply to kind"):
        load_settings(path)


async def test_an_instance_never_lends_its_bars_to_the_market() -> None:
    """Bars are cached by what they depend on: the basis is part of the key (a cached hour of
    a venue with a premium once came back for the plain market)."""
    venues, _ = build({"rich": {"kind": "paper", "basis_bps": 25, "basis_noise_bps": 0}})
    rich = await venues["rich"].fetch_candles("BTC/USDT", "1h", limit=3)
    plain = await venues["paper"].fetch_candles("BTC/USDT", "1h", limit=3)
    assert all(r.close != p.close for r, p in zip(rich, plain, strict=True))
    path = venues["paper"].path("BTC/USDT")
    assert plain[-1].close == path.price(plain[-1].open_time.timestamp() + 3600)
