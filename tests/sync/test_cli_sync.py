"""`calbridge sync` from the command line: dry run, JSON report, unreachable server."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import cli, write_config
from conftest import base_config


def config_with(db_url: str, tmp_path: Path, calendar_url: str) -> Path:
    data = base_config(db_url)
    data["coaches"][0]["calendar"] = {"url": calendar_url}
    return write_config(tmp_path / "config.toml", data)


def test_sync_dry_run_then_real(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "maia"
    config = config_with(db_url, tmp_path, str(folder))
    for args in (
        [
            "client",
            "add",
            "--name",
            "Ana",
            "--email",
            "ana@example.org",
            "--program",
            "standard",
            "--id",
            "ana",
        ],
        ["session", "plan", "--coach", "maia", "--client", "ana", "--start", "2030-12-02T10:00"],
    ):
        assert cli(capsys, config, *args)[0] == 0
    code, data, _ = cli(capsys, config, "sync", "--dry-run", "--json")
    assert code == 0 and [a["action"] for a in data["calendars"][0]["actions"]] == ["create"]
    assert not folder.exists() or not list(folder.iterdir())
    code, text, _ = cli(capsys, config, "sync")
    assert code == 0 and "maia: did 1 create" in text
    assert len(list(folder.glob("*.ics"))) == 1
    code, text, _ = cli(capsys, config, "sync")
    assert code == 0 and "maia: did no changes" in text


def test_unreachable_calendar_exits_1_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    config = config_with(db_url, tmp_path, "http://127.0.0.1:9/dav/cal/")
    code, data, err = cli(capsys, config, "sync", "--json")
    assert code == 1
    assert "maia" in err and data["error"]["message"].startswith("sync failed")
