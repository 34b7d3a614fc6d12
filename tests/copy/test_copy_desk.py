"""The copy desk against a real leader control server: scaling, risk, duplicates, late fills,
restarts (the row is written before the order is sent), reconnects and start / stop."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tui_trader.core.enums import OrderStatus, Side
from tui_trader.core.orders import OrderRequest
from tui_trader.daemon.server import ControlServer
from tui_trader.engine.commands import dispatch
from tui_trader.engine.copy.desk import order_id
from tui_trader.engine.copy.leaders import LeaderFill
from tui_trader.engine.testing import step
from tui_trader.home import Home
from tui_trader.store.mirrors import SENDING, Mirror, MirrorRecords

from copy_helpers import Pair, until

BUY_01 = OrderRequest("BTC/USDT", Side.BUY, Decimal("0.1"))


def own_fills(p: Pair, symbol: str = "BTC/USDT") -> list:
    return [f for f in p.follower.fills if f.symbol == symbol]


async def test_a_leader_fill_is_mirrored_at_scale_through_the_risk_checks(pair: Pair) -> None:
    p = pair
    order = await p.leader.place(BUY_01)
    assert order.status is OrderStatus.FILLED
    await until(lambda: own_fills(p), what="the mirrored fill")
    fills = own_fills(p)
    assert sum(f.quantity for f in fills) == Decimal("0.05")
    mirrored = p.follower.oms.orders[fills[0].client_order_id]
    assert mirrored.source == "copy:lead" and mirrored.strategy is None and mirrored.side is Side.BUY
    assert mirrored.client_order_id == order_id("lead", f"paper:{p.leader.fills[-1].fill_id}")
    audit = await p.follower.store.audit_log(50)
    assert any(r["actor"] == "copy:lead" and r["action"] == "place" for r in audit)
    st = p.status()
    assert st["seen"] == 1 and st["mirrored"] == 1 and st["skipped"] == 0 and st["positions"] == {"BTC/USDT": "0.05000"}
    assert st["delay_s"]["max"] == 0.0  # one frozen clock: no time passed
    assert abs(st["slippage_bps"]["max"]) < 5
    # the leader sells: the copy is closed (reduce-only), the same share
    await p.step()
    await p.leader.place(OrderRequest("BTC/USDT", Side.SELL, Decimal("0.1")))
    await until(lambda: len(own_fills(p)) >= 2 and p.status()["positions"] == {}, what="the mirrored exit")
    exit_order = p.follower.oms.orders[own_fills(p)[-1].client_order_id]
    assert exit_order.reduce_only and exit_order.side is Side.SELL
    assert p.follower.portfolio.positions[("paper", "BTC/USDT")].is_flat


async def test_a_mirrored_order_risk_refuses_is_recorded_and_nothing_trades(pair: Pair) -> None:
    p = pair
    await p.follower.apply_risk_settings(p.follower.settings.risk.model_copy(update={"max_order_notional": 1000.0}))
    await p.leader.place(BUY_01)
    await until(lambda: p.status()["rejected"] == 1, what="the risk rejection")
    st = p.status()
    row = st["recent"][-1]
    assert row["status"] == "rejected" and "notional" in row["reason"]
    assert not own_fills(p) and st["positions"] == {}


async def test_the_same_leader_fill_twice_is_mirrored_once(pair: Pair) -> None:
    p = pair
    await p.leader.place(BUY_01)
    await until(lambda: own_fills(p), what="the mirrored fill")
    leader_fill = LeaderFill.of(p.leader.fills[-1])
    follow = p.desk.follows["lead"]
    assert await p.desk.on_leader_fill(follow, leader_fill) is None  # the leader repeating itself
    assert p.status()["duplicates"] == 1 and len(own_fills(p)) == 1


async def test_a_fill_older_than_max_delay_is_skipped(pair: Pair) -> None:
    p = pair
    follow = p.desk.follows["lead"]
    await p.desk.set_enabled("lead", False, "test")
    await p.leader.place(BUY_01)
    old = LeaderFill.of(p.leader.fills[-1])
    p.clock.advance(31)  # max_delay_s is 30
    follow.since = old.ts  # as if we had followed all along
    mirror = await p.desk.on_leader_fill(follow, old)
    assert mirror is not None and mirror.status == "skipped" and mirror.detail["code"] == "late"
    assert "31.0 s old" in mirror.reason and not own_fills(p)


async def test_no_fill_is_mirrored_twice_across_a_follower_restart_and_fills_made_meanwhile_are_caught_up(
    pair: Pair,
) -> None:
    p = pair
    await p.leader.place(BUY_01)
    await until(lambda: own_fills(p), what="the mirrored fill")
    await p.follower.stop()
    await p.step()
    await p.leader.place(OrderRequest("ETH/USDT", Side.BUY, Decimal("1")))  # while the follower is down
    await p.step()
    await p.restart_follower()
    await until(lambda: own_fills(p, "ETH/USDT"), what="the caught-up fill")
    assert sum(f.quantity for f in own_fills(p, "ETH/USDT")) == Decimal("0.5")
    stored = await p.follower.store.load_fills()
    assert sum(1 for f in stored if f.symbol == "BTC/USDT") == 1  # the BTC fill was not repeated
    st = p.status()
    assert st["mirrored"] == 2 and st["seen"] == 2


async def test_fills_missed_beyond_max_delay_while_the_follower_was_down_are_recorded_late(pair: Pair) -> None:
    p = pair
    await p.leader.place(BUY_01)
    await until(lambda: own_fills(p), what="the mirrored fill")
    await p.follower.stop()
    await p.step()
    await p.leader.place(OrderRequest("ETH/USDT", Side.BUY, Decimal("1")))  # while the follower is down
    missed = [f for f in p.leader.fills if f.symbol == "ETH/USDT"]
    p.clock.advance(45)  # the follower is back after max_delay_s (30)
    await p.restart_follower()
    await until(lambda: p.status()["seen"] == len(p.leader.fills), what="the missed fills to be recorded")
    st = p.status()
    late = [r for r in st["recent"] if r["symbol"] == "ETH/USDT"]
    assert len(late) == len(missed) and all(r["status"] == "skipped" and r["code"] == "late" for r in late)
    assert all("beyond max_delay_s 30" in r["reason"] for r in late)
    assert not own_fills(p, "ETH/USDT") and len(own_fills(p)) == 1  # nothing sent, the BTC fill not repeated
    assert st["skipped_by"] == {"late": len(missed)} and st["duplicates"] >= 1
    audit = await p.follower.store.audit_log(100)
    skips = [r for r in audit if r["actor"] == "copy:lead" and r["action"] == "copy_skip"]
    assert len(skips) == len(missed)


async def test_a_row_written_before_a_crash_is_sent_once_at_restart(pair: Pair) -> None:
    """The follower died after writing the row and before placing the order: at restart the order
    is not in the database, so it was never sent; it is sent now (still fresh), once."""
    p = pair
    await p.desk.set_enabled("lead", False, "test")
    await p.leader.place(BUY_01)
    lf = LeaderFill.of(p.leader.fills[-1])
    cid = order_id("lead", lf.key)
    records = MirrorRecords(p.follower.store)
    await records.insert(Mirror("lead", lf.key, lf.ts, lf.symbol, lf.side, lf.quantity, lf.price, p.clock.now(),
                                SENDING, "", cid, {"order_quantity": "0.05"}))  # fmt: skip
    await p.restart_follower()
    await until(lambda: own_fills(p), what="the pending mirror to be sent")
    assert [f.client_order_id for f in own_fills(p)] == [cid]
    rows = {m.fill_key: m for m in await MirrorRecords(p.follower.store).load("lead")}
    assert rows[lf.key].status == "sent"
    await until(lambda: p.status()["mirrored"] == 1, what="the fill of the order sent at start in the record")
    assert p.status()["positions"] == {"BTC/USDT": "0.05000"}
    await p.restart_follower()  # and again: the order exists now, nothing is sent
    assert len(await p.follower.store.load_fills()) == 1
    assert (await MirrorRecords(p.follower.store).load("lead"))[0].status == "sent"


async def test_leader_restart_reconnects_and_history_repeats_are_ignored(pair: Pair) -> None:
    p = pair
    await p.leader.place(BUY_01)
    await until(lambda: own_fills(p), what="the mirrored fill")
    port = p.server.tcp_port
    await p.server.stop()  # the leader's control port goes away (a restart)
    await until(lambda: p.status()["state"] != "connected", what="the follower to notice")
    await p.step()
    await p.leader.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("0.2")))  # while the link is down
    p.server = ControlServer(p.leader, p.server.socket_path, token="leader-owner-token", tcp_port=port)
    await p.server.start()
    await until(lambda: p.status()["mirrored"] == 2, timeout=40, what="reconnect and catch up")
    st = p.status()
    assert st["state"] == "connected" and st["duplicates"] >= 1  # the first fill came again in the history
    assert sum(f.quantity for f in own_fills(p)) == Decimal("0.15")


async def test_stop_and_start_per_leader_is_kept_and_fills_while_stopped_are_not_mirrored(pair: Pair) -> None:
    p = pair
    st = await dispatch(p.follower, "copy.stop", {"name": "lead"}, "cli@unix")
    assert st["enabled"] is False and st["state"] == "stopped"
    await p.leader.place(BUY_01)
    await p.restart_follower()
    assert p.status()["enabled"] is False
    await p.step()
    st = await dispatch(p.follower, "copy.start", {"name": "lead"}, "cli@unix")
    assert st["enabled"] is True
    await until(lambda: p.status()["state"] == "connected", what="reconnect after start")
    await p.step()
    await p.leader.place(OrderRequest("ETH/USDT", Side.BUY, Decimal("1")))
    await until(lambda: own_fills(p, "ETH/USDT"), what="the fill after start")
    assert not own_fills(p, "BTC/USDT")  # made while stopped: not ours
    audit = await p.follower.store.audit_log(100)
    assert {"copy_stop", "copy_start"} <= {r["action"] for r in audit if r["actor"] == "cli@unix"}


async def test_scale_by_equity_sizes_by_the_two_accounts(pair: Pair, tmp_path: Path) -> None:
    p = pair
    half = p.follower.settings.paper.model_copy(update={"balances": {"USDT": 50_000.0, "USD": 50_000.0}})
    await p.restart_follower(Home(tmp_path / "smaller").ensure(), {"paper": half}, scale_by="equity", scale=1.0)
    await step(p.follower, 1, seconds=0)
    await until(lambda: p.status()["state"] == "connected", what="reconnect")
    ours, theirs = p.follower.account().equity, p.leader.account().equity
    assert ours / theirs == pytest.approx(0.5, rel=1e-3)
    await p.leader.place(OrderRequest("BTC/USDT", Side.BUY, Decimal("1")))
    def settled() -> bool:  # all of the leader's 1 BTC seen (one fill per book level, maybe one at a time)
        st = p.status()
        return st["pending"] == 0 and sum(Decimal(r["quantity"]) for r in st["recent"]) == Decimal("1")

    await until(settled, what="every leader fill seen and its mirror settled")
    rows = [r for r in p.status()["recent"] if r["status"] == "sent"]
    # each fill is sized by the two equities when it arrives (the leader's fee has moved its own)
    assert rows and all(r["ratio"] == pytest.approx(0.5, rel=1e-3) for r in rows)
    assert sum(Decimal(r["quantity"]) for r in rows) == Decimal("1")
    for r in rows:
        leader_qty = Decimal(r["quantity"])
        assert Decimal(r["order_quantity"]) == (leader_qty * Decimal(str(r["ratio"]))).quantize(
            Decimal("0.00001"), rounding="ROUND_DOWN"
        )
