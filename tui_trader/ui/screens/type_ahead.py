"""Typing that reaches a screen before its input has the keyboard.

Keys typed in one burst (`:buy 0.5 BTC/USDT` from a fast typist, tmux, a macro) are read
before the new screen has focused its input. Routed as they come, the first ones would go to
the screen (and bubble to the workstation's one-letter keys: b opens a ticket, B buys at the
ask) and the rest to the input, out of order. So a screen that takes typing holds every key
from the moment it is pushed (WorkstationApp.on_event appends them to `held_keys`) until its
input has the keyboard, then hands them to the input in the order they were typed."""

from __future__ import annotations

from textual import events
from textual.widget import Widget
from textual.widgets import Input


class HoldsKeys:
    """Mixed into a Screen: call `release_keys_to(field)` from on_mount."""

    held_keys: list[events.Key] | None  # None: not holding (keys route as usual)

    def hold_keys(self) -> None:
        self.held_keys = []

    def release_keys_to(self, field: Widget) -> None:
        """Focus `field`; once the focus is set (the app runs callbacks in order), give it the
        held keys, oldest first, and stop holding."""
        field.focus()

        def release() -> None:
            held, self.held_keys = self.held_keys or [], None
            for key in held:
                key._set_forwarded()  # routed, as the app routes a key to the focused widget
                field.post_message(key)

        field.app.call_later(release)


class SubmitInput(Input):
    """An Input whose Enter submits in the input's own turn.

    A plain Input submits through a binding, which runs only once the Enter key has bubbled up
    to the app; keys typed right after Enter are inserted meanwhile (`... mkt` Enter `y`
    would submit `... mkty`). Here Enter submits the text exactly as it was when Enter came."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            await self.action_submit()
            return
        await super()._on_key(event)
