"""Strategy errors that point at the trader's file and line, never a bare traceback."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from tui_trader.core.errors import UserError


class StrategyError(UserError):
    """A strategy failed to load or raised while running: `file:line: message`."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        super().__init__(f"{where}{message}")


class UnknownStrategy(UserError):
    """No strategy file, class or installed plugin has the name asked for."""


def locate(
    tb: TracebackType | None, prefer: str | Path | None = None
) -> tuple[str | None, int | None]:
    """The deepest frame in `prefer` (the strategy's file), else the deepest frame at all."""
    import traceback  # here: a run whose strategy raises nothing does not import it

    frames = traceback.extract_tb(tb) if tb is not None else []
    if not frames:
        return (str(prefer) if prefer else None), None
    if prefer is not None:
        wanted = str(Path(prefer).resolve())
        for frame in reversed(frames):
            try:
                if str(Path(frame.filename).resolve()) == wanted:
                    return frame.filename, frame.lineno
            except OSError:
                continue
    last = frames[-1]
    return last.filename, last.lineno


def from_exception(
    exc: BaseException, prefer: str | Path | None = None, what: str = ""
) -> StrategyError:
    """Wrap any exception as a StrategyError located in the strategy's own file where possible."""
    if isinstance(exc, StrategyError):
        return exc
    if isinstance(exc, SyntaxError) and exc.filename:
        return StrategyError(f"SyntaxError: {exc.msg}", file=exc.filename, line=exc.lineno)
    file, line = locate(exc.__traceback__, prefer)
    prefix = f"{what}: " if what else ""
    return StrategyError(f"{prefix}{type(exc).__name__}: {exc}", file=file, line=line)
