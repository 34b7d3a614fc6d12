"""Command line: `tui-trader ...`. One module per command group, each with `register()`."""
