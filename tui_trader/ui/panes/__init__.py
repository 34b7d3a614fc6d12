"""One module per live pane; each renders from a View handed to it by the app."""

from tui_trader.ui.panes.base import Pane
from tui_trader.ui.panes.blotter import BlotterPane
from tui_trader.ui.panes.chart import ChartPane
from tui_trader.ui.panes.copy import CopyPane
from tui_trader.ui.panes.league import LeaguePane
from tui_trader.ui.panes.orderbook import OrderBookPane
from tui_trader.ui.panes.performance import PerformancePane
from tui_trader.ui.panes.positions import PositionsPane
from tui_trader.ui.panes.risk import RiskPane
from tui_trader.ui.panes.signals import SignalsPane
from tui_trader.ui.panes.spreads import SpreadsPane
from tui_trader.ui.panes.strategies import StrategiesPane
from tui_trader.ui.panes.tape import TapePane
from tui_trader.ui.panes.venues import VenuesPane
from tui_trader.ui.panes.watchlist import WatchlistPane

# Display order: tab order in the compact layout, number keys 1..9 then 0; the panes after the
# tenth have letter keys (layout.PANE_LETTERS: v Venues, V Spreads).
PANES: tuple[type[Pane], ...] = (
    WatchlistPane,
    OrderBookPane,
    ChartPane,
    PositionsPane,
    BlotterPane,
    RiskPane,
    SignalsPane,
    StrategiesPane,
    TapePane,
    PerformancePane,
    VenuesPane,
    SpreadsPane,
    CopyPane,
    LeaguePane,
)
# Shown only when two or more venues run: one venue has nothing to compare.
MULTI_VENUE: frozenset[str] = frozenset({VenuesPane.KEY, SpreadsPane.KEY})


__all__ = [
    "MULTI_VENUE",
    "PANES",
    "BlotterPane",
    "ChartPane",
    "CopyPane",
    "LeaguePane",
    "OrderBookPane",
    "Pane",
    "PerformancePane",
    "PositionsPane",
    "RiskPane",
    "SignalsPane",
    "SpreadsPane",
    "StrategiesPane",
    "TapePane",
    "VenuesPane",
    "WatchlistPane",
]
