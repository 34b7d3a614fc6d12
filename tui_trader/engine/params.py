"""Typed reading of command parameters, whoever sent them (the socket, the TUI, a script).

Every accessor raises a one-line UsageError naming the parameter and what it should be, so a
wrong type is a user's mistake with a clear answer, never an "internal error".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tui_trader.core.enums import OrderType, Side, TimeInForce
from tui_trader.core.errors import UsageError
from tui_trader.core.numbers import NumberError, checked_decimal
from tui_trader.core.orders import OrderRequest

MAX_TEXT = 200


def require_object(params: object, what: str = "params") -> dict[str, Any]:
    if not isinstance(params, dict):
        raise UsageError(f"{what} must be a JSON object, got {_type(params)}")
    return params


def text(params: dict[str, Any], key: str, *, required: bool = False, max_len: int = MAX_TEXT) -> str | None:
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise UsageError(f"{key} is required")
        return None
    if not isinstance(value, str):
        raise UsageError(f"{key} must be a string, got {_type(value)}")
    if len(value) > max_len:
        raise UsageError(f"{key} is too long ({len(value)} characters, at most {max_len})")
    return value


def integer(params: dict[str, Any], key: str, default: int, *, low: int = 0, high: int = 1_000_000) -> int:
    value = params.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise UsageError(f"{key} must be an integer, got {_type(value)}")
    try:
        number = int(value)
    except ValueError:
        raise UsageError(f"{key} must be an integer, got {str(value)[:40]!r}") from None
    if not low <= number <= high:
        raise UsageError(f"{key} must be between {low} and {high}, got {number}")
    return number


def flag(params: dict[str, Any], key: str, default: bool = False) -> bool:
    value = params.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise UsageError(f"{key} must be true or false, got {_type(value)}")
    return value


def decimal(params: dict[str, Any], key: str, *, required: bool = False) -> Decimal | None:
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise UsageError(f"{key} is required")
        return None
    try:
        return checked_decimal(value, key)
    except NumberError as exc:
        raise UsageError(str(exc)) from None


def names(params: dict[str, Any], key: str, known: frozenset[str] | None = None) -> list[str] | None:
    """A string or a list of strings (None when absent); each one of `known` if given."""
    value = params.get(key)
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise UsageError(f"{key} must be a string or a list of strings, got {_type(value)}")
    if known is not None:
        unknown = [v for v in items if v not in known]
        if unknown:
            raise UsageError(f"unknown {key} {', '.join(map(repr, unknown[:5]))}; known: {', '.join(sorted(known))}")
    return list(items)


def choice(params: dict[str, Any], key: str, options: dict[str, Any], default: Any = None) -> Any:
    value = params.get(key)
    if value is None:
        if default is None:
            raise UsageError(f"{key} is required ({' | '.join(options)})")
        return default
    if not isinstance(value, str) or value.lower() not in options:
        raise UsageError(f"{key} must be one of {' | '.join(options)}, got {str(value)[:40]!r}")
    return options[value.lower()]


ORDER_TYPES = {t.value: t for t in OrderType} | {
    "stop_limit": OrderType.STOP_LIMIT,
    "trailing": OrderType.TRAILING_STOP,
    "trailing_stop": OrderType.TRAILING_STOP,
}
SIDES = {s.value: s for s in Side}
TIFS = {t.value: t for t in TimeInForce}
# Fields a client may set; the rest (strategy identity, links) belong to the engine.
_CLIENT_FIELDS = frozenset(
    {
        "symbol", "side", "quantity", "type", "price", "stop_price", "time_in_force", "venue", "stop_loss",
        "take_profit", "trail_amount", "trail_percent", "post_only", "reduce_only", "extended_hours", "source",
        "tag", "client_order_id", "leverage", "stop_loss_offset", "take_profit_offset",
    }
)
_ENGINE_FIELDS = frozenset({"strategy", "parent_id", "oco_id"})


def order_request(value: object, source: str, what: str = "order") -> OrderRequest:
    """An OrderRequest from a JSON object (or one already built in this process)."""
    if isinstance(value, OrderRequest):
        return value
    p = require_object(value, what)
    unknown = sorted(k for k in p if k not in _CLIENT_FIELDS and k not in _ENGINE_FIELDS)
    if unknown:
        raise UsageError(f"{what}: unknown field {unknown[0]!r}; known: {', '.join(sorted(_CLIENT_FIELDS))}")
    engine_set = sorted(k for k in _ENGINE_FIELDS if p.get(k) is not None)
    if engine_set:
        raise UsageError(f"{what}: {engine_set[0]} is set by the engine, not by a client")
    try:
        trail_percent = decimal(p, "trail_percent")
        if trail_percent is not None and trail_percent >= 1:
            raise UsageError(f"trail_percent is a fraction (0.02 = 2 %), got {trail_percent}")
        req = OrderRequest(
            symbol=_symbol(p),
            side=choice(p, "side", SIDES),
            quantity=decimal(p, "quantity", required=True),  # type: ignore[arg-type]
            type=choice(p, "type", ORDER_TYPES, OrderType.MARKET),
            price=decimal(p, "price"),
            stop_price=decimal(p, "stop_price"),
            time_in_force=choice(p, "time_in_force", TIFS, TimeInForce.GTC),
            venue=text(p, "venue", max_len=64),
            stop_loss=decimal(p, "stop_loss"),
            take_profit=decimal(p, "take_profit"),
            trail_amount=decimal(p, "trail_amount"),
            trail_percent=trail_percent,
            post_only=flag(p, "post_only"),
            reduce_only=flag(p, "reduce_only"),
            extended_hours=flag(p, "extended_hours"),
            leverage=decimal(p, "leverage"),
            stop_loss_offset=decimal(p, "stop_loss_offset"),
            take_profit_offset=decimal(p, "take_profit_offset"),
            source=text(p, "source", max_len=40) or source,
            tag=text(p, "tag", max_len=64),
            client_order_id=text(p, "client_order_id", max_len=64),
        )
    except UsageError as exc:
        raise UsageError(f"{what}: {exc}") from None
    check_order_shape(req, what)
    return req


def check_order_shape(req: OrderRequest, what: str = "order") -> None:
    """What the risk checks cannot see: trail fields on an order that would ignore them."""
    trailing = req.trail_amount is not None or req.trail_percent is not None
    if trailing and req.type is not OrderType.TRAILING_STOP:
        raise UsageError(f"{what}: trail_amount / trail_percent need type trailing-stop")


def _symbol(p: dict[str, Any]) -> str:
    symbol = text(p, "symbol", required=True, max_len=64)
    assert symbol is not None
    return symbol.upper()


def _type(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )
