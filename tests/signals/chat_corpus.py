"""Load a chat-message corpus (TOML) and compare a parse with its expected fields.

Shared by the corpus tests and `bench/bench_chat_corpus.py`.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from tui_trader.signals.chat import parse_message

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "chat_corpus.toml"
HELD_OUT = DATA / "chat_held_out.toml"
AUTO_THRESHOLD = 0.7  # the default [signals.chat] min_confidence
FIELDS = (
    "kind", "symbol", "side", "entry", "entry_type", "stop", "breakeven", "targets",
    "leverage", "fraction", "all_symbols", "auto",
)  # fmt: skip


def load(path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as fh:
        return list(tomllib.load(fh)["message"])


def _num(value: Any) -> Any:
    if isinstance(value, list):
        return [_num(v) for v in value]
    if isinstance(value, str):
        try:
            return Decimal(value).normalize()
        except ArithmeticError:
            return value
    return value


def expected(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": case["kind"],
        "symbol": case.get("symbol"),
        "side": case.get("side"),
        "entry": _num(case.get("entry", [])),
        "entry_type": case.get("entry_type"),
        "stop": _num(case.get("stop")),
        "breakeven": case.get("breakeven", False),
        "targets": _num(case.get("targets", [])),
        "leverage": _num(case.get("leverage")),
        "fraction": _num(case.get("fraction")),
        "all_symbols": case.get("all_symbols", False),
        "auto": case.get("auto", False),
    }


def actual(case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the comparable fields, the whole parse as JSON)."""
    d = parse_message(case["text"], known_symbols=case.get("symbols")).as_dict()
    got = {
        "kind": d["kind"],
        "symbol": d["symbol"],
        "side": d["side"],
        "entry": _num(d["entry"]),
        "entry_type": d["entry_type"],
        "stop": _num(d["stop"]),
        "breakeven": d["breakeven"],
        "targets": _num(d["targets"]),
        "leverage": _num(d["leverage"]),
        "fraction": _num(d["fraction"]),
        "all_symbols": d["all_symbols"],
        "auto": d["confidence"] >= AUTO_THRESHOLD,
    }
    return got, d


def differences(case: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Field -> (expected, got) for every field that differs; empty when the parse is exact."""
    want = expected(case)
    got, _ = actual(case)
    return {k: (want[k], got[k]) for k in FIELDS if want[k] != got[k]}
