"""The command line and the order ticket hand their result (an order) over in place.

Their result opens a confirmation. Closed first, the workstation's keys would have the
keyboard again while the order is prepared (keys typed next reach its one-letter hotkeys) and
the workstation would be restyled and redrawn before the dialog. Handed over instead, the
line or ticket keeps the keyboard while the order is prepared, and keys typed meanwhile land
in its own input; once handed over it ignores a second submit. The ticket (a screen) is
replaced by the confirmation (App.switch_screen, see OrderEntry.confirm); the docked command
line closes once the confirmation is on screen. OrderEntry closes either when no confirmation
opened (the order was refused before asking).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Starts the work for a result; True when it took it (and a confirmation will follow).
RunInPlace = Callable[[Any], bool]


class HandsOff:
    """Mixed into a screen or widget that takes `run_in_place`."""

    run_in_place: RunInPlace | None = None
    handed_off = False

    def hand_off(self, result: Any) -> bool:
        """Give `result` to `run_in_place`; True when taken (the screen or line then stays up)."""
        if self.run_in_place is not None and self.run_in_place(result):
            self.handed_off = True
        return self.handed_off
