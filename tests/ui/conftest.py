"""Fixtures for tests/ui; the helpers live in ui_helpers.py (a unique module name, so
test files can import them without clashing with other folders' conftest modules)."""

from ui_helpers import *  # noqa: F403
