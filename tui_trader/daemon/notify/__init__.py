"""Alerts from the daemon: fills, rejects, breakers, disconnects and strategy errors, to chat and email."""

from tui_trader.daemon.notify.alerts import Alert, classify
from tui_trader.daemon.notify.dispatcher import Notifier

__all__ = ["Alert", "Notifier", "classify"]
