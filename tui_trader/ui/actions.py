"""Workstation actions that go through `client.call`: strategies on/off and reload, tickets from
recommendations and chat signals, resetting breakers, arming live trading.

A mixin for WorkstationApp (it uses the app's client, snapshot, status bar and order flow), so
the app module stays about layout and the refresh tick. Every order still ends in
`submit_order`: a confirmation, then the engine's risk checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work

from tui_trader.core.errors import UserError
from tui_trader.ui import screens  # the dialogs load when first opened (screens/__init__.py)
from tui_trader.ui.panes.copy import CopyPane
from tui_trader.ui.panes.risk import RiskPane
from tui_trader.ui.panes.signals import SignalsPane, chat_what
from tui_trader.ui.panes.statusbar import StatusBar, live_venues
from tui_trader.ui.panes.strategies import StrategiesPane
from tui_trader.ui.workstation_state import WorkstationState

if TYPE_CHECKING:
    from tui_trader.core.signals import Signal
    from tui_trader.ui.prefill import TicketPrefill

PaletteCommand = tuple[str, str, Any]
CHAT_PROVIDER = "manual"  # provider name for signals pasted into the TUI
RECONNECT_WAIT_S = 15  # how long `venue reconnect` waits for the venue to be back before answering


class FeatureActions(WorkstationState):
    """Mixed into WorkstationApp; `self` is the app. Handlers are named on_*: `@on` registers only
    on a MessagePump class, which a mixin is not."""

    live_armed: bool = False  # armed from this screen (the engine refuses live orders until then)

    # -- helpers -----------------------------------------------------------------------------

    def _say(self, message: str, error: bool = False) -> None:
        self.notify(message, severity="error" if error else "information")
        self.query_one(StatusBar).say(message, self.palette.error if error else "")

    def is_live_armed(self) -> bool:
        """Armed from this screen, or reported by the engine (a daemon started with --live)."""
        snap = self.snapshot
        reported = snap.extra.get("live_armed") if snap is not None else None
        return bool(reported) if reported is not None else self.live_armed

    def open_prefilled_ticket(self, prefill: TicketPrefill, source: str = "manual", tag: str | None = None) -> None:
        """`source` and `tag` (a chat message's id) follow the order, so the engine links the
        position to the provider's message."""

        def done(result: Any) -> bool:
            request, oco = result if isinstance(result, tuple) else (result, None)
            if request is not None:
                request = request if source == "manual" else request.with_(source=source, tag=tag)
                self.submit_order(request, oco=oco)
            return request is not None

        self.push_screen(
            screens.TicketScreen(
                prefill.side,
                prefill.symbol,
                self.lookup,
                prefill.order_type,
                prefill=prefill.fields,
                note=prefill.note,
                venues=[v.name for v in self.snapshot.venues] if self.snapshot is not None else [],
                run_in_place=done,  # the reviewed order is handed over in place (hand_off.py)
            )
        )

    # -- strategies --------------------------------------------------------------------------

    def on_strategies_pane_toggle_requested(self, event: StrategiesPane.ToggleRequested) -> None:
        self.toggle_strategy(event.name, event.enable)

    def on_strategies_pane_reload_requested(self, event: StrategiesPane.ReloadRequested) -> None:
        self.action_reload_strategies()

    @work(exclusive=True, group="strategies", exit_on_error=False)
    async def toggle_strategy(self, name: str, enable: bool) -> None:
        command = "strategies.enable" if enable else "strategies.disable"
        try:
            status = await self.client.call(command, name=name)
        except UserError as exc:
            self._say(str(exc), error=True)
            return
        state = "enabled" if status.get("enabled") else "disabled"
        self._say(f"strategy {name} {state}")
        await self.refresh_snapshot()

    @work(exclusive=True, group="strategies", exit_on_error=False)
    async def action_reload_strategies(self) -> None:
        try:
            reloaded = await self.client.call("reload_strategies")
        except UserError as exc:
            self._say(str(exc), error=True)
            return
        self._say(f"reloaded: {', '.join(reloaded)}" if reloaded else "no strategy file changed since the last load")
        await self.refresh_snapshot()

    # -- copy trading ------------------------------------------------------------------------

    def on_copy_pane_toggle_requested(self, event: CopyPane.ToggleRequested) -> None:
        self.toggle_copy(event.name, event.enable)

    @work(exclusive=True, group="copy", exit_on_error=False)
    async def toggle_copy(self, name: str, enable: bool) -> None:
        try:
            status = await self.client.call("copy.start" if enable else "copy.stop", name=name)
        except UserError as exc:
            self._say(str(exc), error=True)
            return
        self._say(f"copy {name}: {'following' if status.get('enabled') else 'stopped'}")
        await self.refresh_snapshot()

    # -- signals -----------------------------------------------------------------------------

    def on_signals_pane_ticket_requested(self, event: SignalsPane.TicketRequested) -> None:
        if event.recommendation is not None:
            self.ticket_from_recommendation(event.recommendation)
        elif event.signal is not None:
            self.ticket_from_signal(event.signal)

    def on_signals_pane_chat_confirm_requested(self, event: SignalsPane.ChatConfirmRequested) -> None:
        if event.status != "pending":
            self._say(f"chat signal {event.chat_id} is {event.status}, not pending", error=True)
            return
        self.confirm_chat_signal(event.chat_id)

    def ticket_from_recommendation(self, rec: dict[str, Any]) -> None:
        from tui_trader.ui.prefill import NoTrade, from_recommendation  # not before the first paint

        symbol = str(rec.get("symbol", ""))
        try:
            prefill = from_recommendation(rec, *self.lookup(symbol))
        except NoTrade:
            self._say(f"{symbol}: the recommendation is flat; nothing to trade", error=True)
            return
        self.open_prefilled_ticket(prefill)

    def ticket_from_signal(self, signal: Signal) -> None:
        rec = {
            "symbol": signal.symbol,
            "direction": signal.direction.value,
            "score": signal.strength if signal.direction.value == "long" else -signal.strength,
            "top_reasons": [f"{signal.source}: {signal.reason}".strip(": ")],
        }
        self.ticket_from_recommendation(rec)

    def action_paste_signal(self) -> None:
        self.paste_chat_signal()

    @work(exclusive=True, group="chat", exit_on_error=False)
    async def paste_chat_signal(self, text: str = "", error: str = "") -> None:
        """Paste -> signals.parse_chat -> signals.confirm -> a pre-filled ticket."""
        while True:
            pasted = await self.push_screen_wait(screens.PasteSignalScreen(text, error))
            if not pasted:
                return
            try:
                item = await self.client.call("signals.parse_chat", text=pasted, provider=CHAT_PROVIDER)
                break
            except UserError as exc:
                text, error = pasted, str(exc)
        await self.refresh_snapshot()
        if item.get("status") != "pending":
            self._say(f"chat signal {item.get('id')}: {item.get('status')} {item.get('note') or ''}".strip())
            return
        if item.get("kind", "entry") != "entry":
            await self._confirm_action(item)
            return
        await self._confirm_into_ticket(item)

    @work(exclusive=True, group="chat", exit_on_error=False)
    async def confirm_chat_signal(self, chat_id: str) -> None:
        pending = (self.snapshot.extra.get("signals") or {}).get("pending_chat", []) if self.snapshot else []
        item = next((p for p in pending if p.get("id") == chat_id), {"id": chat_id})
        if item.get("kind", "entry") != "entry":
            await self._confirm_action(item)
            return
        await self._confirm_into_ticket(item)

    async def _confirm_action(self, item: dict[str, Any]) -> None:
        """An exit, update or cancel: say what was read and what it will touch, then act."""
        sig = item.get("signal") or {}
        body = Text.assemble(
            (f"{item.get('provider')}: {sig.get('kind')} {chat_what(sig)} {sig.get('symbol') or ''}\n", "bold"),
            f"{sig.get('text', '')}\n\n",
            f"{item.get('note') or ''}\n",
            *[f"note: {r}\n" for r in sig.get("reasons") or []],
            "\nOnly positions and orders opened from this provider's messages are touched;"
            " every order passes the risk checks.",
        )
        screen = screens.ConfirmScreen(f"Act on {item.get('id')}?", body, yes="Act", arm_s=self.arm_s())
        if not await self.confirm(screen):
            return
        try:
            result = await self.client.call("signals.confirm", id=item["id"])
        except UserError as exc:
            self._say(str(exc), error=True)
            return
        notes = "; ".join(result.get("notes") or []) or str(result.get("status"))
        self._say(f"{item['id']}: {notes}", error=result.get("status") != "done")
        await self.refresh_snapshot()

    async def _confirm_into_ticket(self, item: dict[str, Any]) -> None:
        """Confirm a pending chat signal; when the engine cannot size it, pre-fill the levels
        the provider gave and let the trader type the quantity."""
        from tui_trader.ui.prefill import TicketPrefill, chat_note, from_request, side_of  # not before the first paint

        try:
            confirmed = await self.client.call("signals.confirm", id=item["id"])
        except UserError as exc:
            sig = item.get("signal") or {}
            if not sig.get("symbol"):
                self._say(str(exc), error=True)
                return
            self._say(f"{exc}; enter the quantity in the ticket", error=True)
            fields = {
                k: str(v)
                for k, v in (
                    ("price", sig.get("entry_price")),
                    ("stop_loss", sig.get("stop")),
                    ("take_profit", (sig.get("targets") or [None])[0]),
                )
                if v
            }
            prefill = TicketPrefill(
                side_of(str(sig.get("direction"))),
                str(sig["symbol"]),
                fields=fields,
                note=chat_note({"provider": item.get("provider"), "signal": sig}),
            )
            self.open_prefilled_ticket(
                prefill, source=f"signal:{item.get('provider', CHAT_PROVIDER)}", tag=item.get("id")
            )
            return
        prefill = from_request(confirmed["request"], note=chat_note(confirmed))
        self.open_prefilled_ticket(
            prefill, source=f"signal:{confirmed.get('provider', CHAT_PROVIDER)}", tag=confirmed.get("id")
        )
        await self.refresh_snapshot()

    # -- risk --------------------------------------------------------------------------------

    def on_risk_pane_reset_requested(self, event: RiskPane.ResetRequested) -> None:
        self.action_reset_breakers()

    @work(exclusive=True, group="risk", exit_on_error=False)
    async def action_reset_breakers(self) -> None:
        risk = (self.snapshot.extra.get("risk") or {}) if self.snapshot else {}
        tripped = risk.get("breakers") or {}
        if not tripped:
            self._say("no breaker is tripped")
            return
        body = Text.assemble(
            ("Reset circuit breakers\n\n", "bold"),
            *[f"{name}: {info.get('message', '')}\n" for name, info in tripped.items()],
            "\nNew entries are allowed again right after the reset.",
        )
        screen = screens.ConfirmScreen("Reset breakers?", body, yes="Reset", danger=True, arm_s=self.arm_s())
        if not await self.confirm(screen):
            return
        try:
            result = await self.client.call("risk.reset")
        except UserError as exc:
            self._say(str(exc), error=True)
            return
        cleared = result.get("cleared") or []
        self._say(f"breakers reset: {', '.join(cleared) or 'none'}")
        await self.refresh_snapshot()

    @work(exclusive=True, group="risk", exit_on_error=False)
    async def action_reload_config(self) -> None:
        """Re-read the config file; new risk limits apply to every check, breaker and protection
        at once, added [strategies.X] tables start and removed ones stop (an invalid file is
        refused whole and the running limits stay)."""
        try:
            result = await self.client.call("config.reload")
        except UserError as exc:
            self._say(str(exc), error=True)
            return
        changed = result.get("changed") or {}
        applied = ", ".join(result.get("applied") or []) or "nothing new"
        detail = "; ".join(f"{k} {c.get('from')} -> {c.get('to')}" for k, c in changed.items())
        self._say(f"config reloaded: applied {applied}" + (f" ({detail})" if detail else ""))
        await self.refresh_snapshot()

    # -- venues ------------------------------------------------------------------------------

    @work(group="venue", exit_on_error=False)
    async def venue_command(self, action: str, name: str, symbol: str = "") -> None:
        """`venue reconnect NAME`: the engine reads the venue's keys again from the keyring and
        reconnects it (after `tui-trader keys set NAME`), reconciles and reads its balances;
        `venue stop|start NAME`: a paper venue down and back; `venue adopt NAME SYMBOL`: the
        broker's position taken as ours. The answer in one line."""
        from tui_trader.engine.venue_answers import adopted_line, reconnected_line

        if action == "reconnect":
            self._say(f"{name}: reconnecting with its keys read again from the keyring ...")
        try:
            if action == "adopt":
                self._say(adopted_line(await self.client.call("venue.adopt", name=name, symbol=symbol)))
            elif action == "reconnect":
                doc = await self.client.call("venue.reconnect", name=name, wait_s=RECONNECT_WAIT_S)
                self._say(reconnected_line(doc), error=doc.get("state") != "connected")
            else:
                doc = await self.client.call(f"venue.{action}", name=name)
                self._say(f"{doc['venue']}: {doc['state']}")
        except UserError as exc:
            self._say(str(exc), error=True)
            return
        await self.refresh_snapshot()

    # -- going live --------------------------------------------------------------------------

    @work(exclusive=True, group="arm", exit_on_error=False)
    async def action_arm_live(self) -> None:
        venues = live_venues(self.snapshot) if self.snapshot else []
        if not venues:
            self._say("no live venue is configured: paper trading needs no arming")
            return
        if self.is_live_armed():
            self._say(f"live trading is already armed ({', '.join(venues)})")
            return
        typed = await self.push_screen_wait(screens.ArmLiveScreen(venues))
        if typed is None:
            self._say("live trading NOT armed: live orders stay blocked")
            return
        try:
            result = await self.client.call("arm_live", armed=True)
        except UserError as exc:
            self._say(str(exc), error=True)
            return
        self.live_armed = bool(result.get("armed"))
        self.notify(
            f"LIVE trading armed on {', '.join(result.get('live_venues') or venues)}",
            title="LIVE",
            severity="warning",
            timeout=10,
        )
        self.query_one(StatusBar).say("LIVE trading armed", f"bold {self.palette.error}")
        await self.refresh_snapshot()

    @work(exclusive=True, group="arm", exit_on_error=False)
    async def action_disarm_live(self) -> None:
        try:
            await self.client.call("arm_live", armed=False)
        except UserError as exc:
            self._say(str(exc), error=True)
            return
        self.live_armed = False
        self._say("live trading disarmed: live orders are blocked")
        await self.refresh_snapshot()

    # -- palette -----------------------------------------------------------------------------

    def feature_palette_commands(self) -> list[PaletteCommand]:
        out: list[PaletteCommand] = [
            ("Paste chat signal…", "parse a provider's message into a pre-filled ticket", self.action_paste_signal),
            ("Reload strategies", "reload strategy files that changed", self.action_reload_strategies),
            ("Reset breakers…", "clear tripped circuit breakers (asks first)", self.action_reset_breakers),
            (
                "Reload config",
                "re-read config.toml: new risk limits now; added [strategies.X] tables start, removed ones stop",
                self.action_reload_config,
            ),
        ]
        snap = self.snapshot
        if snap is not None and live_venues(snap):
            if self.is_live_armed():
                out.append(("Disarm live trading", "block orders to live venues again", self.action_disarm_live))
            else:
                out.append(("Arm live trading…", "type the venue name to allow live orders", self.action_arm_live))
        for v in snap.venues if snap is not None else []:
            if v.kind != "paper":
                out.append(
                    (
                        f"Reconnect venue {v.name}",
                        "read its keys again from the keyring (after keys set) and reconnect it",
                        _reconnect(self, v.name),
                    )
                )
        for s in (snap.extra.get("strategies") or []) if snap is not None else []:
            name = str(s.get("name"))
            enable = not s.get("enabled")
            out.append(
                (
                    f"{'Enable' if enable else 'Disable'} strategy {name}",
                    str(s.get("error") or s.get("strategy") or ""),
                    _toggle(self, name, enable),
                )
            )
        for rec in (snap.extra.get("recommendations") or []) if snap is not None else []:
            if rec.get("direction") in ("long", "short"):
                out.append(
                    (
                        f"Ticket from recommendation {rec.get('symbol')}",
                        f"{rec.get('direction')} {float(rec.get('score') or 0):+.2f}",
                        _rec(self, rec),
                    )
                )
        return out


def _reconnect(app: Any, name: str) -> Any:
    return lambda: app.venue_command("reconnect", name)


def _toggle(app: Any, name: str, enable: bool) -> Any:
    return lambda: app.toggle_strategy(name, enable)


def _rec(app: Any, rec: dict[str, Any]) -> Any:
    return lambda: app.ticket_from_recommendation(rec)
