"""Chat parser accuracy on the message corpora: how many parse exactly, and the misses.

Prints, for the development corpus and the held-out set (or the TOML files named on the
command line), the exact count, the non-entry messages read as entries, and each miss with
the fields that differ. Run with `.venv/bin/python bench/bench_chat_corpus.py [FILE ...]`
(by default it reads tests/signals/data/).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "signals"))

from chat_corpus import CORPUS, HELD_OUT, differences, load


def report(path: Path) -> None:
    cases = load(path)
    misses = [(c, d) for c in cases if (d := differences(c))]
    wrong_entries = [c for c, d in misses if d.get("kind", ("", ""))[1] == "entry"]
    non_entries = sum(c["kind"] != "entry" for c in cases)
    exact = len(cases) - len(misses)
    print(f"{path.name}: {exact}/{len(cases)} exact ({exact / len(cases):.0%}); "
          f"non-entries read as an entry: {len(wrong_entries)} of {non_entries}")  # fmt: skip
    for case, diff in misses:
        shown = ", ".join(f"{k}: want {w!s} got {g!s}" for k, (w, g) in diff.items())
        print(f"  miss  {case['text'][:70]!r}  {shown}")


def main() -> None:
    paths = [Path(a) for a in sys.argv[1:]] or [CORPUS, HELD_OUT]
    for path in paths:
        report(path)


if __name__ == "__main__":
    main()
