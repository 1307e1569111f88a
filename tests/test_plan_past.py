"""Planning into the past (issue 13): refused, unless --record records a session that
happened (scheduled, nobody invited)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cli_helpers import cli, write_config
from conftest import base_config


@pytest.fixture
def config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    data: dict[str, Any] = base_config("")
    data.pop("database")
    data["state_dir"] = str(tmp_path / "state")
    data["mail"] = {"transport": "folder", "folder": str(tmp_path / "mail")}
    path = write_config(tmp_path / "config.toml", data)
    code, _, err = cli(
        capsys, path, "client", "add", "--name", "Ana Lopez", "--email", "ana@example.org",
        "--program", "standard", "--id", "ana",
    )  # fmt: skip
    assert code == 0, err
    return path


def _sessions(capsys: pytest.CaptureFixture[str], config: Path) -> list[dict[str, Any]]:
    code, data, err = cli(capsys, config, "session", "list", "--from", "2019-01-01", "--json")
    assert code == 0, err
    return list(data["sessions"] if isinstance(data, dict) else data)


PAST = ["session", "plan", "--coach", "maia", "--client", "ana", "--start", "2020-01-06T10:00"]


def test_planning_into_the_past_is_refused_and_names_the_flag_and_zone(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, config, *PAST)
    assert code == 1, (out, err)
    assert "Mon 2020-01-06 10:00 (Europe/London) is in the past" in err
    assert "--record" in err and "Traceback" not in err
    assert _sessions(capsys, config) == []


def test_record_keeps_a_past_session_as_scheduled_and_sends_nothing(
    config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = cli(capsys, config, *PAST, "--record")
    assert code == 0, err
    [session] = _sessions(capsys, config)
    assert session["status"] == "scheduled"

    def mails() -> int:
        code, _, err = cli(capsys, config, "mail", "send")
        assert code == 0, err
        return len(list((tmp_path / "mail").glob("*.eml")))

    assert mails() == 0
    # The same client planned ahead is invited: the folder does receive invitations.
    code, _, err = cli(capsys, config, *PAST[:-1], "2099-01-05T10:00")
    assert code == 0, err
    assert mails() == 1


def test_record_refuses_a_session_that_has_not_happened(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["session", "plan", "--coach", "maia", "--client", "ana", "--start", "2099-01-05T10:00"]
    code, _, err = cli(capsys, config, *args, "--record")
    assert code == 1 and "--record is for sessions that happened" in err, err
    assert _sessions(capsys, config) == []


def test_session_plan_help_explains_record(capsys: pytest.CaptureFixture[str]) -> None:
    from calbridge.cli.main import run

    with pytest.raises(SystemExit):
        run(["session", "plan", "--help"])
    assert "record a session that happened" in " ".join(capsys.readouterr().out.split())


def test_refusals_listing_another_coachs_sessions_name_the_zone(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for start in ("2099-01-05T10:00", "2099-01-07T10:00"):  # Sam, New York time
        code, _, err = cli(
            capsys, config, "session", "plan", "--coach", "sam", "--client", "ana",
            "--start", start, "--override-availability",
        )  # fmt: skip
        assert code == 0, err
    code, _, err = cli(*plan_maia(capsys, config, "2099-01-12T10:00"))
    assert code == 1 and "month 2099-01 is full" in err, err
    # Sam's 10:00 in New York is 15:00 in London: the zone the times are shown in is named.
    assert "times in Europe/London: #1 on Mon 2099-01-05 15:00" in err
    code, _, err = cli(*plan_maia(capsys, config, "2099-02-01T10:00"))  # a Sunday
    assert code == 1 and "is not available (times in Europe/London)" in err, err


def plan_maia(capsys: pytest.CaptureFixture[str], config: Path, start: str) -> tuple[Any, ...]:
    return (
        capsys,
        config,
        "session",
        "plan",
        "--coach",
        "maia",
        "--client",
        "ana",
        "--start",
        start,
    )
