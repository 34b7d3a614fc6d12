"""No sequence of orders sent through the control socket takes a position past
max_position_notional: random mixes of market, limit, stop, bracket, reduce-only and OCO
orders, modifies, cancels and price moves, sent by a real client over the Unix socket."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tui_trader.config import Settings
from tui_trader.config.risk import RiskSettings
from tui_trader.core.clock import FrozenClock
from tui_trader.core.errors import UserError
from tui_trader.daemon.remote_client import RemoteClient
from tui_trader.daemon.server import ControlServer
from tui_trader.engine.testing import manual_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "risk"))
from risk_helpers import SYMBOL, Market

LIMIT = 6_000.0  # two ETH at 3,000

_side = st.sampled_from(["buy", "sell"])
_qty = st.integers(1, 30).map(lambda tenths: str(tenths / 10))
_action = st.one_of(
    st.tuples(st.just("market"), _side, _qty),
    st.tuples(st.just("limit"), _side, _qty, st.floats(-0.03, 0.03)),
    st.tuples(st.just("stop"), _side, _qty, st.floats(0.005, 0.03)),
    st.tuples(st.just("bracket"), _side, _qty),
    st.tuples(st.just("reduce"), _side, _qty),
    st.tuples(st.just("oco"), _side, _qty),
    st.tuples(st.just("modify"), st.integers(0, 5), st.floats(-0.02, 0.02), _qty),
    st.tuples(st.just("move"), st.floats(-0.03, 0.03)),
    st.tuples(st.just("cancel_all"),),
)


def _price(p: float) -> str:
    return f"{round(p, 2):.2f}"


async def _act(client: RemoteClient, market: Market, action: tuple[Any, ...], mid: float) -> float:
    kind = action[0]
    if kind == "move":
        mid = round(mid * (1 + action[1]), 2)
        await market.price(mid)
        return mid
    if kind == "cancel_all":
        await client.request("cancel_all")
        return mid
    if kind == "modify":
        orders = await client.request("orders")
        limits = [o for o in orders if o["type"] == "limit" and not o.get("parent_id") and not o.get("oco_id")]
        if limits:
            target = limits[action[1] % len(limits)]
            await client.request(
                "call",
                command="order.modify",
                params={"id": target["client_order_id"], "price": _price(mid * (1 + action[2])), "quantity": action[3]},
            )
        return mid
    side, qty = action[1], action[2]
    sign = 1 if side == "buy" else -1
    order: dict[str, Any] = {"symbol": SYMBOL, "side": side, "quantity": qty}
    if kind == "limit":
        order |= {"type": "limit", "price": _price(mid * (1 + action[3]))}
    elif kind == "stop":
        order |= {"type": "stop", "stop_price": _price(mid * (1 + sign * action[3]))}
    elif kind == "bracket":
        order |= {"stop_loss": _price(mid * (1 - sign * 0.02)), "take_profit": _price(mid * (1 + sign * 0.02))}
    elif kind == "reduce":
        order |= {"reduce_only": True}
    if kind == "oco":
        first = order | {"type": "limit", "price": _price(mid * (1 - sign * 0.01))}
        second = order | {"type": "stop", "stop_price": _price(mid * (1 + sign * 0.01))}
        await client.request("call", command="order.oco", params={"first": first, "second": second})
    else:
        await client.request("place", **order)
    return mid


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(_action, min_size=1, max_size=16))
# The walk-arounds: resting sells, each smaller than the long, that together flip it
# far short; brackets and OCO pairs stacked on a position; reduce-only orders on top.
@example([("market", "buy", "1.9"), *[("limit", "sell", "1.5", 0.01)] * 4, ("move", 0.02)])
@example(
    [
        ("market", "buy", "1.5"),
        ("bracket", "sell", "1.5"),
        ("bracket", "sell", "1.5"),
        ("oco", "sell", "1.5"),
        ("reduce", "sell", "1.5"),
        ("move", -0.03),
        ("move", 0.03),
        ("move", 0.03),
    ]
)
@example([("limit", "buy", "1.9", -0.01), ("stop", "buy", "1.9", 0.01), ("move", -0.02), ("move", 0.03)])
async def test_no_socket_sequence_takes_a_position_past_max_position_notional(actions: list[tuple[Any, ...]]) -> None:
    risk = RiskSettings(max_position_notional=LIMIT, price_band_pct=0.05, check_balance=False)
    engine = manual_engine(Settings(risk=risk), clock=FrozenClock())
    await engine.start()
    market = Market(engine)
    mid = 3000.0
    await market.price(mid)
    lowest = mid
    with tempfile.TemporaryDirectory() as tmp:
        server = ControlServer(engine, Path(tmp) / "d.sock")
        await server.start()
        client = RemoteClient(Path(tmp) / "d.sock", client="cli", mirror=False)
        await client.connect()
        try:
            for action in actions:
                try:
                    mid = await _act(client, market, action, mid)
                except UserError:
                    pass  # a refusal in one line: nothing changed
                await market.settle()
                lowest = min(lowest, mid)
                pos = engine.portfolio.positions.get(("paper", SYMBOL))
                held = abs(float(pos.quantity)) if pos is not None else 0.0
                # Every acceptance valued the worst case at a price no lower than the lowest
                # mid seen so far, so the position can never be bigger than this.
                assert held * lowest <= LIMIT + 1e-6, (action, held, lowest)
        finally:
            await client.close()
            await server.stop()
            await engine.stop()


async def test_positions_by_strategy_show_each_owners_part(served, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two strategies and a person on one symbol: `positions` names the owners, `--by-strategy`
    gives each its own part (they sum to the position), never the whole to each."""
    import argparse
    from decimal import Decimal

    from tui_trader.cli import control_cmd
    from tui_trader.core.enums import Side
    from tui_trader.core.orders import OrderRequest

    engine, _, home = served
    for actor, qty in (("strategy:alpha", "0.3"), ("strategy:beta", "0.5"), ("tui", "0.2")):
        placed = await engine.place(OrderRequest(SYMBOL, Side.BUY, Decimal(qty)), actor=actor)
        assert placed.status.value == "filled"
    client = RemoteClient(home.socket_path, client="cli", mirror=False)
    await client.connect()
    try:
        (pos,) = [p for p in await client.request("positions") if p["symbol"] == SYMBOL]
        assert pos["owners"] == ["alpha", "beta", "manual"] and Decimal(pos["quantity"]) == Decimal("1.0")
        rows = await client.request("positions", by_strategy=True)
    finally:
        await client.close()
    parts = {r["owner"]: Decimal(r["quantity"]) for r in rows if r["symbol"] == SYMBOL}
    assert parts == {"alpha": Decimal("0.3"), "beta": Decimal("0.5"), "manual": Decimal("0.2")}
    monkeypatch.setattr(control_cmd, "request", lambda args, cmd, **p: rows if p.get("by_strategy") else [])
    capsys.readouterr()
    assert control_cmd._positions(argparse.Namespace(by_strategy=True, json=False, home=None)) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["owner", "venue", "symbol", "quantity"]
    assert any(line.split()[:4] == ["alpha", "paper", SYMBOL, "0.3"] for line in table)
