"""Credentials: kept in the keyring only, handed to adapters only, never printed."""

from tui_trader.secrets.credentials import Credentials, fields_for
from tui_trader.secrets.store import CredentialStore, load_credentials

__all__ = ["CredentialStore", "Credentials", "fields_for", "load_credentials"]
