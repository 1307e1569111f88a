"""The daemon run the way systemd runs it (issue 13): the example config installed as the
README says, read-only under $CONFIGURATION_DIRECTORY, no --config; $STATE_DIRECTORY for
everything written; secrets named "%d/secrets_NAME" read from $CREDENTIALS_DIRECTORY."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def _install(tmp_path: Path) -> tuple[Path, Path, Path]:
    etc, state, creds = (
        tmp_path / "etc-calbridge",
        tmp_path / "var-lib-calbridge",
        tmp_path / "run-creds",
    )
    etc.mkdir()
    state.mkdir(mode=0o700)
    creds.mkdir()
    text = EXAMPLE.read_text()
    # `sudo install -Dm644 config.example.toml /etc/calbridge/config.toml  # then edit it`
    text = text.replace(
        '# secret_file = "%d/secrets_http-secret"', 'secret_file = "%d/secrets_http-secret"'
    )
    text = text.replace('listen = "127.0.0.1:8470"', 'listen = "127.0.0.1:0"')
    assert 'secret_file = "%d/secrets_http-secret"\n' in text
    config = etc / "config.toml"
    config.write_text(text)
    config.chmod(0o444)
    etc.chmod(0o555)
    return etc, state, creds


def _env(etc: Path, state: Path, creds: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALBRIDGE_")}
    env.pop("NOTIFY_SOCKET", None)
    env |= {
        "CONFIGURATION_DIRECTORY": str(etc),
        "STATE_DIRECTORY": str(state),
        "CREDENTIALS_DIRECTORY": str(creds),
    }
    return env


def _calbridge(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "calbridge", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_run_once_under_systemd_writes_only_the_state_directory_and_reads_credentials(
    tmp_path: Path,
) -> None:
    etc, state, creds = _install(tmp_path)
    key = secrets.token_hex(32)
    (creds / "secrets_http-secret").write_text(key + "\n")
    (creds / "secrets_http-secret").chmod(0o400)
    env = _env(etc, state, creds)
    try:
        for args in (
            ["check-config"],
            ["client", "add", "--name", "Ana Lopez", "--email", "ana@example.org",
             "--program", "standard", "--id", "ana"],
            ["session", "plan", "--coach", "maia", "--client", "ana"],
            ["run", "--once"],
        ):  # fmt: skip
            done = _calbridge(env, state, *args)
            assert done.returncode == 0, (args, done.stderr)
            assert "Traceback" not in done.stderr
        feed = _calbridge(env, state, "feed", "url", "--coach", "maia")
        assert feed.returncode == 0, feed.stderr
    finally:
        etc.chmod(0o755)
    assert sorted(p.name for p in etc.iterdir()) == ["config.toml"]  # nothing written in /etc
    assert stat.S_IMODE((etc / "config.toml").stat().st_mode) == 0o444
    assert (state / "state" / "calbridge.db").is_file()
    assert list((state / "calendars" / "maia").glob("*.ics")), "the session's event"
    assert list((state / "mail").glob("*.eml")), "the client's invitation"
    # The signing key is the credential: none generated, and links are signed with it.
    assert not list(state.rglob("http-secret"))
    from calbridge.config.schema import Settings
    from calbridge.web.feeds import feed_url

    settings = Settings(http={"public_url": "http://127.0.0.1:8470"})
    assert feed.stdout.strip() == feed_url(settings, key.encode(), "coach", "maia")


def test_a_missing_credential_is_named_with_its_key_and_path(tmp_path: Path) -> None:
    etc, state, creds = _install(tmp_path)
    try:
        done = _calbridge(_env(etc, state, creds), state, "check-config")
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "http.secret_file" in done.stderr
        assert str(creds / "secrets_http-secret") in done.stderr
        env = _env(etc, state, creds)
        del env["CREDENTIALS_DIRECTORY"]
        done = _calbridge(env, state, "run", "--once")
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "$CREDENTIALS_DIRECTORY is not set" in done.stderr
    finally:
        etc.chmod(0o755)


@pytest.mark.parametrize("value", ["%d/secrets_smtp", "%d"])
def test_percent_d_outside_systemd_is_a_clear_error(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from calbridge.config.base import credential_path

    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(ValueError, match="CREDENTIALS_DIRECTORY is not set"):
        credential_path(Path(value))
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", "/run/credentials/calbridge.service")
    assert credential_path(Path("%d/secrets_smtp")) == Path(
        "/run/credentials/calbridge.service/secrets_smtp"
    )
    assert credential_path(Path("/etc/x")) == Path("/etc/x")
