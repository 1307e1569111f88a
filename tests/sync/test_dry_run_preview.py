"""`sync --dry-run` lists what it would do per session (issue 13), and changes nothing:
against a folder calendar and a CalDAV server (Radicale)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from book_helpers import at
from cli_helpers import cli, write_config
from conftest import base_config
from sync.e2e_helpers import Target, edit, items, move_to, open_target


@pytest.fixture(params=["vdir", "radicale"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    with open_target(request, tmp_path) as found:
        yield found


def _book(db_url: str) -> list[Any]:
    """Every row of every table: the book's content, whatever the backend."""
    from calbridge.store.tables import Base

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [
                (t.name, sorted(map(repr, conn.execute(select(t)))))
                for t in Base.metadata.sorted_tables
            ]
    finally:
        engine.dispose()


def _calendar(target: Target) -> dict[str, bytes]:
    return {href: item.data for href, item in items(target.app).items()}


def _dry_run(capsys: pytest.CaptureFixture[str], config: Path, db_url: str, target: Target):  # type: ignore[no-untyped-def]
    before = (_book(db_url), _calendar(target))
    code, data, err = cli(capsys, config, "sync", "--dry-run", "--json")
    assert code == 0, err
    code, text, err = cli(capsys, config, "sync", "--dry-run")
    assert code == 0, err
    assert (_book(db_url), _calendar(target)) == before, "a dry run changed something"
    (report,) = data["calendars"]
    return report["planned"], text


def test_dry_run_lists_creates_then_a_coachs_move_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path, target: Target
) -> None:
    data = base_config(db_url)
    data["coaches"][0]["calendar"] = target.calendar
    config = write_config(tmp_path / "config.toml", data)
    add = ["client", "add", "--name", "Ana", "--email", "ana@example.org", "--id", "ana"]
    assert cli(capsys, config, *add, "--program", "standard")[0] == 0
    ids = []
    for start in ("2030-12-02T10:00", "2030-12-03T11:00"):
        code, plan, err = cli(
            capsys, config, "session", "plan", "--coach", "maia", "--client", "ana",
            "--start", start, "--json",
        )  # fmt: skip
        assert code == 0, err
        ids.append(plan["sessions"][0]["id"] if "sessions" in plan else plan["id"])

    planned, text = _dry_run(capsys, config, db_url, target)
    assert [(p["action"], p["session"]) for p in planned] == [("create", i) for i in ids]
    assert planned[0]["start"] == "2030-12-02T10:00:00+00:00"
    assert {(p["calendar"], tuple(p["clients"])) for p in planned} == {("maia", ("ana",))}
    assert f"create                 #{ids[0]:<5} Mon 2030-12-02 10:00  ana  (calendar maia)" in text
    assert f"#{ids[1]:<5} Tue 2030-12-03 11:00" in text

    assert cli(capsys, config, "sync")[0] == 0
    code, shown, err = cli(capsys, config, "session", "show", str(ids[0]), "--json")
    assert code == 0, err
    edit(target.app, shown["uid"], move_to(at("2030-12-04T14:00"), at("2030-12-04T15:00")))
    planned, text = _dry_run(capsys, config, db_url, target)
    assert [(p["action"], p["session"]) for p in planned] == [("import move", ids[0])]
    assert f"import move            #{ids[0]:<5} Mon 2030-12-02 10:00  ana" in text


def test_dry_run_names_the_sessions_the_guard_holds_back(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "calendar"
    data = base_config(db_url)
    data["coaches"][0]["calendar"] = {"url": str(folder)}
    config = write_config(tmp_path / "config.toml", data)
    add = ["client", "add", "--name", "Ana", "--email", "ana@example.org", "--id", "ana"]
    assert cli(capsys, config, *add, "--program", "intensive")[0] == 0
    for start in ("2030-12-02T10:00", "2030-12-03T11:00", "2030-12-04T12:00"):
        args = ["session", "plan", "--coach", "maia", "--client", "ana", "--start", start]
        assert cli(capsys, config, *args)[0] == 0
    assert cli(capsys, config, "sync")[0] == 0
    events = sorted(folder.glob("*.ics"))
    for gone in events[:2]:
        gone.unlink()
    code, data, err = cli(capsys, config, "sync", "--dry-run", "--json")
    assert code == 0, err
    (report,) = data["calendars"]
    assert report["held_back"] and report["actions"] == []
    held = [p for p in report["planned"] if p["action"] == "held back by the guard"]
    assert len(held) == 2 and all(p["session"] for p in held)
    assert sorted(folder.glob("*.ics")) == events[2:]
