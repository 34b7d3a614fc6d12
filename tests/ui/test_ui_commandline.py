"""The `:` command-line grammar, as a pure function."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tui_trader.core.enums import OrderType, Side, TimeInForce
from tui_trader.ui.commandline import (
    CancelCommand,
    FlattenCommand,
    LayoutCommand,
    ModifyCommand,
    OrderCommand,
    ParseError,
    SymbolCommand,
    ThemeCommand,
    TimeframeCommand,
    parse_command,
)


def order(text: str, active: str | None = None):  # type: ignore[no-untyped-def]
    cmd = parse_command(text, active)
    assert isinstance(cmd, OrderCommand)
    return cmd.request


def test_limit_with_bracket() -> None:
    r = order("buy 0.5 BTC/USDT limit 64000 sl 63000 tp 66000")
    assert (r.side, r.quantity, r.symbol, r.type) == (
        Side.BUY,
        Decimal("0.5"),
        "BTC/USDT",
        OrderType.LIMIT,
    )
    assert (r.price, r.stop_loss, r.take_profit) == (Decimal(64000), Decimal(63000), Decimal(66000))


def test_market_stop_and_stop_limit() -> None:
    r = order("sell 10 aapl mkt")
    assert (r.side, r.symbol, r.type, r.price) == (Side.SELL, "AAPL", OrderType.MARKET, None)
    assert order("buy 1 ETH/USDT stop 3500").type is OrderType.STOP
    r = order("buy 1 ETH/USDT stop 3500 limit 3490")
    assert (r.type, r.stop_price, r.price) == (OrderType.STOP_LIMIT, Decimal(3500), Decimal(3490))


def test_active_symbol_shorthand_and_tif() -> None:
    r = order("b 2 @ 150 ioc", active="SOL/USDT")
    assert (r.symbol, r.type, r.price, r.time_in_force) == (
        "SOL/USDT",
        OrderType.LIMIT,
        Decimal(150),
        TimeInForce.IOC,
    )
    assert order("buy 1 BTC/USDT limit 64k").price == Decimal(64000)


def test_other_commands() -> None:
    assert parse_command("cancel all") == CancelCommand(None)
    assert parse_command("cancel all eth/usdt") == CancelCommand(None, "ETH/USDT")
    assert parse_command("cancel abc123") == CancelCommand("abc123")
    assert parse_command("flatten") == FlattenCommand()
    assert parse_command("symbol eth/usdt") == SymbolCommand("ETH/USDT")
    assert parse_command("tf 5M") == TimeframeCommand("5m")
    assert parse_command("theme tui-light") == ThemeCommand("tui-light")
    assert parse_command("layout grid") == LayoutCommand("grid")
    assert parse_command("modify ab12 price 64.1k") == ModifyCommand("ab12", Decimal(64100))
    assert parse_command("amend ab12 qty 0.8 price 3") == ModifyCommand("ab12", Decimal(3), Decimal("0.8"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty command"),
        ("buy", "needs a quantity"),
        ("buy abc BTC/USDT", "quantity must be a number"),
        ("buy -1 BTC/USDT", "greater than zero"),
        ("buy 1", "needs a symbol"),
        ("buy 1 BTC/USDT limit", "needs a price"),
        ("buy 1 BTC/USDT mkt limit 5", "market order takes no limit"),
        ("buy 1 BTC/USDT limit 5 limit 6", "given twice"),
        ("buy 1 BTC/USDT banana", "did not understand 'banana'"),
        ("tf 2m", "unknown timeframe"),
        ("layout wide", "unknown layout"),
        ("cancel", "cancel what"),
        ("modify ab12", "modify takes"),
        ("modify ab12 price", "modify takes"),
        ("modify ab12 size 3", "not 'size'"),
        ("modify ab12 qty 1 qty 2", "given twice"),
        ("modify ab12 price -5", "greater than zero"),
        ("flatten now", "takes nothing"),
        ("dance", "unknown command 'dance'"),
    ],
)
def test_errors_are_one_line_messages(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        parse_command(text, None)
    assert "\n" not in str(info.value)
