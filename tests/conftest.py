"""Suite-wide settings: deterministic hypothesis, no stray environment, isolated homes."""

from __future__ import annotations

import gc
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tui_trader.core import collector

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("ci")


# The longest tests start first (measured with --durations; in this order): the workers then end
# together on the many short ones, not with one worker still in a 30 s test after the others
# have run out (pytest-xdist hands the tests out in collection order).
SLOW_FIRST = (
    "strategy/test_strategy_rule_live.py",
    "signals/test_signals_chat_kinds_property.py",
    "serve/",
    "ui/",
    "daemon/",
    "strategy/test_strategy_higher_bars.py",
    "foundation/test_accounting_properties.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0].removeprefix("tests/")
        return next((i for i, prefix in enumerate(SLOW_FIRST) if path.startswith(prefix)), len(SLOW_FIRST))

    items.sort(key=rank)  # stable: in collection order within each rank


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


class _NoFullPass:
    """The `gc` module as core/collector.py sees it in tests, less its full collection."""

    def __getattr__(self, name: str) -> Any:
        return getattr(gc, name)

    @staticmethod
    def collect(generation: int = 2) -> int:
        return 0


@pytest.fixture(autouse=True)
def _settle_without_a_full_pass(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """An app or daemon started in a test settles its heap (core/collector.py: a full collection,
    then everything frozen) as it does for a trader, but the full pass walks the whole test
    process (every test module's objects): ~0.2 s of CPU, a fifth of a pilot test's. The pass
    is the collector's own; what the product decides (when to settle, what is frozen, the
    thresholds, the release) still runs. The heap's own tests (SETTLES_FOR_REAL) keep it."""
    if not getattr(request.module, "SETTLES_FOR_REAL", False):
        monkeypatch.setattr(collector, "gc", _NoFullPass())
