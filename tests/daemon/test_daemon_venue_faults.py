"""The issue's order faults as a trader meets them: a real daemon (subprocess) trading the fake
Binance (loopback, real ccxt), keys in the encrypted HOME/keyring.cfg, driven by the CLI. Each
fault ends with the exchange's ledger and `tui-trader orders/fills/positions --json` agreeing,
and no order sent twice."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tui_trader.cli.main import main

from daemon_homes import cheap_argon2_env, home_with_keys, write_binance_config
from fakes.binance_exchange import FakeBinanceExchange
from fakes.venue_harness import API_KEY, SECRET

T = TypeVar("T")
PASSWORD = "keyring-pass"


class FakeInThread:
    """The asyncio fake Binance on its own loop in a thread, so the test can run the CLI."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake: FakeBinanceExchange = self.run(FakeBinanceExchange(api_key=API_KEY).start(tick_interval_s=0.05))

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def call(self, fn: Callable[[], T]) -> T:
        """`fn` on the fake's loop (its state is only touched there)."""

        async def inside() -> T:
            return fn()

        return self.run(inside())  # type: ignore[no-any-return]

    def close(self) -> None:
        self.run(self.fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {toml(v)}' for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))


@pytest.fixture
def exchange() -> Iterator[FakeInThread]:
    fake = FakeInThread()
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture(scope="module")
def keyring_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose encrypted keyring (at CHEAP_ARGON2's cost) holds the fake's binance keys."""
    return home_with_keys(tmp_path_factory.mktemp("venue-faults") / "home", PASSWORD, "binance", API_KEY, SECRET)


def configure(home: Path, fake: FakeBinanceExchange) -> None:
    options = fake.ccxt_options()
    options["timeout"] = 400  # ms: the delayed answers below come after it
    options["rateLimit"] = 1  # ms a unit of a request's cost (Binance's 50 would wait seconds on a loopback fake)
    write_binance_config(
        home,
        f"stall_after_s = 1.0\nbackoff_base_s = 0.05\nbackoff_cap_s = 0.3\noptions = {toml(options)}\n",
    )


def cli(capsys: pytest.CaptureFixture[str], home: Path, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([*argv, "--home", str(home)])
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(capsys: pytest.CaptureFixture[str], home: Path, *argv: str) -> Any:
    code, out, err = cli(capsys, home, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def posts(fake: FakeBinanceExchange) -> int:
    return sum(1 for m, p in fake.requests if m == "POST" and p == "/order")


def ledgers_agree(capsys: pytest.CaptureFixture[str], home: Path, ex: FakeInThread) -> None:
    """The exchange's trades are `fills --json`, its orders' states `orders --all --json`, its
    net position `positions --json`; it never holds two orders for one of our ids."""
    trades = ex.call(lambda: [(str(t.trade_id), t.order.client_order_id, t.qty, t.order.side) for t in ex.fake.trades])
    at_fake = ex.call(lambda: {cid: (o.status, o.executed) for cid, o in ex.fake.orders.items()})
    wait_until(lambda: len(cli_json(capsys, home, "fills", "--limit", "1000")) >= len(trades))
    fills = cli_json(capsys, home, "fills", "--limit", "1000")
    assert sorted(f["fill_id"] for f in fills) == sorted(t[0] for t in trades)
    ours = {o["client_order_id"]: o for o in cli_json(capsys, home, "orders", "--all")}
    for cid, (status, executed) in at_fake.items():
        assert cid in ours, f"{cid} at the exchange, unknown to us"
        assert Decimal(ours[cid]["filled_quantity"]) == executed
        assert ours[cid]["status"] == {"filled": "filled", "canceled": "cancelled", "new": "accepted"}.get(
            status, status
        ), (cid, status, ours[cid])
    held = sum((q if side == "buy" else -q for _, _, q, side in trades), Decimal(0))
    positions = [p for p in cli_json(capsys, home, "positions") if p.get("venue", "binance") == "binance"]
    assert sum((Decimal(p["quantity"]) for p in positions), Decimal(0)) == held
    assert ex.call(lambda: list(ex.fake.made_twice)) == []


def test_order_faults_end_with_the_cli_and_the_exchange_agreeing(
    spawn_daemon, exchange: FakeInThread, keyring_home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    home = keyring_home
    fake = exchange.fake
    configure(home, fake)
    env = cheap_argon2_env(tmp_path / "site")
    d = spawn_daemon(home, ready=False, TUI_TRADER_KEYRING="file", TUI_TRADER_KEYRING_PASSWORD=PASSWORD, **env)
    d.wait_ready(90)  # ccxt's import, on a loaded machine
    try:
        wait_until(lambda: any(v["name"] == "binance" and v["state"] == "connected"
                               for v in cli_json(capsys, home, "status")["venues"]))  # fmt: skip

        # 1. the answer to a market order is lost, and the lookup by client id fails once
        def lose_the_answer() -> None:
            fake.stall_private()  # the user data stream's news is lost too: only REST can tell
            fake.delay_next_ack(4.0)  # far past the 0.4 s timeout, even on a loaded machine
            fake.fail_next(1, 503, method="GET", path="/order")

        exchange.call(lose_the_answer)
        code, out, err = cli(capsys, home, "order", "buy", "0.1", "BTC/USDT", "--venue", "binance")
        assert code == 1 and "has not confirmed" in err and "never sent again" in err, (out, err)
        cid = err.split("order ", 1)[1].split()[0]
        wait_until(lambda: cli_json(capsys, home, "orders", "--all")
                   and {o["client_order_id"]: o["status"] for o in cli_json(capsys, home, "orders", "--all")}.get(cid)
                   == "filled")  # fmt: skip
        exchange.call(lambda: fake.stall_private(False))
        assert exchange.call(lambda: posts(fake)) == 1

        # 2. "Duplicate order sent." for a resting order, and the lookup fails once
        def answer_duplicate() -> None:
            fake.answer_duplicate_next()
            fake.fail_next(1, 503, method="GET", path="/order")

        exchange.call(answer_duplicate)
        code, out, err = cli(
            capsys, home, "order", "buy", "0.2", "BTC/USDT", "--venue", "binance", "--type", "limit", "--price", "92",
            "--json",
        )  # fmt: skip
        placed = json.loads(out)
        assert placed["status"] != "rejected", placed
        working = placed["client_order_id"]

        def shown(status: str) -> Callable[[], bool]:
            return lambda: any(
                o["client_order_id"] == working and o["status"] == status
                for o in cli_json(capsys, home, "orders", "--all")
            )

        wait_until(shown("accepted"))
        code, out, err = cli(capsys, home, "cancel", "all")
        assert code == 0, err
        wait_until(shown("cancelled"))
        assert exchange.call(lambda: fake.orders[working].status) == "canceled"
        assert exchange.call(lambda: posts(fake)) == 2
        ledgers_agree(capsys, home, exchange)
    finally:
        assert d.stop() == 0, d.stderr
