"""`session edit` of notes, kind, direct/indirect, service, reminders and participants:
the rules of planning, one transaction, audit rows; on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from book_helpers import plan, plan_one, snapshot
from calbridge.book import Book, archive, session_edit, views
from calbridge.book.requests import FieldEdit
from calbridge.core.model import Kind, SeriesSpec
from calbridge.errors import NotFound, Refused, UserError
from calbridge.store.tables import AuditRow, OutboxRow
from cli_helpers import cli, write_config
from conftest import base_config
from outcome_helpers import complete, money, outcome_book


def _edit(book: Book, session_id: int | None, **kw: Any) -> Any:
    return session_edit.edit(book, session_id or 0, FieldEdit(**kw))


def _audit(book: Book, session_id: int | None) -> list[tuple[str, dict[str, Any]]]:
    with book.transaction() as db:
        rows = db.scalars(
            select(AuditRow).where(AuditRow.entity_id == str(session_id)).order_by(AuditRow.id)
        )
        return [(r.action, r.changes) for r in rows]


def _outbox(book: Book) -> int:
    with book.transaction() as db:
        return len(list(db.scalars(select(OutboxRow))))


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        ({"note": "Bring the workbook"}, "note", "Bring the workbook"),
        ({"private_note": "secret"}, "private_note", "secret"),
        ({"kind": Kind.VIDEO}, "kind", "video"),
        ({"direct": False}, "direct", False),
        ({"service": "coaching"}, "service", "coaching"),
        ({"remind": False}, "remind", False),
    ],
)
def test_each_field_is_saved_and_audited(
    make_book: Any, change: dict[str, Any], field: str, value: Any
) -> None:
    book = outcome_book(make_book)
    session = plan_one(book, "2026-11-23T10:00", remind=True)
    _edit(book, session.id, **change)
    shown = views.show(book, session.id or 0)
    assert shown[field] == value
    action, changes = _audit(book, session.id)[-1]
    assert action == "edited"
    if field == "private_note":
        assert changes["private_note"] == "changed", "the private text stays out of the trail"
    else:
        assert changes[field][1] == value


def test_added_client_over_their_limit_is_refused_and_nothing_changes(book: Book) -> None:
    plan_one(book, "2026-11-24T10:00", clients=("cy",))  # cy's one session of November
    session = plan_one(book, "2026-11-23T10:00", clients=("ana",))
    before, mail = snapshot(book), _outbox(book)
    with pytest.raises(Refused) as info:
        _edit(book, session.id, add_clients=["cy"], note="changed too")
    assert info.value.code == "monthly_limit" and "2026-11" in info.value.message
    assert snapshot(book) == before and _outbox(book) == mail
    shown = views.show(book, session.id or 0)
    assert shown["clients"] == ["ana"] and shown["note"] == ""


def test_indirect_work_does_not_use_the_added_clients_sessions(book: Book) -> None:
    plan_one(book, "2026-11-24T10:00", clients=("cy",))
    session = plan_one(book, "2026-11-23T10:00", clients=("ana",), direct=False)
    edited = _edit(book, session.id, add_clients=["cy"])
    assert edited.clients == ["ana", "cy"]


def test_indirect_turned_direct_checks_every_clients_month(book: Book) -> None:
    plan_one(book, "2026-11-24T10:00", clients=("cy",))
    session = plan_one(book, "2026-11-23T10:00", clients=("cy",), direct=False)
    before = snapshot(book)
    with pytest.raises(Refused) as info:
        _edit(book, session.id, direct=True)
    assert info.value.code == "monthly_limit"
    assert snapshot(book) == before and views.show(book, session.id or 0)["direct"] is False
    _edit(book, session.id, direct=False)  # unchanged: nothing to check, nothing written
    assert snapshot(book) == before


def test_archived_client_cannot_be_added(book: Book) -> None:
    session = plan_one(book, "2026-11-23T10:00", clients=("ana",))
    archive.set_archived(book, "client", "ben", True)
    before = snapshot(book)
    with pytest.raises(Refused) as info:
        _edit(book, session.id, add_clients=["ben"])
    assert info.value.code == "archived" and "unarchive ben" in info.value.message
    assert snapshot(book) == before


def test_the_last_client_cannot_be_removed(book: Book) -> None:
    session = plan_one(book, "2026-11-23T10:00", clients=("ana",))
    before = snapshot(book)
    with pytest.raises(UserError, match=r"no client left.*session cancel"):
        _edit(book, session.id, remove_clients=["ana"])
    assert snapshot(book) == before
    edited = _edit(book, session.id, remove_clients=["ana"], add_clients=["ben"])
    assert edited.clients == ["ben"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"add_clients": ["nobody"]}, "unknown client 'nobody'"),
        ({"add_third_parties": ["nobody"]}, "unknown third party 'nobody'"),
        ({"remove_clients": ["ben"]}, "'ben' is not a client of session"),
        ({"remove_third_parties": ["doc"]}, "'doc' is not a third party of session"),
        ({"add_clients": ["ana"]}, "'ana' already takes part"),
        ({"add_clients": [""]}, "--add-client needs an id"),
        ({"add_clients": ["ben", "ben"]}, "the same --add-client is named twice"),
        ({"add_clients": ["ben"], "remove_clients": ["ben"]}, "both added and removed"),
        ({"service": ""}, "unknown service ''"),
        ({"kind": Kind.TEAM}, "--kind can be client or video"),
        ({"note": "a\x00b"}, "NUL"),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(
    book: Book, change: dict[str, Any], message: str
) -> None:
    session = plan_one(book, "2026-11-23T10:00", clients=("ana",))
    before = snapshot(book)
    with pytest.raises(UserError, match=message):
        _edit(book, session.id, **change)
    assert snapshot(book) == before


def test_unknown_session(book: Book) -> None:
    with pytest.raises(NotFound):
        _edit(book, 999, note="x")


def test_a_team_event_gets_no_clients(book: Book) -> None:
    (event,) = plan(book, "2026-11-23T10:00", clients=(), kind=Kind.TEAM)
    with pytest.raises(UserError, match="a team event has no clients"):
        _edit(book, event.id, add_clients=["ana"])
    assert _edit(book, event.id, kind=Kind.NON_CLIENT).kind is Kind.NON_CLIENT


def test_an_occurrence_changes_its_own_participants_only(book: Book) -> None:
    spec = SeriesSpec(repeat="weekly", weekdays=(), count=2)
    first, second = plan(book, "2026-11-23T10:00", series=spec)
    assert _edit(book, first.id, add_clients=["ben"]).clients == ["ana", "ben"]
    assert views.show(book, second.id or 0)["clients"] == ["ana"]
    assert _edit(book, first.id, note="only this one").note == "only this one"


def test_a_completed_session_changes_its_notes_only(make_book: Any) -> None:
    book = outcome_book(make_book)
    session = plan_one(book, "2026-11-23T10:00")
    book.clock.now = session.end  # type: ignore[attr-defined]
    complete(book, session.id)
    with pytest.raises(UserError, match=r"completed.*session retype"):
        _edit(book, session.id, service="support")
    assert _edit(book, session.id, note="went well").note == "went well"


def test_the_money_follows_the_edited_service(make_book: Any) -> None:
    """As for a planned session: completing prices it with the session's service."""
    book = outcome_book(make_book)
    session = plan_one(book, "2026-11-23T10:00", service="coaching")
    _edit(book, session.id, service="support")
    book.clock.now = session.end  # type: ignore[attr-defined]
    complete(book, session.id)
    assert money(book, session.id) == (Decimal("62.50"), Decimal("33.35"))


# The command line: flags, hostile values, exit codes.


@pytest.fixture
def config(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    data = base_config(db_url)
    data["mail"] = {"transport": "folder", "folder": str(tmp_path / "mail")}
    path = write_config(tmp_path / "config.toml", data)
    for args in (
        ["client", "add", "--name", "Ana", "--email", "ana@example.org", "--program", "standard"],
        ["client", "add", "--name", "Ben", "--email", "ben@example.org", "--program", "standard"],
        ["session", "plan", "--coach", "maia", "--client", "ana", "--start", "2030-12-02T10:00"],
    ):
        assert cli(capsys, path, *args)[0] == 0, args
    return path


def test_cli_edit_fields_and_participants(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, data, err = cli(
        capsys, config, "session", "edit", "1", "--note", "Hi", "--kind", "video", "--indirect",
        "--add-client", "ben", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert data["note"] == "Hi" and data["kind"] == "video" and data["direct"] is False
    assert data["clients"] == ["ana", "ben"]
    code, data, err = cli(capsys, config, "session", "edit", "1", "--remove-client", "ben")
    assert code == 0 and "edited" in data


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--add-client", ""], "--add-client needs an id"),
        (["--add-client", "nobody"], "unknown client 'nobody'"),
        (["--remove-client", "ana"], "no client left"),
        (["--service", ""], "unknown service"),
        (["--note", "x", "--start", "2030-12-03T10:00"], "in two `session edit` commands"),
    ],
)
def test_cli_hostile_values_exit_2_and_change_nothing(
    capsys: pytest.CaptureFixture[str], config: Path, args: list[str], message: str
) -> None:
    _, before, _ = cli(capsys, config, "session", "show", "1", "--json")
    code, _, err = cli(capsys, config, "session", "edit", "1", *args)
    assert code == 2 and message in err and "Traceback" not in err
    _, after, _ = cli(capsys, config, "session", "show", "1", "--json")
    assert after == before


def test_cli_help_explains_each_new_flag(capsys: pytest.CaptureFixture[str]) -> None:
    from calbridge.cli.main import run

    with pytest.raises(SystemExit):
        run(["session", "edit", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for flag in ("--note TEXT", "--private-note", "--kind", "--direct", "--indirect"):
        assert flag in text
    for flag in ("--service", "--add-client", "--remove-client", "--add-third-party"):
        assert flag in text
    assert "only they get an invitation" in text and "only they get a cancellation" in text
    assert "--series" in text and "every occurrence still to come" in text


def test_the_coachs_copy_follows_on_the_next_sync(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = base_config(db_url)
    data["state_dir"] = str(tmp_path / "state")
    data["mail"] = {"transport": "folder", "folder": str(tmp_path / "mail")}
    (tmp_path / "calendars").mkdir()
    data["coaches"][0]["calendar"] = {"url": str(tmp_path / "calendars" / "maia")}
    config = write_config(tmp_path / "config.toml", data)
    for args in (
        ["client", "add", "--name", "Ana", "--email", "ana@example.org", "--program", "standard"],
        ["client", "add", "--name", "Ben", "--email", "ben@example.org", "--program", "standard"],
        ["session", "plan", "--coach", "maia", "--client", "ana", "--start", "2030-12-02T10:00"],
        ["sync", "--coach", "maia"],
        ["session", "edit", "1", "--add-client", "ben", "--note", "Both of you"],
        ["sync", "--coach", "maia"],
    ):
        assert cli(capsys, config, *args)[0] == 0, args
    (copy,) = (tmp_path / "calendars" / "maia").glob("*.ics")
    text = copy.read_bytes().decode().replace("\r\n ", "")
    assert "mailto:ben@example.org" in text and "SCHEDULE-AGENT=CLIENT" in text
    assert "Both of you" in text and "SEQUENCE:0" in text
