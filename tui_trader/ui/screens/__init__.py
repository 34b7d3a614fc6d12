"""Modal screens: order ticket, confirmations, key map, order details, pasting a chat signal,
arming live trading, symbol search and price alerts; and the `:` command line docked in the
workstation's own screen.

The names below load on first use: the workstation's first screen needs only the command
line (and the blotter the order details), so the dialogs' modules (~8 ms, the ticket's most)
are imported when one is first opened, after the first paint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.lazy import lazy_exports

if TYPE_CHECKING:
    from tui_trader.ui.screens.alerts import AlertsScreen
    from tui_trader.ui.screens.arm_live import ArmLiveScreen
    from tui_trader.ui.screens.command_line import CommandLine
    from tui_trader.ui.screens.confirm import ConfirmScreen, order_details
    from tui_trader.ui.screens.help import HelpScreen
    from tui_trader.ui.screens.order_info import OrderInfoScreen, order_state
    from tui_trader.ui.screens.paste_signal import PasteSignalScreen
    from tui_trader.ui.screens.symbol_search import SymbolSearchScreen
    from tui_trader.ui.screens.ticket import TicketScreen

_WHERE = {
    "AlertsScreen": "alerts",
    "ArmLiveScreen": "arm_live",
    "CommandLine": "command_line",
    "ConfirmScreen": "confirm",
    "HelpScreen": "help",
    "OrderInfoScreen": "order_info",
    "PasteSignalScreen": "paste_signal",
    "SymbolSearchScreen": "symbol_search",
    "TicketScreen": "ticket",
    "order_details": "confirm",
    "order_state": "order_info",
}

__all__ = [
    "AlertsScreen",
    "ArmLiveScreen",
    "CommandLine",
    "ConfirmScreen",
    "HelpScreen",
    "OrderInfoScreen",
    "PasteSignalScreen",
    "SymbolSearchScreen",
    "TicketScreen",
    "order_details",
    "order_state",
]

__getattr__ = lazy_exports(__name__, {name: f"{__name__}.{module}" for name, module in _WHERE.items()})
