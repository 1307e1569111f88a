"""Folder calendars (vdir) are created only when meant (issue 13): never by a dry run,
and a mistyped path is refused with its key instead of being made with its parents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cli_helpers import cli, write_config
from conftest import base_config


def _config(tmp_path: Path, url: str) -> Path:
    data: dict[str, Any] = base_config("")
    data.pop("database")
    data["state_dir"] = str(tmp_path / "state")
    data["coaches"][0]["calendar"] = {"url": url}
    return write_config(tmp_path / "config.toml", data)


def test_sync_dry_run_creates_no_calendar_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "calendars" / "maia"
    (tmp_path / "calendars").mkdir()
    config = _config(tmp_path, str(folder))
    code, _, err = cli(capsys, config, "sync", "--dry-run", "--coach", "maia")
    assert code == 0, err
    assert not folder.exists()
    code, _, err = cli(capsys, config, "sync", "--coach", "maia")
    assert code == 0, err
    assert folder.is_dir()


def test_a_mistyped_folder_is_refused_naming_its_key_and_nothing_is_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "calendras" / "maia"  # the parent does not exist
    config = _config(tmp_path, str(folder))
    code, _, err = cli(capsys, config, "check-config")
    assert code == 2 and "coaches[0].calendar.url" in err and "mistyped" in err, err
    for args in (["sync", "--coach", "maia"], ["sync", "--dry-run", "--coach", "maia"]):
        code, out, err = cli(capsys, config, *args)
        assert code != 0, (out, err)
        assert "coaches[0].calendar.url" in out + err
        assert "Traceback" not in err
        assert not (tmp_path / "calendras").exists()


def test_a_relative_folder_gets_its_parents_inside_the_config_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, "calendars/maia")
    code, _, err = cli(capsys, config, "check-config")
    assert code == 0, err
    code, _, err = cli(capsys, config, "sync", "--coach", "maia")
    assert code == 0, err
    assert (tmp_path / "calendars" / "maia").is_dir()


def test_the_last_level_is_created_when_its_parent_exists(tmp_path: Path) -> None:
    from calbridge.calendars.base import StorageError
    from calbridge.calendars.vdir import VdirStore

    VdirStore(tmp_path / "maia")
    assert (tmp_path / "maia").is_dir()
    with pytest.raises(StorageError, match="neither does its parent"):
        VdirStore(tmp_path / "a" / "b", key="coaches[3].calendar.url")
    assert not (tmp_path / "a").exists()
    VdirStore(tmp_path / "a" / "b", parents_within=tmp_path)
    assert (tmp_path / "a" / "b").is_dir()
    store = VdirStore(tmp_path / "gone", read_only=True)
    assert not (tmp_path / "gone").exists() and store.changes(None).changed == {}
