"""Errors a user can cause and fix. The CLI prints their message as one line, no traceback."""


class UserError(Exception):
    """Bad input from the user: the message says what was wrong and what to do."""

    exit_code = 1


class UsageError(UserError):
    """The command line itself was wrong (exit status 2)."""

    exit_code = 2


class ConfigError(UserError):
    """The configuration file or environment holds an invalid setting."""


class DataError(UserError):
    """A data file is missing, unreadable or malformed."""


class NotRunningError(UserError):
    """No daemon is running for this home folder."""
