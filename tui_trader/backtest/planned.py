"""One symbol's trade candidates with their exits planned in one batch (`portfolio.plan_exits`),
read by the walks (`portfolio`'s general walk, `single`'s)."""

from __future__ import annotations

import numpy as np


class PlannedExits:
    """One symbol's candidates with their entry price and exit found in one batch: per
    candidate, `prices` (the open rate, on the tick) and `paid` (the entry fill before
    rounding: the amount's price) as Python lists; the exit as columns (`bar`, `raw` price,
    `reason`, `at_open`, exit `time` in ns) and as settled (`settle_columns`: the reason as
    recorded, the exit tag, the exit fill after slippage, the exit fee rate). None of it
    depends on the stake, so the per-trade loop only sizes and books. `exits[i]` and
    `settled[i]` give one candidate's as tuples (the general walk's; made on first use: the
    single walk reads the columns)."""

    __slots__ = ("_exits", "_settled", "at_open", "bar", "detail_signal", "fill", "paid", "prices", "rate", "raw",
                 "reason", "recorded", "tag", "time")  # fmt: skip

    def __init__(self, prices: np.ndarray, paid: np.ndarray, bar: np.ndarray, raw: np.ndarray, reason: list[str],
                 at_open: np.ndarray, time: np.ndarray, settled: Settled,
                 detail_signal: np.ndarray | None = None) -> None:  # fmt: skip
        self.prices: list[float] = prices.tolist()
        self.paid: list[float] = paid.tolist()
        self.bar, self.raw, self.reason, self.at_open, self.time = bar, raw, reason, at_open, time
        self.recorded, self.tag, self.fill, self.rate = settled
        self.detail_signal = detail_signal  # with finer candles: each one's exit-signal bar on them
        self._exits: list[tuple[int, float, str, bool, int]] | None = None
        self._settled: list[tuple[str, str | None, float, float]] | None = None

    @property
    def exits(self) -> list[tuple[int, float, str, bool, int]]:
        """(bar, raw price, reason, at the open, exit time ns) of each candidate."""
        if self._exits is None:
            self._exits = list(zip(self.bar.tolist(), self.raw.tolist(), self.reason, self.at_open.tolist(),
                                   self.time.tolist(), strict=True))  # fmt: skip
        return self._exits

    @property
    def settled(self) -> list[tuple[str, str | None, float, float]]:
        """(reason as recorded, exit tag, exit fill, exit fee rate) of each candidate."""
        if self._settled is None:
            self._settled = settled_rows((self.recorded, self.tag, self.fill, self.rate))
        return self._settled


# (reason as recorded: object, exit tag: object, exit fill: float64, exit fee rate: float64)
Settled = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def settled_rows(columns: Settled) -> list[tuple[str, str | None, float, float]]:
    recorded, tags, price, rate = columns
    return list(zip(recorded.tolist(), tags.tolist(), price.tolist(), rate.tolist(), strict=True))
