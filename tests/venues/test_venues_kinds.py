"""Which venue kinds take new keys while running is said twice: by each adapter's class
(`takes_keys`, with `reconnect_with`: `KeyedVenue`, read by `venue reconnect`) and at its
registration (`venues.kinds.takes_keys`, read by `keys set` without loading the venue's
library). They must agree, for every adapter."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import tui_trader.venues
from tui_trader.venues import kinds


def _adapters() -> dict[str, type]:
    """Each adapter package's venue class (`tui_trader.venues.<kind>.venue`, `kind = "<kind>"`)."""
    found = {}
    for info in pkgutil.iter_modules(tui_trader.venues.__path__):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"tui_trader.venues.{info.name}.venue")
        found[info.name] = next(
            c for c in vars(module).values() if isinstance(c, type) and getattr(c, "kind", None) == info.name
        )
    return found


def test_each_adapter_says_at_registration_what_its_class_does() -> None:
    adapters = _adapters()
    assert {"ccxt", "alpaca", "oanda", "schwab", "ib", "webull", "robinhood", "moomoo", "paper"} <= set(adapters)
    for kind, cls in adapters.items():
        said = getattr(cls, "takes_keys", False)
        does = isinstance(said, property) or said is True  # moomoo's: a live account's password
        assert kinds.takes_keys(kind) == (does and callable(getattr(cls, "reconnect_with", None))), kind
    assert kinds.takes_keys("webull") and kinds.takes_keys("moomoo") and not kinds.takes_keys("ib")


def test_asking_loads_no_venue_library() -> None:
    """`keys set` asks without importing ccxt, alpaca-py, schwab-py, moomoo-api or ib_async."""
    code = (
        "import sys; from tui_trader.venues.kinds import takes_keys; "
        "[takes_keys(k) for k in ('ccxt', 'alpaca', 'oanda', 'schwab', 'webull', 'robinhood', 'moomoo', 'ib')]; "
        "print(sorted(m for m in ('ccxt', 'alpaca', 'schwab', 'moomoo', 'ib_async', 'aiohttp') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
