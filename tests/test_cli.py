"""The command line: spellings, JSON shapes, exit codes, and bad input writing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cli_helpers import cli, write_config
from conftest import base_config


@pytest.fixture
def config(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = write_config(tmp_path / "config.toml", base_config(db_url))
    run_ok = [
        [
            "client",
            "add",
            "--name",
            "Ana Lopez",
            "--email",
            "ana@example.org",
            "--program",
            "standard",
            "--id",
            "ana",
        ],
        ["client", "add", "--name", "Cy Park", "--email", "cy@example.org", "--program", "single"],
    ]
    from calbridge.cli.main import run

    for args in run_ok:
        assert run(["--config", str(path), *args]) == 0
    capsys.readouterr()
    return path


def sessions(capsys: pytest.CaptureFixture[str], config: Path) -> list[Any]:
    code, data, _ = cli(capsys, config, "session", "list", "--json")
    assert code == 0
    return list(data)


def test_plan_json_shape(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, data, _ = cli(
        capsys,
        config,
        "session",
        "plan",
        "--coach",
        "maia",
        "--client",
        "ana",
        "--start",
        "2030-12-02T10:00",
        "--duration",
        "50",
        "--json",
    )
    assert code == 0
    for key in (
        "id",
        "uid",
        "coach",
        "clients",
        "start",
        "end",
        "status",
        "kind",
        "series",
        "month_index",
        "month_limit",
    ):
        assert key in data
    assert data["start"] == "2030-12-02T10:00:00+00:00"
    assert data["end"] == "2030-12-02T10:50:00+00:00"
    assert (data["month_index"], data["month_limit"], data["series"]) == (1, 2, None)
    assert data["clients"] == ["ana"] and data["status"] == "requested"


def test_limit_refusal_exits_1_with_error_object(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    ok, _, _ = cli(
        capsys,
        config,
        "session",
        "plan",
        "--coach",
        "maia",
        "--client",
        "cy-park",
        "--start",
        "2030-12-02T10:00",
        "--json",
    )
    assert ok == 0
    code, data, err = cli(
        capsys,
        config,
        "session",
        "plan",
        "--coach",
        "maia",
        "--client",
        "cy-park",
        "--start",
        "2030-12-03T10:00",
        "--json",
    )
    assert code == 1
    error = data["error"]
    assert error["code"] == "monthly_limit"
    assert (error["month"], error["next_month"]) == ("2030-12", "2031-01")
    assert len(error["sessions"]) == 1
    assert "2030-12" in err and err.count("\n") == 1  # one human sentence on stderr
    assert len(sessions(capsys, config)) == 1


def test_series_and_agenda_and_show(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, data, _ = cli(
        capsys,
        config,
        "session",
        "plan",
        "--coach",
        "maia",
        "--client",
        "ana",
        "--start",
        "2030-12-02T10:00",
        "--repeat",
        "monthly",
        "--count",
        "3",
        "--json",
    )
    assert code == 0 and [d["start"][:10] for d in data] == [
        "2030-12-02",
        "2031-01-06",
        "2031-02-03",
    ]
    assert len({d["series"] for d in data}) == 1
    code, shown, _ = cli(capsys, config, "session", "show", str(data[0]["id"]), "--json")
    assert code == 0 and shown["audit"][0]["action"] == "planned"
    assert shown["audit"][0]["origin"].startswith("cli:")
    code, week, _ = cli(capsys, config, "agenda", "--coach", "maia", "--week", "2030-12-04")
    assert code == 0 and "Mon 2030-12-02" in week and "10:00-11:00" in week
    code, items, _ = cli(capsys, config, "agenda", "--client", "ana", "--all", "--json")
    assert code == 0 and len(items) == 3


def test_edit_cancel_and_answer(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    _, s, _ = cli(
        capsys,
        config,
        "session",
        "plan",
        "--coach",
        "maia",
        "--client",
        "ana",
        "--start",
        "2030-12-02T10:00",
        "--json",
    )
    sid = str(s["id"])
    code, moved, _ = cli(
        capsys,
        config,
        "session",
        "edit",
        sid,
        "--start",
        "2030-12-03T11:00",
        "--client-requested",
        "--json",
    )
    assert code == 0 and moved["status"] == "scheduled" and moved["sequence"] == 1
    code, ans, _ = cli(
        capsys, config, "session", "answer", sid, "--decline", "--by", "client", "--json"
    )
    assert code == 0 and ans["status"] == "declined"
    code, data, _ = cli(capsys, config, "session", "cancel", sid, "--json")
    assert code == 1 and data["error"]["code"] == "not_open"


def test_closure_dry_run_then_cancel_only(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    cli(
        capsys,
        config,
        "session",
        "plan",
        "--coach",
        "maia",
        "--client",
        "ana",
        "--start",
        "2030-12-24T10:00",
    )
    args = ["closure", "add", "--from", "2030-12-24", "--to", "2030-12-26", "--reason", "Holiday"]
    code, data, _ = cli(capsys, config, *args, "--dry-run", "--json")
    assert code == 0 and len(data["sessions"]) == 1 and data["closure"]["id"] is None
    assert sessions(capsys, config)[0]["status"] == "requested"
    code, data, _ = cli(capsys, config, *args, "--cancel-only", "--json")
    assert code == 0 and data["sessions"][0]["status"] == "cancelled"
    code, data, _ = cli(
        capsys,
        config,
        "session",
        "plan",
        "--coach",
        "maia",
        "--client",
        "ana",
        "--start",
        "2030-12-24T14:00",
        "--override-availability",
        "--json",
    )
    assert code == 1 and data["error"]["code"] == "closure"


def test_slots_and_client_commands(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, data, _ = cli(
        capsys,
        config,
        "slots",
        "--coach",
        "maia",
        "--client",
        "ana",
        "--month",
        "2030-12",
        "--duration",
        "90",
        "--json",
    )
    assert code == 0 and data["slots"][0]["start"] == "2030-12-02T09:00:00+00:00"
    assert data["slots"][1]["start"] == "2030-12-02T10:30:00+00:00"
    code, data, _ = cli(capsys, config, "client", "edit", "ana", "--program", "single", "--json")
    assert code == 0 and data["program"] == "single"
    code, data, _ = cli(capsys, config, "client", "list", "--json")
    assert [c["id"] for c in data] == ["ana", "cy-park"]


BAD = [
    (
        ["session", "plan", "--coach", "ghost", "--client", "ana", "--start", "2030-12-02T10:00"],
        2,
        "unknown coach 'ghost'",
    ),
    (
        ["session", "plan", "--coach", "maia", "--client", "nobody", "--start", "2030-12-02T10:00"],
        2,
        "unknown client 'nobody'",
    ),
    (
        [
            "session",
            "plan",
            "--coach",
            "maia",
            "--client",
            "ana",
            "--start",
            "2030-12-02T10:00",
            "--end",
            "2030-12-02T09:00",
        ],
        2,
        "ends before it starts",
    ),
    (
        [
            "session",
            "plan",
            "--coach",
            "maia",
            "--client",
            "ana",
            "--start",
            "2030-12-02T10:00",
            "--repeat",
            "weekly",
            "--count",
            "3",
            "--until",
            "2031-01-01",
        ],
        2,
        "not allowed with",
    ),
    (
        [
            "session",
            "plan",
            "--coach",
            "maia",
            "--client",
            "ana",
            "--start",
            "2030-12-02T10:00",
            "--repeat",
            "weekly",
        ],
        2,
        "exactly one of --count N or --until DATE",
    ),
    (
        ["session", "plan", "--coach", "maia", "--client", "ana", "--start", "2030-13-02T10:00"],
        2,
        "is not an ISO 8601 time",
    ),
    (
        [
            "session",
            "plan",
            "--coach",
            "maia",
            "--client",
            "ana",
            "--start",
            "2031-03-30T01:30",
            "--override-availability",
        ],
        2,
        "does not exist in Europe/London",
    ),
    (["session", "list", "--from", "yesterday"], 2, "is not a date like"),
    (["slots", "--coach", "maia", "--client", "ana", "--month", "2030-1"], 2, "is not a month"),
    (
        ["session", "plan", "--coach", "maia", "--client", "ana", "--start", "2030-12-07T10:00"],
        1,
        "outside working hours",
    ),
    (["session", "edit", "999", "--start", "2030-12-02T10:00"], 2, "unknown session 999"),
    (
        ["client", "add", "--name", "X", "--email", "not-an-email", "--program", "standard"],
        2,
        "is not an email address",
    ),
    (
        ["client", "add", "--name", "X", "--email", "x@example.org", "--program", "gold"],
        2,
        "unknown program 'gold'",
    ),
]


@pytest.mark.parametrize(("args", "code", "message"), BAD)
def test_bad_input_is_a_clear_error_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], config: Path, args: list[str], code: int, message: str
) -> None:
    before = sessions(capsys, config)
    try:
        got, _, err = cli(capsys, config, *args)
    except SystemExit as exc:  # argparse's own usage errors
        got, err = int(exc.code or 0), capsys.readouterr().err
    assert got == code, err
    assert message in err
    assert sessions(capsys, config) == before


def test_help_explains_each_command(capsys: pytest.CaptureFixture[str]) -> None:
    from calbridge.cli.main import run

    with pytest.raises(SystemExit) as info:
        run(["session", "plan", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for flag in (
        "--coach",
        "--client",
        "--start",
        "--override-availability",
        "--repeat",
        "--count",
        "--until",
        "--by",
        "--no-remind",
        "--private-note",
    ):
        assert flag in text
