"""Web logins: checked by tui_trader/daemon/logins.py (the daemon's TCP port checks the same)."""

from tui_trader.daemon.logins import HASHER, Logins, WebUser, hash_secret

__all__ = ["HASHER", "Logins", "WebUser", "hash_secret"]
