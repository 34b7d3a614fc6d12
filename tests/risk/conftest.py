"""Fixtures for tests/risk; the helpers live in risk_helpers.py (a unique module name, so
test files can import them without clashing with other folders' conftest modules)."""

from risk_helpers import *  # noqa: F403
