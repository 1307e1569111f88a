"""Configuration under systemd: $STATE_DIRECTORY and the unit's credentials (issue 13)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import cli, write_config
from conftest import base_config


def _config(tmp_path: Path, **extra: Any) -> Path:
    data = base_config("")
    data.pop("database")
    data.update(extra)
    return write_config(tmp_path / "config.toml", data)


def test_an_absolute_state_dir_wins_over_state_directory_but_check_config_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from calbridge.config import load_config

    systemd_state, elsewhere = tmp_path / "var-lib-calbridge", tmp_path / "srv" / "calbridge"
    systemd_state.mkdir()
    config = _config(tmp_path, state_dir=str(elsewhere))
    monkeypatch.setenv("STATE_DIRECTORY", str(systemd_state))
    assert load_config(config).state_dir == elsewhere
    code, data, err = cli(capsys, config, "check-config", "--json")
    assert code == 0, err
    assert f"state_dir = {str(elsewhere)!r} is outside $STATE_DIRECTORY" in err
    assert "ProtectSystem=strict" in err and "ReadWritePaths=" in err
    assert any("state_dir" in note for note in data["warnings"])
    # The relative mail folder lands in $STATE_DIRECTORY: nothing to warn about there.
    assert not any("mail.folder" in note for note in data["warnings"])


def test_folders_inside_state_directory_or_without_systemd_give_no_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    systemd_state = tmp_path / "var-lib-calbridge"
    config = _config(
        tmp_path,
        state_dir=str(systemd_state / "book"),
        mail={"transport": "folder", "folder": "outgoing"},
    )
    monkeypatch.setenv("STATE_DIRECTORY", str(systemd_state))
    code, _out, err = cli(capsys, config, "check-config")
    assert code == 0 and "STATE_DIRECTORY" not in err, err
    monkeypatch.delenv("STATE_DIRECTORY")
    code, _, err = cli(capsys, _config(tmp_path, state_dir="/srv/x"), "check-config")
    assert "STATE_DIRECTORY" not in err


def test_the_sms_folder_resolves_like_the_mail_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from calbridge.config import load_config

    state = tmp_path / "state"
    config = _config(tmp_path, state_dir="state")
    assert load_config(config).sms.folder == tmp_path / "sms"
    monkeypatch.setenv("STATE_DIRECTORY", str(state))
    assert load_config(config).sms.folder == state / "sms"


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "outside_state_directory" in line]


def test_run_warns_once_when_state_dir_lies_outside_state_directory(tmp_path: Path) -> None:
    systemd_state, elsewhere = tmp_path / "var-lib-calbridge", tmp_path / "srv" / "calbridge"
    systemd_state.mkdir()
    config = _config(tmp_path, state_dir=str(elsewhere), http={"listen": "127.0.0.1:0"})
    env = os.environ | {"STATE_DIRECTORY": str(systemd_state)}
    done = _run_once(config, env)
    assert done.returncode == 0, done.stderr
    found = _warnings(done.stderr)
    assert len(found) == 1, done.stderr
    assert str(elsewhere) in found[0] and str(systemd_state) in found[0]
    assert "WARNING" in found[0].upper()


def test_run_gives_no_warning_when_state_dir_is_inside_state_directory(tmp_path: Path) -> None:
    systemd_state = tmp_path / "var-lib-calbridge"
    systemd_state.mkdir()
    config = _config(
        tmp_path, state_dir=str(systemd_state / "book"), http={"listen": "127.0.0.1:0"}
    )
    done = _run_once(config, os.environ | {"STATE_DIRECTORY": str(systemd_state)})
    assert done.returncode == 0, done.stderr
    assert "daemon.started" in done.stderr and not _warnings(done.stderr), done.stderr


def _run_once(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in env.items() if not k.startswith("CALBRIDGE_")}
    env.pop("NOTIFY_SOCKET", None)
    return subprocess.run(
        [sys.executable, "-m", "calbridge", "--config", str(config), "run", "--once"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
