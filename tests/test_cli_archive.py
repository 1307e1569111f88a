"""client archive/unarchive, third-party list|edit|archive: refusals, listings, history."""

from __future__ import annotations

from pathlib import Path

import pytest

from calbridge.book import Book, archive, reports
from cli_helpers import cli, write_config
from conftest import base_config
from test_cli_admin import _run
from test_reports import seeded  # noqa: F401  (the fixture)


@pytest.fixture
def config(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    data = base_config(db_url)
    data["state_dir"] = str(tmp_path / "state")
    data["http"] = {"public_url": "https://sessions.practice.example/"}
    path = write_config(tmp_path / "config.toml", data)
    for args in (
        ["client", "add", "--name", "Ana Lopez", "--email", "ana@example.org", "--id", "ana"],
        ["client", "add", "--name", "Bo Li", "--email", "bo@example.org", "--id", "bo"],
        ["third-party", "add", "--name", "Dr Tee", "--email", "tee@example.org", "--id", "tee"],
    ):
        extra = ["--program", "standard"] if args[0] == "client" else []
        code, _, err = cli(capsys, path, *args, *extra)
        assert code == 0, err
    plan = ["session", "plan", "--coach", "maia", "--client", "ana", "--start", "2030-12-03T10:00"]
    code, _, err = cli(capsys, path, *plan)
    assert code == 0, err
    return path


def _ids(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> list[str]:
    code, data, err = cli(capsys, config, *args, "--json")
    assert code == 0, err
    return [row["id"] for row in data]


def test_archived_client_is_hidden_refused_and_keeps_history(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    code, data, err = cli(capsys, config, "client", "archive", "ana", "--json")
    assert code == 0, err
    assert data["archived"] and data["upcoming_sessions"] == [1]
    assert _ids(capsys, config, "client", "list") == ["bo"]
    code, data, _ = cli(capsys, config, "client", "list", "--all", "--json")
    assert [(r["id"], bool(r["archived"])) for r in data] == [("ana", True), ("bo", False)]
    code, out, _ = cli(capsys, config, "client", "list", "--all")
    assert "ARCHIVED" in out

    plan = ["session", "plan", "--coach", "maia", "--client", "ana", "--start", "2030-12-10T10:00"]
    code, data, err = cli(capsys, config, *plan, "--json")
    assert code == 1 and data["error"]["code"] == "archived"
    assert "client 'ana' is archived" in err and "unarchive ana" in err and "Traceback" not in err
    group = [*plan[:4], "--client", "bo", *plan[4:]]
    code, data, _ = cli(capsys, config, *group, "--json")
    assert code == 1 and data["error"]["party"] == "ana"
    code, data, err = cli(capsys, config, "session", "offer", "1", "--at", "2030-12-04T10:00")
    assert code == 1 and "archived" in err
    code, data, _ = cli(capsys, config, "session", "list", "--json")
    assert len(data) == 1  # nothing was planned
    code, data, _ = cli(capsys, config, "session", "show", "1", "--json")
    assert code == 0 and data["clients"] == ["ana"]  # history kept
    code, data, _ = cli(capsys, config, "client", "show", "ana", "--json")
    assert code == 0 and data["name"] == "Ana Lopez"

    code, _, err = cli(capsys, config, "client", "archive", "ana")
    assert code == 2 and "already archived" in err
    code, out, err = cli(capsys, config, "client", "unarchive", "ana")
    assert code == 0 and "can be planned again" in out
    code, _, err = cli(capsys, config, *plan)
    assert code == 0, err
    assert _ids(capsys, config, "client", "list") == ["ana", "bo"]


def test_third_party_list_edit_archive(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    edit = ["third-party", "edit", "tee", "--name", "Dr Tee Jones", "--email", "tj@example.org"]
    code, data, err = cli(capsys, config, *edit, "--json")
    assert code == 0, err
    assert (data["name"], data["email"]) == ("Dr Tee Jones", "tj@example.org")
    code, data, _ = cli(capsys, config, "third-party", "list", "--json")
    assert data == [
        {
            "id": "tee",
            "name": "Dr Tee Jones",
            "email": "tj@example.org",
            "timezone": None,  # their coach's
            "archived": None,
        }
    ]
    code, _, err = cli(capsys, config, "third-party", "edit", "tee", "--email", "nope")
    assert code == 2 and "'nope' is not an email address" in err
    code, _, err = cli(capsys, config, "third-party", "edit", "tee")
    assert code == 2 and "say what changes" in err

    code, _, err = cli(capsys, config, "third-party", "archive", "tee")
    assert code == 0, err
    assert _ids(capsys, config, "third-party", "list") == []
    assert _ids(capsys, config, "third-party", "list", "--all") == ["tee"]
    plan = ["session", "plan", "--coach", "maia", "--client", "bo", "--third-party", "tee"]
    code, data, err = cli(capsys, config, *plan, "--start", "2030-12-05T10:00", "--json")
    assert code == 1 and data["error"]["code"] == "archived" and "third party 'tee'" in err
    code, _, err = cli(capsys, config, "third-party", "unarchive", "tee")
    assert code == 0, err
    code, _, err = cli(capsys, config, *plan, "--start", "2030-12-05T10:00")
    assert code == 0, err


@pytest.mark.parametrize(
    "args",
    [
        ["client", "archive", "nobody"],
        ["client", "unarchive", "bo"],
        ["client", "archive", ""],
        ["third-party", "archive", "Ωmega"],
        ["third-party", "unarchive", "tee"],
        ["third-party", "edit", "nobody", "--name", "X"],
    ],
)
def test_bad_ids_are_clear_errors(
    capsys: pytest.CaptureFixture[str], config: Path, args: list[str]
) -> None:
    code, _, err = _run(capsys, config, *args)
    assert code == 2 and "Traceback" not in err and err.startswith("calbridge: ")
    assert _ids(capsys, config, "client", "list") == ["ana", "bo"]
    assert _ids(capsys, config, "third-party", "list") == ["tee"]


def test_an_archived_client_stays_in_reports(seeded: Book) -> None:  # noqa: F811
    before = reports.report(seeded, "balances", reports.month_period("2026-12"))
    for row in before["rows"]:
        archive.set_archived(seeded, "client", row["client"], True)
    after = reports.report(seeded, "balances", reports.month_period("2026-12"))
    assert after == before and before["rows"]
