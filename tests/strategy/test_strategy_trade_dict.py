"""A strategy trade's dict (the live worker's state, sent after every bar with a trade open):
built field by field when every value is plain, it is what dataclasses.asdict gives, a copy,
for any trade; anything else (a NumPy number, a tuple, an object in `meta`) takes asdict."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from tui_trader.strategy.trade import StrategyTrade, TradeOrder

T = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _reference(trade: StrategyTrade) -> dict[str, Any]:
    """The dict as it was made before: asdict, then the dates as text."""
    data = asdict(trade)
    data["open_date_utc"] = trade.open_date_utc.isoformat()
    data["orders"] = [{**asdict(o), "order_date_utc": o.order_date_utc.isoformat()} for o in trade.orders]
    return data


@dataclass
class _Note:
    text: str


def _trades() -> list[StrategyTrade]:
    plain = StrategyTrade("ETH/USDT", False, 3400.0, 0.5, T, "dip", 3410.0, 3390.0, stop_loss=3264.0)
    full = StrategyTrade("BTC/USDT", True, 90000.0, 0.01, T, None, meta={"a": [1, {"b": None}], "c": 2.5})
    full.orders.append(TradeOrder("sell", 0.01, 90000.0, T, "short"))
    full.orders.append(TradeOrder("buy", 0.005, 89000.0, T))
    numpy = StrategyTrade("ETH/USDT", False, 3400.0, 0.5, T, stop_loss=np.float64(3300.25))  # type: ignore[arg-type]
    tupled = StrategyTrade("ETH/USDT", False, 3400.0, 0.5, T, meta={"t": (1, 2)})
    obj = StrategyTrade("ETH/USDT", False, 3400.0, 0.5, T, meta={"note": _Note("x")})
    return [plain, full, numpy, tupled, obj]


@pytest.mark.parametrize("trade", _trades(), ids=["plain", "meta-and-orders", "numpy", "tuple", "dataclass-in-meta"])
def test_to_dict_is_what_asdict_gives(trade: StrategyTrade) -> None:
    got, want = trade.to_dict(), _reference(trade)
    assert got == want
    assert json.dumps(got, default=str, sort_keys=True) == json.dumps(want, default=str, sort_keys=True)
    assert [type(v) for v in got.values()] == [type(v) for v in want.values()]
    sent = json.loads(json.dumps(got, default=str))
    assert StrategyTrade.from_dict(sent).to_dict() == sent


def test_to_dict_is_a_copy() -> None:
    trade = _trades()[1]
    data = trade.to_dict()
    data["meta"]["a"][1]["b"] = "changed"
    data["orders"][0]["price"] = 1.0
    assert trade.meta["a"][1]["b"] is None and trade.orders[0].price == 90000.0
