"""The workstation from anywhere: `tui-trader serve web` (a browser) and `serve ssh` (an SSH endpoint).

Each user session runs `tui-trader attach` in its own process, so the engine stays in the daemon:
the serve process only authenticates people, registers a session (user, role) with the daemon
and carries the terminal between the user and that process.
"""
