"""One module per live pane; each renders from a View handed to it by the app."""

from tui_trader.ui.panes.base import Pane
from tui_trader.ui.panes.blotter import BlotterPane
from tui_trader.ui.panes.chart import ChartPane
from tui_trader.ui.panes.orderbook import OrderBookPane
from tui_trader.ui.panes.positions import PositionsPane
from tui_trader.ui.panes.risk import RiskPane
from tui_trader.ui.panes.signals import SignalsPane
from tui_trader.ui.panes.strategies import StrategiesPane
from tui_trader.ui.panes.watchlist import WatchlistPane

# Display order: tab order in the compact layout, number keys 1..8.
PANES: tuple[type[Pane], ...] = (
    WatchlistPane,
    OrderBookPane,
    ChartPane,
    PositionsPane,
    BlotterPane,
    RiskPane,
    SignalsPane,
    StrategiesPane,
)

__all__ = [
    "PANES",
    "BlotterPane",
    "ChartPane",
    "OrderBookPane",
    "Pane",
    "PositionsPane",
    "RiskPane",
    "SignalsPane",
    "StrategiesPane",
    "WatchlistPane",
]
