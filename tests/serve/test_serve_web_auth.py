"""The web login's defences with a plain HTTP client: CSRF, Origin, Host, cookies, exposure, rate limit."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from serve_helpers import PASSWORDS, Stack, clean_env, free_port, wait_until

pytestmark = pytest.mark.slow


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # keep cookies for 127.0.0.1


async def login_form(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(f"{url}/login") as r:
        assert r.status == 200
        return re.search(r'name="csrf" value="([^"]+)"', await r.text()).group(1)  # type: ignore[union-attr]


async def test_login_needs_the_forms_token_and_our_origin_and_the_socket_needs_both(stack: Stack) -> None:
    stack.daemon()
    url = stack.web()
    async with client() as s:
        async with s.get(f"{url}/", allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == "/login"
        csrf = await login_form(s, url)
        good = {"user": "vera", "secret": PASSWORDS["vera"]}
        async with s.post(f"{url}/login", data=good, allow_redirects=False) as r:
            assert r.status == 403  # no CSRF token
        async with s.post(
            f"{url}/login",
            data={**good, "csrf": csrf},
            headers={"Origin": "http://evil.example"},
            allow_redirects=False,
        ) as r:
            assert r.status == 403  # another site's form
        async with s.post(
            f"{url}/login", data={**good, "csrf": csrf}, headers={"Origin": url}, allow_redirects=False
        ) as r:
            assert r.status == 303, await r.text()
            cookie = r.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        async with s.get(f"{url}/") as r:
            page = await r.text()
            assert r.status == 200 and 'id="role">VIEWER<' in page
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await s.ws_connect(f"{url.replace('http', 'ws')}/ws", origin="http://evil.example")
        assert refused.value.status == 403
        async with s.get(f"{url}/", headers={"Host": "rebound.example"}) as r:
            assert r.status == 421  # DNS rebinding: not our name
    async with client() as anonymous:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await anonymous.ws_connect(f"{url.replace('http', 'ws')}/ws", origin=url)
        assert refused.value.status == 403


async def test_wrong_passwords_are_refused_then_rate_limited(stack: Stack) -> None:
    stack.daemon()
    url = stack.web()
    async with client() as s:
        statuses = []
        for _ in range(6):
            csrf = await login_form(s, url)
            data = {"user": "alice", "secret": "guess", "csrf": csrf}
            async with s.post(f"{url}/login", data=data, headers={"Origin": url}, allow_redirects=False) as r:
                statuses.append(r.status)
                assert "tt_session" not in r.cookies
        assert statuses == [401] * 5 + [429]
        csrf = await login_form(s, url)
        data = {"user": "alice", "secret": PASSWORDS["alice"], "csrf": csrf}
        async with s.post(f"{url}/login", data=data, headers={"Origin": url}, allow_redirects=False) as r:
            assert r.status == 429  # even the right password waits out the window


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "without TLS"),
        (["--tls-cert", "/nonexistent.pem"], "go together"),
    ],
)
def test_serve_web_refuses_to_expose_itself_in_the_clear(stack: Stack, args: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui_trader.cli.main", "--home", str(stack.home), "serve", "web", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_serve_web_without_a_daemon_says_so(stack: Stack) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui_trader.cli.main", "--home", str(stack.home), "serve", "web", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    assert done.returncode == 1 and "no daemon running" in done.stderr and "Traceback" not in done.stderr


def test_the_daemon_starts_serve_web_from_config_and_stops_it(stack: Stack) -> None:
    port = free_port()
    with open(stack.home / "config.toml", "a") as fh:
        fh.write(f"[serve.web]\nenabled = true\nport = {port}\n")
    daemon = stack.daemon()

    def login_page() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    wait_until(login_page, 30, "the web workstation started by the daemon")
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(30) == 0
    assert not login_page()  # stopped with the daemon


def test_serve_passwd_prints_a_hash_never_the_password(stack: Stack) -> None:
    import tomllib

    from argon2 import PasswordHasher

    def passwd(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tui_trader.cli.main", "--home", str(stack.home), "serve", "passwd", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            env=clean_env(),
        )

    done = passwd("carol", "--role", "trader", stdin="a long enough secret\n")
    assert done.returncode == 0, done.stderr
    table = tomllib.loads(done.stdout)["serve"]["users"]["carol"]
    assert table["role"] == "trader" and "a long enough secret" not in done.stdout
    assert PasswordHasher().verify(table["password_hash"], "a long enough secret")
    short = passwd("carol", stdin="short\n")
    assert short.returncode == 2 and "12 characters" in short.stderr and not short.stdout
    bad = passwd("no spaces allowed", stdin="a long enough secret\n")
    assert bad.returncode == 2 and "user name" in bad.stderr
    token = passwd("dan", "--token")
    assert token.returncode == 0 and "shown once" in token.stderr and "password_hash" in token.stdout


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made here (cryptography comes with asyncssh)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o644)
    return cert_path, key_path


async def test_tls_serves_https_with_secure_cookies_and_a_private_key(stack: Stack, tmp_path: Path) -> None:
    import ssl

    cert, key = self_signed(tmp_path)
    stack.daemon()
    readable = stack.start("web", "serve", "web", "--port", "0", "--tls-cert", str(cert), "--tls-key", str(key))
    assert readable.proc.wait(60) == 1 and "chmod 600" in readable.stderr  # a key others can read is refused
    key.chmod(0o600)
    w = stack.start("web", "serve", "web", "--port", "0", "--tls-cert", str(cert), "--tls-key", str(key))
    url = w.wait_for(r"serve web on (https://127\.0\.0\.1:\d+)/").group(1)
    trust = ssl.create_default_context(cafile=str(cert))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        async with s.get(f"{url}/login", ssl=trust) as r:
            assert r.status == 200 and "Secure" in r.headers["Set-Cookie"]
            assert "max-age" in r.headers["Strict-Transport-Security"]
            csrf = re.search(r'name="csrf" value="([^"]+)"', await r.text()).group(1)  # type: ignore[union-attr]
        data = {"user": "alice", "secret": PASSWORDS["alice"], "csrf": csrf}
        async with s.post(f"{url}/login", data=data, headers={"Origin": url}, ssl=trust, allow_redirects=False) as r:
            assert r.status == 303 and "Secure" in r.headers["Set-Cookie"]
