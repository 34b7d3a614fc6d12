"""The chat-message corpus: every message parses to exactly the fields expected for it.

tests/signals/data/chat_corpus.toml is the development corpus (each message must parse
exactly). tests/signals/data/chat_held_out.toml was written after the parser, in other
phrasings, and is not tuned against: it is measured as a whole. The issue asks for 29 in 30
exact on fresh messages; seven fresh rounds measured 30/38, 28/36, 28/36, 26/36, 34/36,
32/36 and 33/36 (rounds 1-6 were then fixed and moved into the development corpus; round 7
is the held-out file now), so that bar is NOT met and this test only guards the current
figure (33 of 36) against regressions. What it does require of every round: no exit, update,
cancel or chatter read as an entry.
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


HELD_OUT_EXACT = 33  # measured on the current held-out round (of 36); see the docstring


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
