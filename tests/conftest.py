"""Suite-wide settings: deterministic hypothesis, no stray environment, isolated homes."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("ci")


def pytest_configure(config: pytest.Config) -> None:
    # Test modules `importorskip("schwab")` themselves: authlib, imported then, would switch its
    # deprecation warnings on for the whole run. Import it once the way the product does.
    from tui_trader.venues.schwab.imports import quiet_authlib

    quiet_authlib()


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's real home folder or settings."""
    for key in list(os.environ):
        if key.startswith("TUI_TRADER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("TUI_TRADER_HOME", str(tmp_path_factory.mktemp("home")))
    # Derived tables (the exchange calendar's sessions) are cached once per test session.
    monkeypatch.setenv("TUI_TRADER_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    # Candle files read afresh every time: which read a test takes never depends on how old its
    # file is (data/kept_columns.py; its own tests turn it on).
    monkeypatch.setenv("TUI_TRADER_KEEP_COLUMNS", "0")
