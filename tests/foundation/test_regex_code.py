"""Regular expressions built from the kept compiler output (`core.regex_code`) are the patterns
`re` compiles (equal: pattern, flags and code) and match the same; a later process reads what an
earlier one compiled; a damaged, foreign or unwritable file changes nothing but the time."""

from __future__ import annotations

import marshal
import re
from pathlib import Path

import pytest

from tui_trader.core import regex_code
from tui_trader.core.regex_code import RegexCode

PATTERNS: list[tuple[str | bytes, int]] = [
    (r"(?P<key>[a-z_][a-z0-9_-]*)\s*:\s*(?P<value>[^;]+);", 0),
    (r"^\s*#.*$", re.MULTILINE),
    (r"price\s+(above|below)\s+(\d+(?:\.\d+)?)", re.IGNORECASE),
    (r"""(?x) (?<![\w.]) (\d{1,3}(?:,\d{3})*) (?=\s|$)  # a number with thousands""", 0),
    (rb"\x1b\[(\d+);(\d+)R", 0),
    (r"(a)|(?P<b>b)(?(1)x|y)", re.DOTALL | re.ASCII),
]
TEXTS = ["width: 1fr; color: red;", "# note\nx", "alert BTC PRICE Above 65000.5", "1,234,567 left", "(a)", "by"]


def made(kept: RegexCode) -> list[re.Pattern[str] | re.Pattern[bytes]]:
    return [kept.compile(pattern, flags) for pattern, flags in PATTERNS]


def same_as_re(patterns: list[re.Pattern[str] | re.Pattern[bytes]]) -> None:
    for (pattern, flags), kept in zip(PATTERNS, patterns, strict=True):
        fresh = re._compiler.compile(pattern, flags)  # type: ignore[attr-defined]
        assert kept == fresh and kept.groupindex == fresh.groupindex and kept.groups == fresh.groups
        for text in TEXTS:
            subject = text.encode() if isinstance(pattern, bytes) else text
            assert [m.groups() for m in kept.finditer(subject)] == [m.groups() for m in fresh.finditer(subject)]


def test_kept_code_makes_the_same_patterns_and_a_later_run_reads_it(tmp_path: Path) -> None:
    first = RegexCode(tmp_path / "code.marshal")
    assert first.load() == 0
    same_as_re(made(first))
    assert first.compiled == len(PATTERNS) and first.save()
    second = RegexCode(tmp_path / "code.marshal")
    assert second.load() == len(PATTERNS)
    same_as_re(made(second))
    assert second.compiled == 0 and not second.save()  # nothing new: the file is left as it is
    assert second.compile(re.escape("a.b"), 0).fullmatch("a.b")  # a new one compiles as before
    assert second.compiled == 1


@pytest.mark.parametrize("content", [b"not marshal", marshal.dumps({"key": "another python", "codes": {}}), b""])
def test_a_damaged_or_foreign_file_is_compiled_over(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "code.marshal"
    path.write_bytes(content)
    kept = RegexCode(path)
    assert kept.load() == 0
    same_as_re(made(kept))
    assert kept.save() and RegexCode(path).load() == len(PATTERNS)


def test_an_unwritable_cache_folder_changes_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    kept = RegexCode(blocker / "code.marshal")  # its folder is a file
    same_as_re(made(kept))
    assert not kept.save()


def test_past_the_limit_the_file_keeps_only_this_runs_patterns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = RegexCode(tmp_path / "code.marshal")
    kept.codes = {(f"stale {i}", 0): regex_code._compile(f"stale {i}", 0) for i in range(3)}
    monkeypatch.setattr(regex_code, "LIMIT", 2)
    made(kept)
    assert kept.save()
    again = RegexCode(tmp_path / "code.marshal")
    assert again.load() == len(PATTERNS) and not any(str(p).startswith("stale") for p, _ in again.codes)


def test_debug_and_parsed_patterns_go_to_re_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kept = RegexCode(tmp_path / "code.marshal")
    assert kept.compile("ab+", re.DEBUG).fullmatch("abb")
    assert "LITERAL" in capsys.readouterr().out  # re's own compiler printed its dump
    assert kept.compiled == 0
