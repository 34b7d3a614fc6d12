"""A broker's positions against ours (engine/position_check.py): what counts as a
disagreement, the trader's view of it."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tui_trader.engine.position_check import Disagreement, disagreements


@pytest.mark.parametrize(
    ("ours", "theirs", "found"),
    [
        ("3", "3", False),  # the same
        ("3", "5", False),  # more at the broker on our side: bought elsewhere
        ("3", "1", True),  # less: a sale we never heard of, or made elsewhere
        ("3", None, True),  # none at all
        ("3", "-2", True),  # the other side
        ("-3", "-5", False),  # a short, more of it there
        ("-3", "-1", True),  # a short, less of it there
        ("-3", "4", True),
    ],
)
def test_we_disagree_where_we_count_what_the_broker_does_not_hold(ours: str, theirs: str | None, found: bool) -> None:
    held = {} if theirs is None else {"AAPL": D(theirs)}
    expected = [Disagreement("AAPL", D(ours), D(theirs or 0))] if found else []
    assert disagreements({"AAPL": D(ours)}, held) == expected


def test_a_disagreement_reads_as_quantities_a_trader_knows() -> None:
    d = Disagreement("AAPL", D("3.0"), D("0.50"))
    assert d.text() == "AAPL 3 here, 0.5 at the venue"
    assert d.as_dict() == {"symbol": "AAPL", "ours": "3", "at_venue": "0.5"}
    assert disagreements({}, {"MSFT": D(10)}) == []  # a symbol only the broker holds: not ours to count
