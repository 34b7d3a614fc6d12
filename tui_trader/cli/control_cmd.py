"""Command line against a running daemon: status, positions, orders, fills, order, cancel, flatten,
risk reset.

Each command is one request over the daemon's Unix socket. With no daemon running it says so in
one line and exits 1; `--json` prints exactly one JSON document.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from tui_trader.cli.common import add_command, print_json
from tui_trader.core.enums import OrderStatus
from tui_trader.core.errors import UsageError
from tui_trader.core.numbers import NumberError, checked_decimal
from tui_trader.core.orders import legs_note, shown_state, trail_fields


def register(sub: argparse._SubParsersAction) -> None:
    add_command(sub, "status", "the running daemon: venues, connections, mode, strategies", _status, json_flag=True)
    p = add_command(sub, "positions", "open positions held by the running daemon", _positions, json_flag=True)
    p.add_argument(
        "--by-strategy", action="store_true", help="each strategy's part (and manual's) of each symbol, with its P&L"
    )
    p = add_command(sub, "orders", "working orders of the running daemon", _orders, json_flag=True)
    p.add_argument("--all", action="store_true", help="recent orders too (filled, cancelled, rejected)")
    p = add_command(sub, "fills", "recent fills of the running daemon", _fills, json_flag=True)
    p.add_argument("--limit", type=int, default=20, help="how many (default 20)")

    p = add_command(sub, "order", "place an order through the running daemon", _order, json_flag=True)
    p.add_argument("side", choices=["buy", "sell"])
    p.add_argument("quantity", type=_decimal("QTY"), metavar="QTY")
    p.add_argument("symbol", metavar="SYMBOL")
    p.add_argument(
        "--type", dest="order_type", choices=["market", "limit", "stop", "stop-limit", "trailing-stop"],
        help="default: market (trailing-stop with --trail)",
    )  # fmt: skip
    p.add_argument("--price", type=_decimal("--price"), help="limit price")
    p.add_argument("--stop", type=_decimal("--stop"), help="stop (trigger) price")
    p.add_argument("--sl", type=_level("--sl"), help="stop-loss for a bracket: a price, or pips (20p) for FX")
    p.add_argument("--tp", type=_level("--tp"), help="take-profit for a bracket: a price, or pips (40p) for FX")
    p.add_argument(
        "--leverage", type=_decimal("--leverage"),
        help="perpetuals, futures, FX: trade the symbol at this leverage (set first, kept for the symbol)",
    )
    p.add_argument(
        "--lot", choices=["lot", "mini", "micro", "nano"],
        help="FX: QTY counts lots of this kind (lot 100,000 units, mini 10,000, micro 1,000, nano 100)",
    )
    p.add_argument(
        "--venue",
        help="venue name (default: [engine] default_venue), or auto: the best price after fees across venues",
    )
    p.add_argument("--tif", default="gtc", choices=["gtc", "ioc", "fok", "day"], help="time in force")
    p.add_argument("--trail", type=_trail, metavar="DISTANCE",
                   help="a trailing stop: 2%% of the price, or a distance such as 500 in quote currency")  # fmt: skip
    p.add_argument("--oco", type=_decimal("--oco"), metavar="PRICE",
                   help="one cancels the other: with --type limit a stop at PRICE, with --type stop a limit at "
                        "PRICE (same side and quantity); when one fills the other is cancelled")  # fmt: skip
    p.add_argument("--post-only", action="store_true", help="a limit order that only rests (refused if it would take)")
    p.add_argument("--reduce-only", action="store_true", help="may only shrink the position, never open or flip it")
    p.add_argument(
        "--ext-hours",
        action="store_true",
        help="stocks: a limit order that may trade pre-market and after-hours",
    )

    p = add_command(sub, "cancel", "cancel an order (or all) on the running daemon", _cancel, json_flag=True)
    p.add_argument("order_id", metavar="ID|all")
    p.add_argument("--symbol", help="with `all`: only this symbol")

    p = add_command(
        sub, "modify", "change a working limit order's price and/or quantity on the running daemon", _modify,
        json_flag=True,
    )
    p.add_argument("order_id", metavar="ID")
    p.add_argument("--price", type=_decimal("--price"), help="the new limit price")
    p.add_argument("--qty", type=_decimal("--qty"), help="the new total quantity")

    p = add_command(
        sub, "flatten", "kill switch: cancel every order and close every position", _flatten, json_flag=True
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = add_command(sub, "risk", "the running daemon's halts: reset tripped breakers and the kill switch")
    verbs = p.add_subparsers(dest="verb", metavar="reset", required=True, parser_class=type(p))
    s = add_command(verbs, "reset", "clear tripped breakers (all, or one): new entries are allowed again", _reset,
                    json_flag=True)  # fmt: skip
    s.add_argument("which", nargs="?", default="all", metavar="BREAKER",
                   help="daily_loss, max_drawdown, consecutive_losses, kill_switch or all (default)")  # fmt: skip
    s.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _decimal(label: str) -> Callable[[str], Decimal]:
    def parse(text: str) -> Decimal:
        try:
            return checked_decimal(text, label)
        except NumberError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _trail(text: str) -> dict[str, Decimal]:
    try:
        return trail_fields(text.strip(), checked_decimal)
    except ValueError as exc:  # (a NumberError too)
        raise argparse.ArgumentTypeError(str(exc)) from None


def _level(label: str) -> Callable[[str], Decimal | tuple[str, Decimal]]:
    """A price, or a distance in pips (`20p`, `20pips`) as ("pips", 20)."""
    price = _decimal(label)

    def parse(text: str) -> Decimal | tuple[str, Decimal]:
        raw = text.lower()
        for suffix in ("pips", "pip", "p"):
            if raw.endswith(suffix) and raw[: -len(suffix)][:1].isdigit():
                return ("pips", price(raw[: -len(suffix)]))
        return price(text)

    return parse


def _pip_legs(symbol: str, params: dict[str, Any]) -> None:
    """Bracket legs given in pips become distances from the entry (the engine resolves them)."""
    from tui_trader.core.forex import pips_to_price

    for name in ("stop_loss", "take_profit"):
        value = params.get(name)
        if isinstance(value, tuple):
            try:
                params[f"{name}_offset"] = pips_to_price(symbol, value[1])
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            params[name] = None


def request(args: argparse.Namespace, cmd: str, *, timeout_s: float = 15.0, **params: Any) -> Any:
    """One request to the daemon of this home folder (NotRunningError when there is none),
    answered within `timeout_s`."""
    import asyncio

    from tui_trader.daemon.remote_client import RemoteClient
    from tui_trader.home import Home

    home = Home.resolve(getattr(args, "home", None))

    async def go() -> Any:
        client = RemoteClient.for_home(home, client="cli", mirror=False, timeout_s=timeout_s)
        await client.connect()
        try:
            return await client.request(cmd, **params)
        finally:
            await client.close()

    return asyncio.run(go())


def daemon_or(
    args: argparse.Namespace, command: str, params: dict[str, Any], offline: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """The running daemon's answer to engine command `command` (`source` "daemon"), else what
    `offline()` works out without one (commands that can: quote, scan)."""
    from tui_trader.core.errors import NotRunningError

    try:
        doc = request(args, "call", command=command, params=params)
    except NotRunningError:
        return offline()
    doc["source"] = "daemon"
    return dict(doc)


def show(args: argparse.Namespace, doc: Any, describe: Callable[[Any], str]) -> int:
    """`--json`: the document; else its description."""
    if args.json:
        print_json(doc)
    else:
        print(describe(doc))
    return 0


# -- read ------------------------------------------------------------------------------------------


def _status(args: argparse.Namespace) -> int:
    st = request(args, "status")
    if args.json:
        print_json(st)
        return 0
    halted = f", HALTED: {st['halted']}" if st.get("halted") else ""
    live = " (armed)" if st.get("live_armed") and st["mode"] == "live" else ""
    print(
        f"daemon pid {st['pid']}, {st['mode'].upper()}{live}, up {_duration(st['uptime_s'])}, "
        f"{st['clients']} client(s) attached{halted}"
    )
    print(f"home {st['home']}")
    print("venues:")
    for v in st["venues"]:
        age = "" if v.get("last_message_age") is None else f", last message {v['last_message_age']:.1f}s ago"
        print(f"  {v['name']:<12} {v['kind']:<8} {v['state']:<12} {v.get('detail') or ''}{age}")
        if v.get("rate_limited"):
            print(f"    rate limited: {v['rate_limited']}")
        for s in v.get("streams") or []:
            if s["state"] not in ("live", "quiet", "waiting"):
                print(f"    stream {s['name']}: {s['state']}" + (f" ({s['detail']})" if s.get("detail") else ""))
        for h in v.get("holes") or []:  # what an outage left missing, not in the venue's history
            print(f"    hole {h['symbol']} {h['what']}: {h['start']} - {h['end']} (not in the venue's history)")
        if v.get("cash_unknown"):
            print(f"    {_cash_unknown(v)}")
        for d in v.get("positions_disagree") or []:  # the broker holds less than we count
            print(
                f"    position {d['symbol']}: {d['ours']} here, {d['at_venue']} at the venue "
                "(a fill not heard of, or sold elsewhere: check the account there; "
                f"`tui-trader venue adopt {v['name']} {d['symbol']}` takes its figure)"
            )
    if st.get("unknown_orders"):
        print(
            f"{st['unknown_orders']} order(s) with an unknown outcome are being looked up by client order id "
            "(`tui-trader orders` lists them; `cancel ID` cancels one)"
        )
    strategies = st.get("strategies") or []
    if strategies:
        print("strategies:")
        for s in strategies:
            print(f"  {s}" if not isinstance(s, dict) else "  " + "  ".join(f"{k}={v}" for k, v in s.items()))
    else:
        print("strategies: none running")
    ccy = st.get("currency", "")
    print(
        f"equity {st['equity']:,.2f} {ccy}  cash {st['cash']:,.2f}  day P&L {st['day_pnl']:+,.2f}  "
        f"open orders {st['open_orders']}  positions {st['positions']}"
    )
    balances = st.get("balances") or []
    if balances:
        print(f"balances (in {ccy} at live rates):")
        for b in balances:
            rate = "" if b["currency"] == ccy else (
                " x no quote (1:1)" if b.get("rate") is None else f" x {b['rate']:.6g}"
            )
            held = f"  positions {b['positions']:,.2f}" if b.get("positions") else ""
            print(
                f"  {b['currency']:<6} cash {b['cash']:,.2f}{held}  = {b['total']:,.2f} {b['currency']}"
                f"{rate} = {b['value']:,.2f} {ccy}"
            )
    return 0


def _cash_unknown(v: dict[str, Any]) -> str:
    """A venue whose balances are not believed: why, since when, what is refused, what to do."""
    name = v["name"]
    since = f" since {v['cash_unknown_since']}" if v.get("cash_unknown_since") else ""
    again = (
        f"`tui-trader venue stop {name}` then `venue start {name}`" if v.get("kind") == "paper"
        else f"`tui-trader venue reconnect {name}`"
    )
    return (
        f"cash not known{since}: {v['cash_unknown']}; orders adding to a position here are refused "
        f"until {again} reads its balances"
    )


def _positions(args: argparse.Namespace) -> int:
    if args.by_strategy:
        return _by_strategy(args)
    rows = request(args, "positions")
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no open positions")
        return 0
    _table(
        ["venue", "symbol", "quantity", "avg price", "mark", "unrealized", "realized", "owner"],
        [
            [
                p["venue"],
                p["symbol"],
                p["quantity"],
                _px(p["average_price"]),
                f"{p['mark']:,.6g}",
                f"{p['unrealized_pnl']:+,.2f}",
                f"{float(p['realized_pnl']):+,.2f}",
                ", ".join(p.get("owners") or []) or "-",
            ]
            for p in rows
        ],
    )
    margined = [p for p in rows if p.get("margin")]
    if margined:
        print("on margin:")
        _table(
            ["symbol", "leverage", "mode", "mark", "liquidation", "guard", "margin", "maint.", "funding", "next"],
            [
                [
                    p["symbol"],
                    f"{float(m['leverage']):g}x",
                    m["margin_mode"],
                    f"{float(m['mark']):,.6g}",
                    "-" if m["liquidation_price"] is None else m["liquidation_price"],
                    "-" if m["guard_price"] is None else m["guard_price"],
                    f"{float(m['initial_margin']):,.2f} {m['settle']}",
                    f"{float(m['maintenance_margin']):,.2f}",
                    f"{float(m['funding']):+,.4f}",
                    "-" if not m.get("next_funding") else
                    f"{m['next_funding'][11:16]} UTC at {float(m['funding_rate'] or 0):.4%}",
                ]
                for p in margined
                for m in [p["margin"]]
            ],
        )
    return 0


def _by_strategy(args: argparse.Namespace) -> int:
    rows = request(args, "positions", by_strategy=True)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no strategy or manual positions")
        return 0
    _table(
        ["owner", "venue", "symbol", "quantity", "avg price", "unrealized", "realized", "fees", "P&L"],
        [
            [
                r["owner"],
                r["venue"],
                r["symbol"],
                r["quantity"],
                _px(r["average_price"]),
                f"{r['unrealized_pnl']:+,.2f}",
                f"{r['realized_pnl']:+,.2f}",
                f"{r['fees']:,.2f}",
                f"{r['pnl']:+,.2f}",
            ]
            for r in rows
        ],
    )
    return 0


def _orders(args: argparse.Namespace) -> int:
    rows = request(args, "orders", all=args.all)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no working orders" if not args.all else "no recent orders")
        return 0
    rows, shown = _routed_first(rows)
    _table(
        ["id", "venue", "symbol", "side", "type", "quantity", "filled", "price", "stop", "status"],
        [
            [
                ("  └ " if (o.get("meta") or {}).get("route_parent") in shown else "") + o["client_order_id"],
                o["venue"],
                o["symbol"],
                o["side"],
                o["type"],
                o["quantity"],
                o["filled_quantity"],
                o["price"] or "",
                o["stop_price"] or "",
                shown_state(OrderStatus(o["status"]), o.get("meta")),  # `held` as in the TUI
            ]
            for o in rows
        ],
    )
    return 0


def _routed_first(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], set[str]]:
    """A routed order's children right under it (the parent says "auto")."""
    parents = {o["client_order_id"] for o in rows if isinstance((o.get("meta") or {}).get("route"), dict)}
    kids: dict[str, list[dict[str, Any]]] = {}
    out: list[dict[str, Any]] = []
    for o in rows:
        parent = str((o.get("meta") or {}).get("route_parent") or "")
        if parent in parents:
            kids.setdefault(parent, []).append(o)
    for o in rows:
        if (o.get("meta") or {}).get("route_parent") in parents:
            continue
        out.append(o)
        out.extend(kids.get(o["client_order_id"], []))
    return out, parents


def _fills(args: argparse.Namespace) -> int:
    if args.limit < 0:
        raise UsageError("--limit must be zero or more")
    rows = request(args, "fills", limit=args.limit)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no fills yet")
        return 0
    _table(
        ["time", "order", "symbol", "side", "quantity", "price", "fee", "liquidity"],
        [
            [
                f["ts"],
                f["client_order_id"],
                f["symbol"],
                f["side"],
                f["quantity"],
                f["price"],
                f"{f['fee']} {f['fee_currency']}",
                f["liquidity"],
            ]
            for f in rows
        ],
    )
    return 0


# -- write -----------------------------------------------------------------------------------------


def _order(args: argparse.Namespace) -> int:
    kind = args.order_type or ("trailing-stop" if args.trail else "market")
    if kind in ("limit", "stop-limit") and args.price is None:
        raise UsageError(f"a {kind} order needs --price")
    if kind in ("stop", "stop-limit") and args.stop is None:
        raise UsageError(f"a {kind} order needs --stop")
    if kind in ("market", "stop", "trailing-stop") and args.price is not None:
        raise UsageError(f"--price does not apply to a {kind} order; use --type limit or stop-limit")
    if kind == "trailing-stop" and args.trail is None:
        raise UsageError("a trailing-stop order needs --trail: 2% of the price or a distance such as 500")
    if args.trail is not None and kind != "trailing-stop":
        raise UsageError(f"--trail does not apply to a {kind} order; drop --type or use --type trailing-stop")
    if args.post_only and kind != "limit":
        raise UsageError(f"--post-only applies to limit orders only, not to a {kind} order")
    if args.oco is not None and kind not in ("limit", "stop"):
        raise UsageError("--oco pairs a limit with a stop: --type limit --price P --oco Q (a stop at Q)")
    symbol = args.symbol.upper()
    quantity = args.quantity
    if args.lot is not None:
        from tui_trader.core.forex import is_fx_pair, units_for_lots

        if not is_fx_pair(symbol):
            raise UsageError(f"--lot applies to FX pairs and metals, not {symbol}: give QTY in units")
        quantity = units_for_lots(symbol, quantity, args.lot)
    params = {
        "symbol": symbol,
        "side": args.side,
        "quantity": quantity,
        "type": kind,
        "price": args.price,
        "stop_price": args.stop,
        "stop_loss": args.sl,
        "take_profit": args.tp,
        "venue": args.venue,
        "time_in_force": args.tif,
        "extended_hours": args.ext_hours or None,
        "post_only": args.post_only or None,
        "reduce_only": args.reduce_only or None,
        "leverage": args.leverage,
        "source": "cli",
        **(args.trail or {}),
    }
    _pip_legs(symbol, params)
    first = {k: v for k, v in params.items() if v is not None}
    if args.oco is None:
        orders = [request(args, "place", **first)]
    else:  # the engine's order.oco: both legs placed as a pair, or neither
        pair = {"first": first, "second": _oco_leg(first, args.oco)}
        orders = request(args, "call", command="order.oco", params=pair)
    for order in orders:
        pip = _pip_value(order)
        if pip is not None:
            order["pip_value"] = pip
    if args.json:
        print_json(orders[0] if args.oco is None else orders)
    else:
        for order in orders:
            print(_describe(order))
            if order.get("pip_value"):
                print(f"pip value {order['pip_value']['amount']} {order['pip_value']['currency']} per pip")
    code = 0
    for order in orders:
        if order["status"] == "rejected":
            if not args.json:
                print(f"error: order rejected: {order.get('reason') or 'no reason given'}", file=sys.stderr)
            code = 1
        elif order["status"] in ("unknown", "new"):  # sent, not confirmed: it may or may not exist
            if not args.json:
                print(
                    f"error: {order['venue']} has not confirmed order {order['client_order_id']} "
                    f"({order.get('reason') or 'no answer yet'}); it is looked up by its client order id and "
                    f"never sent again: `tui-trader orders` shows how it settles, "
                    f"`tui-trader cancel {order['client_order_id']}` cancels it",
                    file=sys.stderr,
                )
            code = 1
    return code


def _oco_leg(first: dict[str, Any], price: Decimal) -> dict[str, Any]:
    """The other leg (a stop for a limit, a limit for a stop) as the socket takes it."""
    from tui_trader.core.encoding import to_jsonable
    from tui_trader.core.enums import OrderType, Side, TimeInForce
    from tui_trader.core.orders import OrderRequest, oco_partner

    leg = OrderRequest(
        first["symbol"], Side(first["side"]), first["quantity"], OrderType(first["type"]),
        venue=first.get("venue"), time_in_force=TimeInForce(first["time_in_force"]),
        reduce_only=bool(first.get("reduce_only")), source=first["source"],
    )  # fmt: skip
    other: dict[str, Any] = to_jsonable(oco_partner(leg, price))
    return {k: v for k, v in other.items() if v is not None}


def _pip_value(order: dict[str, Any]) -> dict[str, str] | None:
    """An FX order's pip value (at its fill price, else its limit price), or None."""
    from tui_trader.core.forex import is_fx_pair, pip_value_at

    price = order.get("average_price") or order.get("price") or order.get("stop_price")
    if not is_fx_pair(order.get("symbol")) or not price or order["status"] == "rejected":
        return None
    amount, ccy = pip_value_at(order["symbol"], Decimal(order["quantity"]), Decimal(str(price)))
    return {"amount": f"{amount:.2f}", "currency": ccy}


def _cancel(args: argparse.Namespace) -> int:
    if args.order_id.lower() == "all":
        orders = request(args, "cancel_all", symbol=args.symbol.upper() if args.symbol else None)
        if args.json:
            print_json(orders)
        else:
            print(f"cancelled {len(orders)} order(s)" + "".join(f"\n  {o['client_order_id']}" for o in orders))
        return 0
    if args.symbol:
        raise UsageError("--symbol only applies to `cancel all`")
    order = request(args, "cancel", id=args.order_id)
    if args.json:
        print_json(order)
    else:
        print(_describe(order))
    return 0


def _modify(args: argparse.Namespace) -> int:
    if args.price is None and args.qty is None:
        raise UsageError("modify: give --price, --qty or both")
    params = {"id": args.order_id, "price": args.price and str(args.price), "quantity": args.qty and str(args.qty)}
    order = request(args, "call", command="order.modify", params=params)
    if args.json:
        print_json(order)
    else:
        meta = order.get("meta", {})
        replaced = meta.get("replaces")
        print(_describe(order) + legs_note(meta) + (f" (replaces {replaced})" if replaced else ""))
    return 0


def _flatten(args: argparse.Namespace) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("flatten closes every position at market: pass --yes (stdin is not a terminal)")
        answer = input("Cancel every open order and close every position at market? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("nothing done")
            return 1
    result = request(args, "flatten")
    refused = result.get("refused") or {}  # exit 1: a position it could not close
    if args.json:
        print_json(result)
        return 1 if refused else 0
    print(f"flatten: cancelled {result['cancelled']} order(s), sent {len(result['closing_orders'])} closing order(s)")
    if result.get("still_open"):
        print(f"still open: {', '.join(result['still_open'])}")
    if refused:
        print("refused: " + "; ".join(f"{symbol}: {reason}" for symbol, reason in refused.items()))
        print("new entries stay halted; run `tui-trader flatten --yes` again once the venue takes orders")
    return 1 if refused else 0


def _reset(args: argparse.Namespace) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("risk reset allows new entries again: pass --yes (stdin is not a terminal)")
        answer = input(f"Reset {args.which} and allow new entries again? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("nothing done")
            return 1
    result = request(args, "call", command="risk.reset", params={"which": args.which})
    if args.json:
        print_json(result)
    else:
        cleared = result.get("cleared") or []
        print(f"reset: {', '.join(cleared)}" if cleared else "reset: none was tripped")
    return 0


# -- formatting ------------------------------------------------------------------------------------


def _filled(o: dict[str, Any]) -> str:
    if not (o.get("filled_quantity") and Decimal(o["filled_quantity"]) > 0):
        return ""
    return f", filled {o['filled_quantity']}" + (f" @ {_px(o['average_price'])}" if o.get("average_price") else "")


def _describe(o: dict[str, Any]) -> str:
    route = (o.get("meta") or {}).get("route")
    if isinstance(route, dict):
        return _describe_routed(o, route)
    price = f" @ {o['price']}" if o.get("price") else ""
    stop = f" stop {o['stop_price']}" if o.get("stop_price") else ""
    filled = _filled(o)
    reason = f" ({o['reason']})" if o.get("reason") and o["status"] not in ("rejected", "unknown") else ""
    return (
        f"{o['client_order_id']} {o['status']}: {o['side']} {o['quantity']} {o['symbol']} "
        f"{o['type']}{price}{stop} on {o['venue']}{filled}{reason}"
    )


def _describe_routed(o: dict[str, Any], route: dict[str, Any]) -> str:
    """A routed order (`--venue auto`): the parent, then what the route did and why."""
    price = f" @ {o['price']}" if o.get("price") else ""
    venues = ", ".join((o.get("meta") or {}).get("venues") or [])
    where = f"filled on {venues}" if venues else "nothing filled yet"
    filled = _filled(o)
    lines = [
        f"{o['client_order_id']} {o['status']}: {o['side']} {o['quantity']} {o['symbol']} {o['type']}{price} "
        f"routed ({where}){filled}"
    ]
    lines += [f"  {note}" for note in route.get("notes", [])]
    lines.append(f"  children: {', '.join(route.get('children', [])) or 'none'}")
    return "\n".join(lines)


def _px(value: Any) -> str:
    """An average price for reading: about 8 significant digits (8 decimals under 1), no
    trailing zeros past the cents. A volume-weighted average has as many digits as the
    division gave it; `--json` keeps them all."""
    if value in (None, ""):
        return "-"
    d = Decimal(str(value))
    whole = len(str(abs(int(d)))) if abs(d) >= 1 else 0
    text = f"{d:,.{max(2, 8 - whole)}f}"
    if "." in text:
        head, tail = text.split(".")
        text = f"{head}.{tail[:2]}{tail[2:].rstrip('0')}"
    return text


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [list(map(str, header))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"
