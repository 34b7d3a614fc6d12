"""1e23, NaN, Infinity and negative numbers are refused in one line by every front end: the
`:` command line (and the ticket, which parses the same way), `tui-trader order` and the
socket's parameter reader. (The engine's own guard is in test_engine_orders.)"""

from __future__ import annotations

import pytest

from tui_trader.cli.main import main
from tui_trader.core.errors import UsageError
from tui_trader.engine import params as P
from tui_trader.ui.commandline import ParseError, parse_command

BAD = [
    ("1e23", "out of range"),
    ("NaN", "must be a finite number"),
    ("Infinity", "must be a finite number"),
    ("-1", "must be greater than zero"),
    ("1e-30", "too small"),
]


@pytest.mark.parametrize(("text", "why"), BAD)
def test_command_line(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        parse_command(f"buy {text} BTC/USDT")
    with pytest.raises(ParseError, match=why):
        parse_command(f"buy 1 BTC/USDT limit {text}")


@pytest.mark.parametrize(("text", "why"), BAD)
def test_order_command(text: str, why: str, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["order", "buy", text, "BTC/USDT", "--home", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and why in err and len(err.strip().splitlines()) == 1
    code = main(["order", "buy", "1", "BTC/USDT", "--type", "limit", "--price", text, "--home", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and why in err and "Traceback" not in err


@pytest.mark.parametrize(("text", "why"), BAD)
def test_socket_parameters(text: str, why: str) -> None:
    for value in (text, float(text)):
        with pytest.raises(UsageError, match=why):
            P.order_request({"symbol": "BTC/USDT", "side": "buy", "quantity": value}, "test")
    with pytest.raises(UsageError, match="quantity must be a number, got bool"):
        P.order_request({"symbol": "BTC/USDT", "side": "buy", "quantity": True}, "test")


def test_good_numbers_pass() -> None:
    given = {"symbol": "btc/usdt", "side": "buy", "quantity": 0.5, "price": "64_000", "type": "limit"}
    req = P.order_request(given, "t")
    assert (req.symbol, str(req.quantity), str(req.price)) == ("BTC/USDT", "0.5", "64000")
