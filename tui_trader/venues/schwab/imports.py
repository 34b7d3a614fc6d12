"""schwab-py's OAuth library, imported without its process-wide warnings."""

from __future__ import annotations

import warnings


def quiet_authlib() -> None:
    """Import authlib (schwab-py's OAuth client) with its warnings kept to itself: on import it
    turns its deprecation warnings on for the whole process (`simplefilter("always")`) and
    warns about its own httpx integration, which would print into a trader's terminal."""
    with warnings.catch_warnings(record=True):  # also drops the "always" filter on the way out
        try:
            import authlib.integrations.httpx_client  # noqa: F401
        except ImportError:
            pass
