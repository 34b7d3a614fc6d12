"""The home folder: config, database, data, logs and sockets all live under one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tui_trader.core.errors import UserError

ENV_HOME = "TUI_TRADER_HOME"


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike[str] | None = None) -> Home:
        """`--home` wins, then TUI_TRADER_HOME, then the platform's user data dir."""
        if explicit:
            root = Path(explicit)
        elif os.environ.get(ENV_HOME):
            root = Path(os.environ[ENV_HOME])
        else:
            from platformdirs import user_data_dir

            root = Path(user_data_dir("tui-trader", appauthor=False))
        return cls(root.expanduser().resolve())

    def ensure(self) -> Home:
        """Create the folder tree (private to the user)."""
        try:
            for path in (self.root, self.data_dir, self.logs_dir, self.run_dir, self.strategies_dir):
                path.mkdir(parents=True, exist_ok=True)
            os.chmod(self.root, 0o700)
            os.chmod(self.run_dir, 0o700)
        except OSError as exc:
            raise UserError(
                f"cannot create home folder {self.root}: {exc.strerror}; pass --home DIR or set {ENV_HOME}"
            ) from None
        return self

    @property
    def config_file(self) -> Path:
        return self.root / "config.toml"

    @property
    def db_file(self) -> Path:
        return self.root / "tui_trader.db"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def run_dir(self) -> Path:
        """Sockets, pid and lock files."""
        return self.root / "run"

    @property
    def strategies_dir(self) -> Path:
        return self.root / "strategies"

    @property
    def themes_dir(self) -> Path:
        return self.root / "themes"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def socket_path(self) -> Path:
        return self.run_dir / "daemon.sock"

    @property
    def lock_path(self) -> Path:
        return self.run_dir / "daemon.lock"
