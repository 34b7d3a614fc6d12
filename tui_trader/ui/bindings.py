"""The workstation's keys: every Binding has an id (remapped through settings.ui.keymap) and a
tooltip; the number keys follow the pane order."""

from __future__ import annotations

from textual.binding import Binding

from tui_trader.ui.panes import PANES


def pane_bindings() -> list[Binding]:
    return [
        Binding(str(i % 10), f"show_pane('{cls.KEY}')", cls.TITLE, id=f"pane_{cls.KEY}", show=False)
        for i, cls in enumerate(PANES[:10], start=1)
    ] + [
        Binding(key, f"show_pane('{pane}')", title, id=f"pane_{pane}", show=False)
        for key, pane, title in (
            ("v", "venues", "Venues"),
            ("V", "spreads", "Spreads"),
            ("f8", "copy", "Copy trading"),
            ("f9", "league", "League"),
        )  # layout.PANE_LETTERS
    ]


APP_BINDINGS: list[Binding | tuple[str, str] | tuple[str, str, str]] = [
    Binding("q", "request_quit", "Quit", id="quit", tooltip="quit (asks when orders are working)"),
    Binding("question_mark", "help", "Keys", id="help", tooltip="show every key"),
    # Keys that open a screen to type into are priority bindings (run the moment they are read,
    # so the keys typed right after them reach the new screen) that only work on the main screen
    # outside an input (WorkstationApp.check_action).
    Binding(
        "colon",
        "command_line",
        "Command",
        id="command_line",
        priority=True,
        tooltip="quick orders and commands",
    ),
    Binding("b", "ticket('buy')", "Buy", id="buy", priority=True, tooltip="open a buy ticket"),
    Binding("s", "ticket('sell')", "Sell", id="sell", priority=True, tooltip="open a sell ticket"),
    Binding(
        "B",
        "quick_order('buy')",
        "Buy at ask",
        id="quick_buy",
        show=False,
        tooltip="one key: the default size at the ask (IOC), confirmed",
    ),
    Binding(
        "S",
        "quick_order('sell')",
        "Sell at bid",
        id="quick_sell",
        show=False,
        tooltip="one key: the default size at the bid (IOC), confirmed",
    ),
    Binding(
        "ctrl+k",
        "kill_switch",
        "Flatten",
        id="flatten",
        priority=True,
        tooltip="kill switch: cancel everything, close every position, halt entries until reset",
    ),
    Binding("x", "cancel_all", "Cancel all", id="cancel_all", show=False),
    Binding("t", "next_timeframe", "Timeframe", id="timeframe", tooltip="next chart timeframe"),
    Binding("right_square_bracket", "step_symbol(1)", "Next symbol", id="next_symbol", show=False),
    Binding("left_square_bracket", "step_symbol(-1)", "Prev symbol", id="prev_symbol", show=False),
    Binding("L", "next_layout", "Layout", id="layout", show=False),
    Binding("z", "maximize_pane", "Zoom pane", id="maximize", show=False, tooltip="show the focused pane alone"),
    Binding(
        "slash",
        "find_symbol",
        "Find symbol",
        id="find_symbol",
        show=False,
        priority=True,
        tooltip="search the venue's markets",
    ),
    Binding("a", "alerts", "Alerts", id="alerts", show=False, tooltip="price alerts: list, add, delete"),
    Binding("i", "next_indicators", "Indicators", id="indicators", show=False, tooltip="next set of chart overlays"),
    Binding("f5", "push_screen('backtest')", "Backtest", id="backtest", show=False),
    Binding("f6", "push_screen('optimize')", "Optimize", id="optimize", show=False),
    Binding("f7", "push_screen('rule_builder')", "Rules", id="rule_builder", show=False),
    Binding(
        "p",
        "paste_signal",
        "Paste signal",
        id="paste_signal",
        show=False,
        tooltip="paste a chat trade signal: parsed into a pre-filled ticket",
    ),
    Binding(
        "A",
        "arm_live",
        "Arm live",
        id="arm_live",
        show=False,
        tooltip="arm live trading (type the venue name)",
    ),
    *pane_bindings(),
]


def binding_ids(app_bindings: list[Binding | tuple[str, str] | tuple[str, str, str]]) -> set[str]:
    """Every id a keymap may name: the app's and each pane's."""
    ids = {b.id for b in app_bindings if isinstance(b, Binding) and b.id}
    for cls in PANES:
        ids |= {b.id for b in cls.BINDINGS if isinstance(b, Binding) and b.id}
    return ids

# Actions of the priority bindings above: refused (the key goes on to the widget) outside the
# main screen or while an input has the keyboard.
TYPING_ACTIONS = frozenset({"command_line", "ticket", "find_symbol"})
