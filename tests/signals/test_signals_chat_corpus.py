"""The chat-message corpus: every message parses to exactly the fields expected for it.

tests/signals/data/chat_corpus.toml is the development corpus (each message must parse
exactly). tests/signals/data/chat_held_out.toml holds the latest fresh rounds (15, 16, 17),
written blind by a writer who never saw the parser and each measured once as a whole before
any fix (the figures of every round are in docs/signals.md and the file's header). The issue
asks for 29 in 30 exact on fresh messages: this test guards the held-out file against
regressions (a floor, not the measurement: the measured misses were fixed since), and
requires of every round that no exit, update, cancel or chatter is read as an entry.
"""

from __future__ import annotations

from collections import Counter

import pytest
from chat_corpus import CORPUS, HELD_OUT, differences, load

MESSAGES = load(CORPUS)


def test_the_corpus_is_large_and_covers_every_kind():
    assert len(MESSAGES) >= 60
    kinds = Counter(m["kind"] for m in MESSAGES)
    assert set(kinds) == {"entry", "exit", "update", "cancel", "info", "unsupported"}
    assert min(kinds.values()) >= 6, kinds
    assert len({m["text"] for m in MESSAGES}) == len(MESSAGES), "a message is listed twice"


@pytest.mark.parametrize("case", MESSAGES, ids=[m["text"][:50] for m in MESSAGES])
def test_corpus_message_parses_exactly(case):
    assert differences(case) == {}


# Rounds 15-17 measured 30, 29 and 28 of 30 (87 of 90); their misses were fixed by cause, so
# all 90 must stay exact. See the docstring.
HELD_OUT_EXACT = 90


def test_held_out_messages_never_read_a_non_entry_as_an_entry():
    cases = load(HELD_OUT)
    assert len(cases) >= 30
    assert sum(c["kind"] != "entry" for c in cases) >= 15
    misread = {c["text"]: differences(c) for c in cases}
    assert {t: d for t, d in misread.items() if d.get("kind", ("", ""))[1] == "entry"} == {}


def test_held_out_exact_count_does_not_regress():
    cases = load(HELD_OUT)
    misses = {c["text"]: d for c in cases if (d := differences(c))}
    assert len(cases) - len(misses) >= HELD_OUT_EXACT, misses
