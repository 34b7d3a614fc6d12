"""Credentials: kept in the keyring only, handed to adapters only, never printed."""

from tui_trader.secrets.credentials import Credentials, fields_for, labels_for
from tui_trader.secrets.store import CredentialStore, load_credentials, token_saver

__all__ = ["CredentialStore", "Credentials", "fields_for", "labels_for", "load_credentials", "token_saver"]
