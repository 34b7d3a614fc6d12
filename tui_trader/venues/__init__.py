"""Venues: one async protocol, implemented by paper (embedded), ccxt and alpaca."""

from tui_trader.venues.base import Venue, VenueCapabilities, VenueError

__all__ = ["Venue", "VenueCapabilities", "VenueError"]
