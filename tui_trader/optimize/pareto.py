"""The Pareto front: trials no other trial beats on every objective at once."""

from __future__ import annotations

from collections.abc import Sequence


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """True when `a` is at least as good as `b` everywhere and strictly better somewhere."""
    strictly = False
    for x, y, d in zip(a, b, directions, strict=True):
        if d == "minimize":
            x, y = -x, -y
        if x < y:
            return False
        if x > y:
            strictly = True
    return strictly


def pareto_front(points: Sequence[Sequence[float]], directions: Sequence[str]) -> list[int]:
    """Indices of the non-dominated points, in input order (duplicates are all kept)."""
    front = []
    for i, p in enumerate(points):
        if not any(dominates(q, p, directions) for j, q in enumerate(points) if j != i):
            front.append(i)
    return front
