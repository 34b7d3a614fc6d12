"""Strategy bundles: pack, verify, install; every one-byte change refused; unsigned, re-signed,
oversized and path-traversing bundles refused with one line and nothing installed."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from tui_trader.cli.main import main
from tui_trader.strategy.authors import author_key, fingerprint
from tui_trader.strategy.bundle import (
    FORMAT,
    MAX_BUNDLE_BYTES,
    SIGNING_CONTEXT,
    BundleRefused,
    canonical,
    read_bundle,
)

RULES = Path(__file__).resolve().parents[2] / "plugins" / "rsi_trend.toml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def packed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """An author's home and a bundle of the bundled rules strategy rsi_trend (small and quick)."""
    home = tmp_path / "author"
    out = tmp_path / "rsi_trend.ttbundle"
    code, stdout, err = run(capsys, "strategies", "pack", "rsi_trend", "--home", str(home), "--out", str(out),
                            "--days", "5", "--author", "alice", "--json")  # fmt: skip
    assert code == 0, err
    doc = json.loads(stdout)
    assert doc["key_created"] is True and doc["fingerprint"].startswith("SHA256:")
    return home, out


def test_pack_writes_a_signed_canonical_bundle_with_summary(packed: tuple[Path, Path]) -> None:
    home, out = packed
    data = out.read_bytes()
    bundle = read_bundle(data)
    assert bundle.name == "rsi_trend" and bundle.file == "rsi_trend.toml" and bundle.author == "alice"
    assert bundle.source == RULES.read_text(encoding="utf-8")
    assert bundle.sha256 == hashlib.sha256(canonical(bundle.payload)).hexdigest()
    req = bundle.payload["requires"]
    assert req["timeframe"] == "5m" and req["symbols"] == ["BTC/USDT"]
    bt = bundle.payload["backtest"]
    assert bt["data"] == "paper" and bt["seed"] == 7 and bt["metrics"]["trades"] >= 0
    assert set(bt["metrics"]) >= {"total_return", "sharpe", "max_drawdown", "trades"}
    # the author key: 0600 in a 0700 folder; the bundle names its public key
    key_file = home / "keys" / "author_ed25519.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert bundle.fingerprint == author_key(home).fingerprint
    assert oct(stat.S_IMODE(out.stat().st_mode)) == oct(0o600)


def test_every_one_byte_change_is_refused(packed: tuple[Path, Path]) -> None:
    _, out = packed
    data = out.read_bytes()
    read_bundle(data)
    for i in range(len(data)):
        for flip in (0x01, 0x20):
            altered = bytearray(data)
            altered[i] ^= flip
            with pytest.raises(BundleRefused):
                read_bundle(bytes(altered))
    with pytest.raises(BundleRefused):
        read_bundle(data[:-1])  # a byte missing
    with pytest.raises(BundleRefused):
        read_bundle(data + b"\n")  # a byte more


def test_altered_bundle_install_is_one_line_and_changes_nothing(
    packed: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = packed
    data = bytearray(out.read_bytes())
    i = data.index(b"RSI dips bought")  # a byte of the strategy source
    data[i] = ord("r")
    bad = tmp_path / "bad.ttbundle"
    bad.write_bytes(bytes(data))
    home = tmp_path / "user"
    code, stdout, err = run(capsys, "strategies", "install", str(bad), "--yes", "--home", str(home))
    assert code == 1 and stdout == ""
    assert err.count("\n") == 1 and "altered" in err and "Traceback" not in err
    assert not (home / "strategies" / "rsi_trend.toml").exists()
    assert not (home / "keys" / "known_authors.json").exists()


def test_install_shows_author_and_summary_then_trusts_on_first_use(
    packed: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    author_home, out = packed
    home = tmp_path / "user"
    code, stdout, err = run(capsys, "strategies", "install", str(out), "--yes", "--home", str(home))
    assert code == 0, err
    fp = author_key(author_home).fingerprint
    assert "signature verified" in stdout and fp in stdout and "NEW" in stdout and "backtest (paper seed 7" in stdout
    installed = home / "strategies" / "rsi_trend.toml"
    assert installed.read_text(encoding="utf-8") == RULES.read_text(encoding="utf-8")
    assert "[strategies.rsi_trend]" in stdout
    known = json.loads((home / "keys" / "known_authors.json").read_text())
    assert known[fp]["name"] == "alice" and known[fp]["bundles"] == ["rsi_trend"]
    # the second time the key is known; the file is unchanged
    code, stdout, _ = run(capsys, "strategies", "install", str(out), "--yes", "--home", str(home), "--json")
    doc = json.loads(stdout)
    assert code == 0 and doc["known_author"] is True and doc["unchanged"] is True
    # the installed strategy loads and checks like any other
    code, stdout, err = run(capsys, "strategies", "check", str(installed), "--home", str(home), "--bars", "300")
    assert code == 0, err


def test_install_needs_confirmation_without_a_terminal(
    packed: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = packed
    home = tmp_path / "user"
    code, _, err = run(capsys, "strategies", "install", str(out), "--home", str(home))
    assert code == 2 and "--yes" in err
    assert not (home / "strategies" / "rsi_trend.toml").exists()


def test_install_does_not_overwrite_another_file_without_replace(
    packed: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = packed
    home = tmp_path / "user"
    target = home / "strategies" / "rsi_trend.toml"
    target.parent.mkdir(parents=True)
    target.write_text("# mine\n")
    code, _, err = run(capsys, "strategies", "install", str(out), "--yes", "--home", str(home))
    assert code == 1 and "--replace" in err and target.read_text() == "# mine\n"
    code, _, err = run(capsys, "strategies", "install", str(out), "--yes", "--replace", "--home", str(home))
    assert code == 0 and target.read_text(encoding="utf-8") == RULES.read_text(encoding="utf-8")


def _sign(payload: dict, home: Path, *, public_from: Path | None = None) -> bytes:
    """A bundle signed by `home`'s key (naming `public_from`'s public key when given)."""
    key = author_key(home)
    body = canonical(payload)
    named = author_key(public_from).public if public_from else key.public
    envelope = {
        "bundle": FORMAT,
        "payload": payload,
        "sha256": hashlib.sha256(body).hexdigest(),
        "signature": {
            "algorithm": "ed25519",
            "public_key": base64.b64encode(named).decode(),
            "value": base64.b64encode(key.key.sign(SIGNING_CONTEXT + body)).decode(),
        },
    }
    return canonical(envelope) + b"\n"


def test_unsigned_wrong_key_traversal_and_oversized_bundles_are_refused(
    packed: tuple[Path, Path], tmp_path: Path
) -> None:
    author_home, out = packed
    doc = json.loads(out.read_bytes())
    payload = doc["payload"]
    unsigned = {k: v for k, v in doc.items() if k != "signature"}
    with pytest.raises(BundleRefused, match="unsigned"):
        read_bundle(canonical(unsigned) + b"\n")
    with pytest.raises(BundleRefused, match="unsigned"):
        read_bundle(canonical({**doc, "signature": None}) + b"\n")
    # signed by mallory but naming alice's public key
    with pytest.raises(BundleRefused, match="signature"):
        read_bundle(_sign(payload, tmp_path / "mallory", public_from=author_home))
    # a validly signed bundle whose file name climbs out of the strategies folder
    for name in ("../evil.toml", "/etc/evil.toml", ".hidden.toml", "sub/evil.toml", "evil.py"):
        with pytest.raises(BundleRefused, match="file name"):
            read_bundle(_sign({**payload, "file": name}, tmp_path / "mallory"))
    with pytest.raises(BundleRefused, match="at most"):
        read_bundle(b" " * (MAX_BUNDLE_BYTES + 1))
    with pytest.raises(BundleRefused, match="not JSON"):
        read_bundle(b"\x89PNG\r\n")


def test_another_key_claiming_a_known_author_is_flagged(
    packed: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = packed
    home = tmp_path / "user"
    assert run(capsys, "strategies", "install", str(out), "--yes", "--home", str(home))[0] == 0
    payload = json.loads(out.read_bytes())["payload"]
    forged = tmp_path / "forged.ttbundle"
    forged.write_bytes(_sign({**payload, "source": payload["source"] + "\n# changed\n"}, tmp_path / "mallory"))
    code, stdout, _ = run(capsys, "strategies", "install", str(forged), "--yes", "--replace", "--home", str(home))
    assert code == 0
    assert "NEW" in stdout and "WARNING: 'alice' signed earlier bundles with another key" in stdout


def test_a_readable_author_key_is_refused(tmp_path: Path) -> None:
    key = author_key(tmp_path)
    assert key.created and not author_key(tmp_path).created
    assert author_key(tmp_path).fingerprint == fingerprint(key.public)
    os.chmod(key.path, 0o644)
    with pytest.raises(Exception, match="chmod 600"):
        author_key(tmp_path)


def test_pack_refuses_unknown_strategy_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "strategies", "pack", "no_such_strategy", "--home", str(tmp_path / "h"))
    assert code == 2 and out == "" and err.startswith("error: unknown strategy") and err.count("\n") == 1
