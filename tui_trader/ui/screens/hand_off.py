"""Screens that hand their result over in place: the command line and the order ticket.

Their result (an order) opens a confirmation. Dismissed first, the workstation behind would
resume, be restyled and redrawn, and only then see the dialog pushed over it: 100-300 ms on a
full grid, during which keys typed next reach the workstation's one-letter hotkeys. Handed
over instead, the screen stays up while the order is prepared and the confirmation takes its
place (App.switch_screen, see OrderEntry.confirm); keys typed meanwhile land in its own input.
Once handed over, the screen ignores a second submit; OrderEntry closes it when no
confirmation opened (the order was refused before asking).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Starts the work for a result; True when it took it (and a confirmation will follow).
RunInPlace = Callable[[Any], bool]


class HandsOff:
    """Mixed into a Screen that takes `run_in_place`."""

    run_in_place: RunInPlace | None = None
    handed_off = False

    def hand_off(self, result: Any) -> bool:
        """Give `result` to `run_in_place`; True when taken (the screen then stays up)."""
        if self.run_in_place is not None and self.run_in_place(result):
            self.handed_off = True
        return self.handed_off
