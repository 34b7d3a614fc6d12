"""Chat trade messages: `parse_message` reads any kind (entry, exit, update, cancel, info,
unsupported); `parse_signal` requires an entry. See docs/signals.md for what is read."""

from tui_trader.signals.chat.kinds import Kind
from tui_trader.signals.chat.message import EXAMPLE, ParsedSignal, ParseError
from tui_trader.signals.chat.parse import parse_message, parse_signal

__all__ = ["EXAMPLE", "Kind", "ParseError", "ParsedSignal", "parse_message", "parse_signal"]
