"""tui_trader: a keyboard-driven terminal trading workstation."""

__version__ = "0.1.0"
