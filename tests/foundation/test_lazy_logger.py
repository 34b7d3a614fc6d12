"""A module that logs only on a rare path gets its logger on first use (`core.lazy.LazyLogger`):
its lines still go out under the module's name, at their level, as with `logging.getLogger`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tui_trader.core.kept_code import KeptCode
from tui_trader.core.lazy import LazyLogger


def test_a_lazy_logger_logs_under_its_name(caplog: pytest.LogCaptureFixture) -> None:
    log = LazyLogger("tui_trader.lazy_test")
    with caplog.at_level(logging.INFO, logger="tui_trader.lazy_test"):
        log.info("read %s of %d", "columns", 3)
        log.debug("not at this level")
    assert caplog.record_tuples == [("tui_trader.lazy_test", logging.INFO, "read columns of 3")]


def test_a_damaged_kept_file_is_still_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    damaged = tmp_path / "kept.marshal"
    damaged.write_bytes(b"not marshal data")
    with caplog.at_level(logging.INFO, logger="tui_trader.core.kept_code"):
        assert KeptCode(damaged).load() == 0
    [(name, level, message)] = caplog.record_tuples
    assert name == "tui_trader.core.kept_code" and level == logging.INFO and "was not used" in message
