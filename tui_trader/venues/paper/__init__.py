"""The embedded paper exchange: a market simulator (or replay/live feed) plus a matching engine."""

from tui_trader.venues.paper.venue import PaperVenue

__all__ = ["PaperVenue"]
