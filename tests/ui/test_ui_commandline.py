"""The `:` command-line grammar, as a pure function."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tui_trader.core.enums import OrderType, Side, TimeInForce
from tui_trader.ui.commandline import (
    AlertCommand,
    CancelCommand,
    CloseCommand,
    FlattenCommand,
    IndicatorCommand,
    LayoutCommand,
    ModifyCommand,
    OrderCommand,
    ParseError,
    SaveLayoutCommand,
    SymbolCommand,
    ThemeCommand,
    TimeframeCommand,
    VenueCommand,
    WatchCommand,
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
    assert parse_command("venue reconnect kucoin") == VenueCommand("reconnect", "kucoin")
    assert parse_command("venue Stop paper") == VenueCommand("stop", "paper")
    assert parse_command("venue adopt ib aapl") == VenueCommand("adopt", "ib", "AAPL")


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
        ("venue adopt ib", "venue adopt ib AAPL"),
        ("buy 1 BTC/USDT limit 5 limit 6", "given twice"),
        ("buy 1 BTC/USDT banana", "did not understand 'banana'"),
        ("tf 2m", "unknown timeframe"),
        ("layout save", "layout save takes one name"),
        ("layout save grid", "built-in layout"),
        ("close a b", "close takes one symbol"),
        ("close", "close which position"),
        ("alert BTC/USDT above", "alert takes a price"),
        ("alert rm x", "which alert"),
        ("watch add", "watch takes add or rm"),
        ("ind macd", "unknown indicator 'macd'"),
        ("cancel", "cancel what"),
        ("modify ab12", "modify takes"),
        ("modify ab12 price", "modify takes"),
        ("modify ab12 size 3", "not 'size'"),
        ("modify ab12 qty 1 qty 2", "given twice"),
        ("modify ab12 price -5", "greater than zero"),
        ("flatten now", "takes nothing"),
        ("venue", "venue takes what to do and a venue's name"),
        ("venue reconnect", "venue takes what to do"),
        ("venue restart kucoin", "venue reconnect kucoin"),
        ("venue reconnect kucoin now", "venue takes what to do"),
        ("dance", "unknown command 'dance'"),
    ],
)
def test_errors_are_one_line_messages(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        parse_command(text, None)
    assert "\n" not in str(info.value)


# -- a symbol is always a symbol --------------------------------------------------------------

MARKETS = ("BTC/USDT", "BTC/USD", "ETH/USDT", "SOL/USDT", "AAPL", "DAY", "POST", "LMT", "MKT")


def on_venue(text: str, active: str | None = "AAPL"):  # type: ignore[no-untyped-def]
    cmd = parse_command(text, active, MARKETS)
    assert isinstance(cmd, OrderCommand)
    return cmd.request


def test_tickers_that_are_grammar_words_are_tickers() -> None:
    r = on_venue("buy 10 DAY")
    assert (r.symbol, r.type, r.time_in_force) == ("DAY", OrderType.MARKET, TimeInForce.GTC)
    r = on_venue("buy 10 POST limit 95")
    assert (r.symbol, r.type, r.price, r.post_only) == ("POST", OrderType.LIMIT, Decimal(95), False)
    r = on_venue("buy 10 LMT 450")
    assert (r.symbol, r.type, r.price) == ("LMT", OrderType.LIMIT, Decimal(450))
    r = on_venue("sell 5 MKT mkt")
    assert (r.symbol, r.type) == ("MKT", OrderType.MARKET)
    # After the symbol, the same words are words again.
    r = on_venue("buy 10 AAPL limit 150 day post")
    assert (r.symbol, r.time_in_force, r.post_only) == ("AAPL", TimeInForce.DAY, True)


def test_lower_case_words_that_are_also_tickers_are_ambiguous() -> None:
    for text, ticker in (("buy 10 day", "DAY"), ("buy 10 post limit 95", "POST"), ("buy 10 lmt 450", "LMT")):
        with pytest.raises(ParseError, match=f"both the ticker {ticker} and a word of the grammar") as info:
            parse_command(text, "AAPL", MARKETS)
        assert "\n" not in str(info.value)
    # A word that is not a ticker on this venue is still a word: the active symbol trades.
    r = parse_command("buy 10 limit 95 ioc", "AAPL", MARKETS)
    assert isinstance(r, OrderCommand) and (r.request.symbol, r.request.price) == ("AAPL", Decimal(95))


def test_symbols_resolve_against_the_markets() -> None:
    assert on_venue("buy 1 eth").symbol == "ETH/USDT"  # the only ETH market
    assert on_venue("buy 1 solusdt").symbol == "SOL/USDT"
    assert on_venue("buy 1 btc-usd").symbol == "BTC/USD"
    with pytest.raises(ParseError, match="'btc' is ambiguous: it could be BTC/USD, BTC/USDT"):
        parse_command("buy 1 btc", None, MARKETS)
    with pytest.raises(ParseError, match="unknown symbol 'DOGE'"):
        parse_command("buy 1 DOGE", None, MARKETS)
    with pytest.raises(ParseError, match="did you mean SOL/USDT"):
        parse_command("buy 1 SOLU", None, MARKETS)
    assert parse_command("symbol eth", None, MARKETS) == SymbolCommand("ETH/USDT")
    assert parse_command("cancel all sol", None, MARKETS) == CancelCommand(None, "SOL/USDT")


def test_close_alert_watch_indicator_and_layout_commands() -> None:
    assert parse_command("close eth", None, MARKETS) == CloseCommand("ETH/USDT")
    assert parse_command("close", "AAPL", MARKETS) == CloseCommand("AAPL")
    assert parse_command("alert BTC/USDT above 70k", None, MARKETS) == AlertCommand(
        "add", "BTC/USDT", True, Decimal(70000)
    )
    assert parse_command("alert 180", "AAPL", MARKETS) == AlertCommand("add", "AAPL", None, Decimal(180))
    assert parse_command("alert < 150", "AAPL", MARKETS) == AlertCommand("add", "AAPL", False, Decimal(150))
    assert parse_command("alerts") == AlertCommand("list")
    assert parse_command("alert rm 2") == AlertCommand("remove", alert_id=2)
    assert parse_command("alert clear") == AlertCommand("remove")
    assert parse_command("watch add sol", None, MARKETS) == WatchCommand("add", "SOL/USDT")
    assert parse_command("watch rm AAPL", None, MARKETS) == WatchCommand("remove", "AAPL")
    assert parse_command("find bt") == WatchCommand("find", "bt")
    assert parse_command("ind ema bb") == IndicatorCommand(("ema", "bb"))
    assert parse_command("ind off") == IndicatorCommand(())
    assert parse_command("layout save scalping") == SaveLayoutCommand("scalping")
    assert parse_command("layout scalping") == LayoutCommand("scalping")


# -- every order kind: trailing stop, OCO, post-only, reduce-only, time in force ----------------


def test_trailing_stop_by_percent_or_distance() -> None:
    r = order("sell 1 BTC/USDT trail 2%")
    assert (r.type, r.trail_percent, r.trail_amount, r.price, r.stop_price) == (
        OrderType.TRAILING_STOP,
        Decimal("0.02"),
        None,
        None,
        None,
    )
    r = order("sell 1 BTC/USDT trail 500 reduce")
    assert (r.type, r.trail_amount, r.trail_percent, r.reduce_only) == (
        OrderType.TRAILING_STOP,
        Decimal(500),
        None,
        True,
    )


def test_oco_pairs_a_limit_with_a_stop_on_the_same_side_and_quantity() -> None:
    cmd = parse_command("sell 1 BTC/USDT limit 66000 oco 63000 reduce", None)
    assert isinstance(cmd, OrderCommand) and cmd.oco is not None
    first, other = cmd.request, cmd.oco
    assert (first.type, first.price) == (OrderType.LIMIT, Decimal(66000))
    assert (other.type, other.stop_price, other.price) == (OrderType.STOP, Decimal(63000), None)
    assert (other.side, other.quantity, other.symbol, other.reduce_only) == (Side.SELL, Decimal(1), "BTC/USDT", True)
    cmd = parse_command("buy 1 ETH/USDT stop 3600 oco 3300", None)
    assert isinstance(cmd, OrderCommand) and cmd.oco is not None
    assert (cmd.request.type, cmd.oco.type, cmd.oco.price) == (OrderType.STOP, OrderType.LIMIT, Decimal(3300))
    assert parse_command("buy 1 ETH/USDT limit 3400", None) == OrderCommand(order("buy 1 ETH/USDT limit 3400"))


def test_post_only_time_in_force_and_reduce_only_together() -> None:
    r = order("buy 1 ETH/USDT limit 3400 post ioc reduce")
    assert (r.type, r.post_only, r.time_in_force, r.reduce_only) == (OrderType.LIMIT, True, TimeInForce.IOC, True)
    assert order("buy 1 ETH/USDT limit 3400 fok").time_in_force is TimeInForce.FOK


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sell 1 BTC/USDT trail", "'trail' needs a distance"),
        ("sell 1 BTC/USDT trail 2% trail 3%", "'trail' given twice"),
        ("sell 1 BTC/USDT trail 150%", "not below 100%"),
        ("sell 1 BTC/USDT trail -5", "greater than zero"),
        ("sell 1 BTC/USDT trail nan", "trail distance"),
        ("sell 1 BTC/USDT mkt trail 2%", "market order takes no limit, stop or trail"),
        ("sell 1 BTC/USDT limit 5 trail 2%", "trailing stop takes no limit or stop price"),
        ("sell 1 BTC/USDT limit 66000 oco", "'oco' needs the other leg's price"),
        ("sell 1 BTC/USDT mkt oco 63000", "oco pairs a limit with a stop"),
        ("sell 1 BTC/USDT limit 66000 oco 1e23", "oco price"),
    ],
)
def test_order_kind_errors_are_one_line_messages(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        parse_command(text, None)
    assert "\n" not in str(info.value)
