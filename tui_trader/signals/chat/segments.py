"""The parts of a message that are not all the provider's words now: a quote of an earlier
message (Discord's `> ` lines) and the sentences of what they write.

A reply such as "> BTC long 63,400 sl 62,600\\nclosing this here" closes the quoted trade:
its kind comes from the reply alone, the quote only says which symbol (and side) it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "> text" and ">>> text" (a block quote); "> 232.50" on its own line is a price, not a quote.
_QUOTE_LINE = re.compile(r"^\s*>{1,3}\s+(?!\$?\.?\d)(.*)$")
_BLOCK = re.compile(r"^\s*>>>\s")
# Sentence ends: '?', '!', a newline, or a full stop before a space (not a decimal point).
_SENTENCE_END = re.compile(r"[?!\n]+|\.(?=\s|$)")


@dataclass(frozen=True, slots=True)
class Segments:
    body: str  # what the provider writes now
    quote: str  # the earlier message quoted, or ""


def split_quote(text: str) -> Segments:
    """Quoted lines (and everything after a `>>> ` block-quote mark) are the quote."""
    body: list[str] = []
    quote: list[str] = []
    in_block = False
    for line in text.splitlines():
        if in_block:
            quote.append(line)
            continue
        m = _QUOTE_LINE.match(line)
        if m:
            in_block = bool(_BLOCK.match(line))
            quote.append(m.group(1))
        else:
            body.append(line)
    joined = "\n".join(body).strip()
    if not quote or not joined:
        return Segments(text, "")  # no quote, or nothing but a quote: read it as written
    return Segments(joined, "\n".join(quote))


def sentence_at(low: str, pos: int) -> tuple[int, int]:
    """(start, end) of the sentence around `pos`; `end` includes its closing mark."""
    start = 0
    for m in _SENTENCE_END.finditer(low):
        if m.end() <= pos:
            start = m.end()
        elif m.start() >= pos:
            return start, m.end()
    return start, len(low)


_ASKING = re.compile(
    # after a mention, a "Heads up:" label or one tag word ("[VIP] Should I ...")
    r"\s*(?:@\S+\s+|\w+(?:\s\w+){0,2}:\s+)*(?:\w+\s+)?(?:is|are|should|would|could|can|do|does|did|anyone|any|who|what|why|how|where|when)\b"
)


def opens_question(low: str, pos: int) -> bool:
    """The sentence holding `pos` opens with a question word and ends with '?' ("Anyone else
    get stopped on SOL?", "Should I close my BTC?"); "Closing ETH here, who's with me?" does not."""
    start, _ = sentence_at(low, pos)
    return bool(_ASKING.match(low, start)) and "?" in low[start:]


def is_question(low: str, pos: int) -> bool:
    """The sentence holding `pos` asks something: it ends with '?', or it opens with a
    question word and a '?' follows ("Is BTC long at 64k ... a good idea?")."""
    start, end = sentence_at(low, pos)
    if "?" in low[max(0, end - 3) : end]:
        return True
    return bool(_ASKING.match(low, start)) and "?" in low[end:]
