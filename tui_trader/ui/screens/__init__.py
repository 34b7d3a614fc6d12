"""Modal screens: order ticket, confirmations, key map, order details, pasting a chat signal,
arming live trading, symbol search and price alerts; and the `:` command line docked in the
workstation's own screen."""

from tui_trader.ui.screens.alerts import AlertsScreen
from tui_trader.ui.screens.arm_live import ArmLiveScreen
from tui_trader.ui.screens.command_line import CommandLine
from tui_trader.ui.screens.confirm import ConfirmScreen, order_details
from tui_trader.ui.screens.help import HelpScreen
from tui_trader.ui.screens.order_info import OrderInfoScreen, order_state
from tui_trader.ui.screens.paste_signal import PasteSignalScreen
from tui_trader.ui.screens.symbol_search import SymbolSearchScreen
from tui_trader.ui.screens.ticket import TicketScreen

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
