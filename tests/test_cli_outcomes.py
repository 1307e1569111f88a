"""The outcome commands as admins script them: JSON, CSV, dry runs, exit statuses."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from calbridge.book import Book, notes
from calbridge.cli.main import run
from calbridge.config.load import load_config
from cli_helpers import cli, write_config
from conftest import base_config

Cap = pytest.CaptureFixture[str]


@pytest.fixture
def config(db_url: str, tmp_path: Path, capsys: Cap) -> Path:
    data = base_config(db_url)
    data["services"] = {"coaching": {"fee": "80.00", "wage": "45.00"}}
    data["outcomes"] = {"default_service": "coaching"}
    data["policies"] = {"cancel_deadline_hours": 48}
    path = write_config(tmp_path / "config.toml", data)
    for who, program in (("dee", "intensive"), ("ana", "standard")):
        args = ["client", "add", "--name", who.title(), "--email", f"{who}@example.org"]
        assert run(["--config", str(path), *args, "--program", program, "--id", who]) == 0
    capsys.readouterr()
    return path


def plan(capsys: Cap, config: Path, start: str, *extra: str) -> int:
    code, data, err = cli(
        capsys, config, "session", "plan", "--coach", "maia", "--start", start, *extra, "--json"
    )
    assert code == 0, err
    return int(data["id"])


def past(capsys: Cap, config: Path, day: int) -> int:
    """A session that is over (real time: the CLI reads the system clock), recorded."""
    return plan(capsys, config, f"2026-11-{day:02d}T10:00", "--client", "dee", "--record")


def test_complete_dry_run_then_for_real(capsys: Cap, config: Path) -> None:
    a, b = past(capsys, config, 16), past(capsys, config, 17)
    code, data, _ = cli(
        capsys,
        config,
        "session",
        "complete",
        str(a),
        str(b),
        "--type",
        "missed",
        "--dry-run",
        "--json",
    )
    assert code == 0 and data["dry_run"] is True
    assert [(s["id"], s["outcome"], s["cost"]) for s in data["sessions"]] == [
        (a, "no-show", "80.00"),
        (b, "no-show", "80.00"),
    ]
    code, shown, _ = cli(capsys, config, "session", "show", str(a), "--json")
    assert shown["status"] == "scheduled"  # recorded: happened, nobody invited
    code, data, _ = cli(
        capsys,
        config,
        "session",
        "complete",
        str(a),
        "--type",
        "completed",
        "--cost",
        "70",
        "--json",
    )
    assert code == 0 and data["sessions"][0]["cost"] == "70.00"
    code, text, _ = cli(capsys, config, "session", "record", str(a))
    assert "attended (completed): cost 70.00 wage 45.00 GBP" in text
    code, record, _ = cli(capsys, config, "session", "record", str(a), "--json")
    assert record["outcome"]["cost_overridden"] is True and record["status"] == "completed"


def test_one_bad_id_changes_nothing(capsys: Cap, config: Path) -> None:
    a = past(capsys, config, 16)
    future = plan(capsys, config, "2030-12-02T10:00", "--client", "dee")
    code, _, err = cli(capsys, config, "session", "complete", str(a), "4711", "--type", "missed")
    assert code == 2 and "unknown session(s) 4711; nothing was changed" in err
    code, data, err = cli(
        capsys, config, "session", "complete", str(a), str(future), "--type", "missed", "--json"
    )
    assert code == 1 and data["error"]["code"] == "outcome_refused"
    assert [p["id"] for p in data["error"]["problems"]] == [future]
    code, shown, _ = cli(capsys, config, "session", "show", str(a), "--json")
    assert shown["status"] == "scheduled"


def test_completion_types_from_the_cli(capsys: Cap, config: Path) -> None:
    add = ["completion-type", "add", "--label", "Sliding", "--description", "sliding scale"]
    code, data, err = cli(
        capsys,
        config,
        *add,
        "--maps-to",
        "completed",
        "--client-percent",
        "60",
        "--coach-fixed",
        "40",
        "--json",
    )
    assert code == 0, err
    assert (data["client_rule"], data["coach_rule"]) == ("60%", "40.00 fixed")
    code, _, err = cli(
        capsys,
        config,
        "completion-type",
        "add",
        "--label",
        "x" * 16,
        "--description",
        "",
        "--maps-to",
        "missed",
        "--client-percent",
        "1",
        "--coach-percent",
        "1",
    )
    assert code == 2 and "at most 15" in err
    code, _, err = cli(
        capsys,
        config,
        *add,
        "--maps-to",
        "completed",
        "--client-percent",
        "1",
        "--client-fixed",
        "2",
        "--coach-percent",
        "1",
    )
    assert code == 2 and "not both" in err
    assert cli(capsys, config, "completion-type", "disable", "sliding")[0] == 0
    a = past(capsys, config, 16)
    code, _, err = cli(capsys, config, "session", "complete", str(a), "--type", "Sliding")
    assert code == 1 and "disabled" in err
    assert cli(capsys, config, "completion-type", "enable", "sliding")[0] == 0
    assert (
        cli(capsys, config, "completion-type", "edit", "sliding", "--client-percent", "50")[0] == 0
    )
    code, data, _ = cli(
        capsys, config, "session", "complete", str(a), "--type", "sliding", "--json"
    )
    assert (data["sessions"][0]["cost"], data["sessions"][0]["wage"]) == ("40.00", "40.00")
    assert cli(capsys, config, "completion-type", "remove", "sliding")[0] == 0
    code, rows, _ = cli(capsys, config, "completion-type", "list", "--json")
    assert [r["label"] for r in rows] == ["completed", "missed", "cancelled", "non-billable"]
    code, _, err = cli(capsys, config, "completion-type", "remove", "missed")
    assert code == 1 and "built-in" in err
    code, record, _ = cli(capsys, config, "session", "record", str(a), "--json")
    assert record["outcome"]["type"] == "Sliding" and record["outcome"]["cost"] == "40.00"


def test_notes_lock_after_the_window(capsys: Cap, config: Path) -> None:
    a = past(capsys, config, 16)
    code, data, _ = cli(
        capsys, config, "session", "note", str(a), "--text", "ok", "--sign", "--json"
    )
    assert code == 0 and data["note"]["signed_at"] and data["note"]["locked"] is False
    b = past(capsys, config, 17)
    book = Book.open(load_config(config), origin="test")
    book.clock = lambda: datetime.now(UTC) - timedelta(hours=25)
    try:
        notes.write_note(book, b, "signed yesterday", sign=True)
    finally:
        book.engine.dispose()
    code, data, err = cli(capsys, config, "session", "note", str(b), "--text", "edit", "--json")
    assert code == 1 and data["error"]["code"] == "note_locked"
    assert f"calbridge session comment {b}" in err
    code, data, _ = cli(capsys, config, "session", "comment", str(b), "--text", "later", "--json")
    assert code == 0 and data["note"]["text"] == "signed yesterday"
    assert [c["text"] for c in data["comments"]] == ["later"]


def test_reports_as_table_json_and_csv(capsys: Cap, config: Path) -> None:
    ids = [past(capsys, config, d) for d in (16, 17, 18)]
    args = ["session", "complete", *map(str, ids[:2]), "--type", "completed"]
    assert cli(capsys, config, *args)[0] == 0
    assert cli(capsys, config, "session", "complete", str(ids[2]), "--type", "cancelled")[0] == 0
    code, data, _ = cli(capsys, config, "report", "balances", "--month", "2026-11", "--json")
    assert data["rows"] == [
        {"client": "dee", "name": "Dee", "sessions": 3, "cost": "160.00", "currency": "GBP"}
    ]
    code, text, _ = cli(capsys, config, "report", "wages", "--month", "2026-11", "--csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [
        {"coach": "maia", "name": "Maia Jones", "sessions": "3", "wage": "90.00", "currency": "GBP"}
    ]
    code, text, _ = cli(capsys, config, "report", "hours", "--week", "2026-11-18")
    assert code == 0 and "maia" in text and "total: minutes 120, hours 2.00" in text
    code, _, err = cli(capsys, config, "report", "hours", "--month", "2026-13")
    assert code == 2 and "--month" in err


def test_cancelling_soon_hints_at_a_late_cancellation(capsys: Cap, config: Path) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=30)).replace(microsecond=0, second=0)
    first = plan(capsys, config, soon.isoformat(), "--client", "dee", "--override-availability")
    code, data, _ = cli(capsys, config, "session", "cancel", str(first), "--json")
    assert code == 0 and "late cancellation" in data["hint"]
    code, data, _ = cli(capsys, config, "session", "cancel-many", str(first), "--json")
    assert code == 0 and data["sessions"][0]["outcome"] == "late-cancellation"
    code, shown, _ = cli(capsys, config, "session", "show", str(first), "--json")
    assert (shown["status"], shown["outcome"]) == ("cancelled", "late-cancellation")
    second = plan(
        capsys,
        config,
        (soon + timedelta(hours=1)).isoformat(),
        "--client",
        "dee",
        "--override-availability",
    )
    code, data, _ = cli(capsys, config, "session", "cancel-many", str(second), "--json")
    assert code == 0 and data["sessions"][0]["outcome"] == "late-cancellation"
    assert data["sessions"][0]["cost"] == "80.00"
    far = plan(capsys, config, "2030-12-03T10:00", "--client", "dee")
    code, data, _ = cli(
        capsys,
        config,
        "session",
        "cancel-many",
        "--coach",
        "maia",
        "--from",
        "2030-12-01",
        "--to",
        "2030-12-31",
        "--json",
    )
    assert [(s["id"], s["outcome"], s["cost"]) for s in data["sessions"]] == [
        (far, "cancelled", "0.00")
    ]


def test_retype_many_by_coach_and_dates(capsys: Cap, config: Path) -> None:
    ids = [past(capsys, config, d) for d in (16, 17)]
    assert cli(capsys, config, "session", "complete", *map(str, ids), "--type", "completed")[0] == 0
    args = ["session", "retype", "--coach", "maia", "--from", "2026-11-16", "--to", "2026-11-17"]
    code, data, _ = cli(capsys, config, *args, "--type", "non-billable", "--dry-run", "--json")
    assert code == 0 and [s["cost"] for s in data["sessions"]] == ["0.00", "0.00"]
    assert [s["before"]["cost"] for s in data["sessions"]] == ["80.00", "80.00"]
    code, record, _ = cli(capsys, config, "session", "record", str(ids[0]), "--json")
    assert record["outcome"]["type"] == "completed"
    code, text, _ = cli(capsys, config, *args, "--type", "non-billable", "--wage", "50")
    assert code == 0 and "saved:" in text
    code, record, _ = cli(capsys, config, "session", "record", str(ids[1]), "--json")
    assert (record["outcome"]["type"], record["outcome"]["cost"]) == ("non-billable", "0.00")
    assert record["outcome"]["wage"] == "50.00" and record["outcome"]["outcome"] == "attended"
