"""`tui-trader serve ssh`: an SSH endpoint whose only program is the workstation, attached to the daemon.

- Users are the keys in HOME/ssh/authorized_keys (OpenSSH format, re-read at every login, refused
  when another user could write it). Public keys only: no passwords, no keyboard-interactive.
- A key's options say who it is: `user="alice"` names the user (else the SSH login name is shown)
  and `role="viewer"` or `role="trader"` gives the role; without `role=`, the role of the user the
  key names in `[serve.users]`; otherwise viewer. A login name alone never grants a role.
- The host key is HOME/ssh/host_ed25519_key, made on first start (0600) and kept.
- Every session is `tui-trader attach` on its own pty; no shell, no forwarding, no SFTP or SCP.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncssh

from tui_trader.core.errors import ConfigError, UsageError
from tui_trader.serve.files import check_private, write_private
from tui_trader.serve.link import DaemonLink
from tui_trader.serve.pty_session import run_on_pty

if TYPE_CHECKING:
    from tui_trader.config.serve import ServeUser, SshServeSettings
    from tui_trader.home import Home

log = logging.getLogger(__name__)
ROLES = ("viewer", "trader")


def ssh_dir(home: Home) -> Path:
    return home.root / "ssh"


def authorized_keys_path(home: Home) -> Path:
    return ssh_dir(home) / "authorized_keys"


def host_key(home: Home) -> asyncssh.SSHKey:
    """The endpoint's host key: made on first start (ed25519, 0600), then always the same."""
    path = ssh_dir(home) / "host_ed25519_key"
    if not path.exists():
        key = asyncssh.generate_private_key("ssh-ed25519", comment="tui-trader serve ssh")
        write_private(path, key.export_private_key())
        log.info("made the SSH host key %s (%s)", path, key.get_fingerprint())
    check_private(path, "the SSH host key")
    return asyncssh.read_private_key(path)


def load_authorized_keys(path: Path) -> asyncssh.SSHAuthorizedKeys:
    check_private(path, "authorized_keys", writable_only=True)
    try:
        return asyncssh.read_authorized_keys(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None


@dataclass(frozen=True)
class KeyUser:
    name: str
    role: str


def _option(conn: asyncssh.SSHServerConnection, name: str) -> str | None:
    value = conn.get_key_option(name)
    if isinstance(value, list):  # options asyncssh does not know itself come as a list of values
        return str(value[-1]) if value else None
    return None if value is None else str(value)


def key_user(conn: asyncssh.SSHServerConnection, users: dict[str, ServeUser]) -> KeyUser:
    """Who the key that logged in names, and its role (UsageError when the key says nonsense)."""
    named = _option(conn, "user")
    name = named or str(conn.get_extra_info("username") or "ssh")
    role = _option(conn, "role")
    if role is None:
        configured = users.get(named) if named else None
        role = configured.role if configured is not None else "viewer"
    if role not in ROLES:
        raise UsageError(f"this key's role={role!r} is not one of {', '.join(ROLES)}; fix authorized_keys")
    return KeyUser(name, role)


class _Server(asyncssh.SSHServer):
    def __init__(self, keys_path: Path) -> None:
        self.keys_path = keys_path
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn

    def begin_auth(self, username: str) -> bool:
        assert self.conn is not None
        try:
            self.conn.set_authorized_keys(load_authorized_keys(self.keys_path))
        except ConfigError as exc:
            log.error("ssh login refused for everyone: %s", exc)
            self.conn.set_authorized_keys(asyncssh.SSHAuthorizedKeys())
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True


class SshWorkstation:
    def __init__(self, home: Home, link: DaemonLink, settings: SshServeSettings, users: dict[str, ServeUser]) -> None:
        self.home = home
        self.link = link
        self.settings = settings
        self.users = users
        self.running = 0

    async def session(self, process: asyncssh.SSHServerProcess[Any]) -> None:
        conn = process.get_extra_info("connection")
        peer = conn.get_extra_info("peername")
        where = f"{peer[0]}:{peer[1]}" if peer else "?"
        try:
            who = key_user(conn, self.users)
        except UsageError as exc:
            process.stderr.write(f"{exc}\r\n".encode())
            process.exit(2)
            return
        if process.get_terminal_type() is None:
            process.stderr.write(b"the workstation needs a terminal: connect with ssh -t\r\n")
            process.exit(2)
            return
        if self.running >= self.settings.max_sessions:
            process.stderr.write(f"{self.settings.max_sessions} workstations already running\r\n".encode())
            process.exit(1)
            return
        width, height = process.get_terminal_size()[:2]
        session = await self.link.open(who.name, who.role, "ssh", where)
        env = self.link.session_env(session)
        env["TERM"] = process.get_terminal_type() or "xterm-256color"
        self.running += 1
        status = 1
        try:
            status = await run_on_pty(self.link.attach_argv(), env, process, width or 80, height or 24)
        finally:
            self.running -= 1
            await self.link.close(session, "the ssh client left")
            process.exit(status if 0 <= status < 256 else 1)


async def serve_ssh(
    home: Home, link: DaemonLink, settings: SshServeSettings, users: dict[str, ServeUser], stop: asyncio.Event
) -> None:
    keys_path = authorized_keys_path(home)
    if not keys_path.exists():
        raise UsageError(f'no {keys_path}: put your public key there (with role="trader" or role="viewer")')
    load_authorized_keys(keys_path)  # refuse at start, in one line, what every login would refuse
    key = host_key(home)
    await link.start()
    endpoint = SshWorkstation(home, link, settings, users)
    try:
        try:
            server = await asyncssh.create_server(
                lambda: _Server(keys_path),
                settings.host,
                settings.port,
                server_host_keys=[key],
                process_factory=endpoint.session,
                encoding=None,
                line_editor=False,
                agent_forwarding=False,
                x11_forwarding=False,
                allow_scp=False,
                login_timeout=30,
            )
        except OSError as exc:
            raise UsageError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from None
        port = server.sockets[0].getsockname()[1]
        print(
            f"tui-trader serve ssh on {settings.host}:{port} (host key {key.get_fingerprint()}; Ctrl+C stops)",
            file=sys.stderr,
            flush=True,
        )
        try:
            await stop.wait()
        finally:
            server.close()
            await server.wait_closed()
    finally:
        await link.stop()
