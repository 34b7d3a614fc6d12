"""Modal screens: order ticket, confirmations, key map, and the `:` command line."""

from tui_trader.ui.screens.command_line import CommandLineScreen
from tui_trader.ui.screens.confirm import ConfirmScreen, order_details
from tui_trader.ui.screens.help import HelpScreen
from tui_trader.ui.screens.ticket import TicketScreen

__all__ = ["CommandLineScreen", "ConfirmScreen", "HelpScreen", "TicketScreen", "order_details"]
