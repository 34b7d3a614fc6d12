"""Chat parser accuracy on the message corpora: how many parse exactly, and the misses.

Prints, for the development corpus and the held-out set (or the TOML files named on the
command line), the exact count, the non-entry messages read as entries, and each miss with
the fields that differ; then the parse cost per message over all of them (wall and CPU
time, best of 5 passes, with the machine's load average, since the machine is shared).
Run with `.venv/bin/python bench/bench_chat_corpus.py [FILE ...]` (by default it reads
tests/signals/data/).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "signals"))

from chat_corpus import CORPUS, HELD_OUT, differences, load

from tui_trader.signals.chat import parse_message


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


def cost(paths: list[Path], passes: int = 5) -> None:
    cases = [c for path in paths for c in load(path)]
    walls, cpus = [], []
    for _ in range(passes):
        wall, cpu = time.perf_counter(), time.process_time()
        for case in cases:
            parse_message(case["text"], known_symbols=case.get("symbols"))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    n = len(cases)
    load1, load5, _ = os.getloadavg()
    print(
        f"parse cost: {min(walls) / n * 1e6:.0f} us wall, {min(cpus) / n * 1e6:.0f} us CPU per message "
        f"(best of {passes} passes over {n} messages; load average {load1:.1f} / {load5:.1f} "
        f"on {os.cpu_count()} CPUs)"
    )


def main() -> None:
    paths = [Path(a) for a in sys.argv[1:]] or [CORPUS, HELD_OUT]
    for path in paths:
        report(path)
    cost(paths)


if __name__ == "__main__":
    main()
