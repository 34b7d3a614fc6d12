"""Build venues from settings. Adapters import their heavy client libraries lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.config.venues import VenueSettings
from tui_trader.core.clock import Clock
from tui_trader.core.errors import ConfigError
from tui_trader.venues.base import Venue
from tui_trader.venues.kinds import factory_for, register_kind

if TYPE_CHECKING:
    from pathlib import Path

    from tui_trader.config import Settings
    from tui_trader.config.paper import PaperSettings
    from tui_trader.home import Home
    from tui_trader.venues.paper.path import Basis

DEFAULT_BASIS_NOISE_BPS = 4.0  # a paper instance with its own seed: how far its premium wanders
RESERVED = frozenset({"auto"})  # `--venue auto` is best-price routing, never a venue

def _paper(name: str, vs: VenueSettings, settings: Settings, clock: Clock, home: Home | None) -> Venue:
    from tui_trader.venues.paper import PaperVenue

    if vs.data_from:  # paper matching on another venue's live stream
        from tui_trader.venues.livefeed import live_paper_venue

        return live_paper_venue(name, vs, settings, clock, home)
    paper, basis = paper_instance(vs, settings.paper)
    journal = None if home is None else home.root / f"{name}_venue.jsonl"
    if paper.replay_file:
        return _replay_venue(name, paper, clock, journal)
    return PaperVenue(paper, clock, name=name, journal_path=journal, market_seed=settings.paper.seed, basis=basis)


def paper_instance(vs: VenueSettings, market: PaperSettings) -> tuple[PaperSettings, Basis | None]:
    """A named paper venue's own settings (its seed, fees, latency, balances over `[paper]`'s)
    and its basis over the shared market. The instance whose seed is the market's quotes the
    market itself; any other seed adds its own wandering premium (docs/paper.md)."""
    from tui_trader.venues.paper.path import Basis

    updates: dict[str, object] = {"symbols": vs.symbols} if vs.symbols else {}
    for key in ("seed", "maker_fee", "taker_fee", "ack_latency_ms", "balances"):
        value = getattr(vs, key)
        if value is not None:
            updates[key] = value
    paper = market.model_copy(update=updates)
    own = paper.seed != market.seed
    noise = vs.basis_noise_bps if vs.basis_noise_bps is not None else (DEFAULT_BASIS_NOISE_BPS if own else 0.0)
    basis = Basis(paper.seed, vs.basis_bps, noise)
    return paper, basis if basis.active else None


def _replay_venue(name: str, paper: PaperSettings, clock: Clock, journal: Path | None) -> Venue:
    from tui_trader.core.clock import FrozenClock
    from tui_trader.core.errors import DataError
    from tui_trader.venues.paper import PaperVenue
    from tui_trader.venues.paper.feeds import ReplaySource
    from tui_trader.venues.paper.instruments import paper_instrument

    try:
        from tui_trader.data import load_ohlcv
    except ImportError as exc:  # pragma: no cover - data package always ships
        raise DataError(f"replay needs the data package: {exc}") from None
    assert paper.replay_file is not None  # the caller only replays when a file is set
    frame = load_ohlcv(paper.replay_file)
    symbol = paper.replay_symbol or "REPLAY/USD"
    inst = paper_instrument(symbol, name)
    replay_clock = clock if isinstance(clock, FrozenClock) else FrozenClock(frame["date"].iloc[0].to_pydatetime())
    source = ReplaySource(frame, inst, replay_clock)
    return PaperVenue(
        paper.model_copy(update={"symbols": [symbol]}),
        replay_clock,
        name=name,
        journal_path=journal,
        source=source,
        instruments={symbol: inst},
    )


register_kind("paper", _paper)


def build_venues(settings: Settings, clock: Clock, home: Home | None) -> dict[str, Venue]:
    """The paper venue is always there; `[venues.*]` tables add more."""
    venues: dict[str, Venue] = {"paper": _paper("paper", VenueSettings(kind="paper"), settings, clock, home)}
    for name, vs in settings.venues.items():
        if name.lower() in RESERVED:
            raise ConfigError(f"venues.{name}: {name!r} is reserved for best-price routing (--venue auto); rename it")
        venues[name] = factory_for(vs.kind, f"venues.{name}.kind")(name, vs, settings, clock, home)
    return venues
