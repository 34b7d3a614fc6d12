"""The open trade a strategy's hooks see: Freqtrade's `Trade` fields and profit arithmetic.

Profits include both fees, as Freqtrade computes them (`calc_profit_ratio`), and the stop walks
as Freqtrade's `adjust_stop_loss` does (only towards profit; "trailing" once it moved). No venue
or database objects: the trade stays JSON-able for the live runner's persisted state.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from tui_trader.strategy.precision import price_round_down, price_round_up


@dataclass(slots=True)
class TradeOrder:
    """One filled order of a trade (Freqtrade's `Order` as far as strategies read it)."""

    ft_order_side: str  # "buy" | "sell"
    amount: float
    price: float
    order_date_utc: datetime
    ft_order_tag: str | None = None
    status: str = "closed"

    @property
    def side(self) -> str:
        return self.ft_order_side

    @property
    def safe_price(self) -> float:
        return self.price

    @property
    def average(self) -> float:
        return self.price

    @property
    def filled(self) -> float:
        return self.amount

    @property
    def safe_filled(self) -> float:
        return self.amount

    @property
    def safe_amount_after_fee(self) -> float:
        return self.amount

    @property
    def cost(self) -> float:
        return self.amount * self.price

    @property
    def stake_amount(self) -> float:
        return self.amount * self.price

    @property
    def order_date(self) -> datetime:
        return self.order_date_utc

    @property
    def order_filled_date(self) -> datetime:
        return self.order_date_utc


@dataclass(slots=True)
class StrategyTrade:
    """One open position of one strategy on one symbol."""

    pair: str
    is_short: bool
    open_rate: float
    amount: float
    open_date_utc: datetime
    enter_tag: str | None = None
    max_rate: float = 0.0  # highest price seen since entry
    min_rate: float = 0.0  # lowest price seen since entry
    stop_loss: float | None = None  # current stop price
    nr_of_successful_entries: int = 1
    meta: dict[str, Any] = field(default_factory=dict)
    fee_open: float = 0.0
    fee_close: float = 0.0
    initial_stop_loss: float | None = None
    stop_loss_pct: float | None = None
    initial_stop_loss_pct: float | None = None
    is_stop_loss_trailing: bool = False
    tick: float | None = None  # price tick stops are rounded to (None: no rounding)
    nr_of_successful_exits: int = 0
    realized_profit: float = 0.0
    id: int = 0
    orders: list[TradeOrder] = field(default_factory=list)
    leverage: float = 1.0
    is_open: bool = True
    exit_reason: str | None = None

    # ---- Freqtrade's read-only views ------------------------------------------------------------
    @property
    def open_date(self) -> datetime:
        return self.open_date_utc

    @property
    def side(self) -> str:
        return "short" if self.is_short else "long"

    @property
    def trade_direction(self) -> str:
        return self.side

    @property
    def entry_side(self) -> str:
        return "sell" if self.is_short else "buy"

    @property
    def exit_side(self) -> str:
        return "buy" if self.is_short else "sell"

    @property
    def stake_amount(self) -> float:
        return self.open_rate * self.amount

    @property
    def open_trade_value(self) -> float:
        """The entry's cost including its fee (what the fee is taken from, for shorts)."""
        value = self.amount * self.open_rate
        return value * (1.0 - self.fee_open) if self.is_short else value * (1.0 + self.fee_open)

    @property
    def has_open_orders(self) -> bool:
        return False

    @property
    def buy_tag(self) -> str | None:
        return self.enter_tag

    def select_filled_orders(self, order_side: str | None = None) -> list[TradeOrder]:
        return [o for o in self.orders if order_side is None or o.ft_order_side == order_side]

    select_filled_or_open_orders = select_filled_orders

    def get_custom_data(self, key: str, default: Any = None) -> Any:
        return self.meta.get("custom_data", {}).get(key, default)

    def set_custom_data(self, key: str, value: Any) -> None:
        self.meta.setdefault("custom_data", {})[key] = value

    # ---- profit (fees included, as Freqtrade) ---------------------------------------------------
    def close_value(self, rate: float, amount: float | None = None) -> float:
        value = (self.amount if amount is None else amount) * rate
        return value * (1.0 + self.fee_close) if self.is_short else value * (1.0 - self.fee_close)

    def calc_profit_ratio(self, rate: float) -> float:
        """Profit at `rate` as a fraction of the entry cost, both fees included (8 decimals)."""
        open_value = self.open_trade_value
        if not open_value:
            return 0.0
        ratio = self.close_value(rate) / open_value
        return round((1.0 - ratio) if self.is_short else (ratio - 1.0), 8)

    def calc_profit(self, rate: float) -> float:
        """Profit at `rate` in quote currency, both fees included."""
        close = self.close_value(rate)
        open_value = self.open_trade_value
        return open_value - close if self.is_short else close - open_value

    def calc_close_rate_for_roi(self, target_roi: float) -> float:
        """The price at which the profit after both fees equals `target_roi`."""
        per_unit = self.open_trade_value / self.amount if self.amount else self.open_rate
        if self.is_short:
            return (1.0 - target_roi) * per_unit / (1.0 + self.fee_close)
        return (1.0 + target_roi) * per_unit / (1.0 - self.fee_close)

    # ---- rates and the stop -----------------------------------------------------------------------
    def adjust_min_max_rates(self, high: float, low: float) -> None:
        self.max_rate = max(high, self.max_rate or self.open_rate)
        self.min_rate = min(low, self.min_rate or self.open_rate)

    def observe(self, high: float, low: float) -> None:
        self.adjust_min_max_rates(high, low)

    def adjust_stop_loss(
        self, current_price: float, stoploss: float | None, *, initial: bool = False,
        allow_refresh: bool = False,
    ) -> None:  # fmt: skip
        """Set the stop `|stoploss|` away from `current_price`; it only walks towards profit
        (unless `allow_refresh`) and is "trailing" once it moved. With `initial`, only sets it
        when there is none yet."""
        if stoploss is None or (initial and self.stop_loss):
            return
        distance = abs(stoploss) / (self.leverage or 1.0)
        if self.is_short:
            new = price_round_down(current_price * (1.0 + distance), self.tick)
        else:
            new = price_round_up(current_price * (1.0 - distance), self.tick)
        if self.initial_stop_loss_pct is None or not self.stop_loss:
            self.stop_loss = self.initial_stop_loss = new
            self.stop_loss_pct = self.initial_stop_loss_pct = -abs(stoploss)
            return
        better = new < self.stop_loss if self.is_short else new > self.stop_loss
        if allow_refresh or better:
            if not allow_refresh:
                self.is_stop_loss_trailing = True
            self.stop_loss = new
            self.stop_loss_pct = -abs(stoploss)

    # ---- persistence ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A copy, JSON-able: what dataclasses.asdict gives (the live worker sends it after
        every bar with a trade open: built directly, ten times faster, when every value is a
        plain one; asdict itself for anything else)."""
        try:
            data = _plain_fields(self)
            data["orders"] = [_plain_fields(o) for o in self.orders]
        except _NotPlain:
            data = asdict(self)
            data["orders"] = [asdict(o) for o in self.orders]
        data["open_date_utc"] = self.open_date_utc.isoformat()
        for doc, o in zip(data["orders"], self.orders, strict=True):
            doc["order_date_utc"] = o.order_date_utc.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StrategyTrade:
        data = dict(data)
        data["open_date_utc"] = datetime.fromisoformat(data["open_date_utc"])
        data["orders"] = [
            TradeOrder(**{**o, "order_date_utc": datetime.fromisoformat(o["order_date_utc"])})
            for o in data.get("orders", [])
        ]
        return cls(**data)


class _NotPlain(Exception):
    pass


_LEAVES = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    """asdict's copy of a value made of str, int, float, bool, None, lists and dicts."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is dict:
        return {_plain(k): _plain(v) for k, v in value.items()}
    if kind is list:
        return [_plain(v) for v in value]
    raise _NotPlain


def _plain_fields(obj: Any) -> dict[str, Any]:
    """asdict(obj) for a dataclass whose fields hold plain values (datetimes as they are: the
    caller turns them into text); _NotPlain for anything else."""
    out: dict[str, Any] = {}
    for name in _field_names(type(obj)):
        value = getattr(obj, name)
        out[name] = value if type(value) is datetime or name == "orders" else _plain(value)
    return out


_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in fields(cls))
    return names
