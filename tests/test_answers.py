"""Answers are each person's own (PRODUCT rule 3): a client answers a group session for
themself only, and a move agreed with the clients is their acceptance."""

from __future__ import annotations

from pathlib import Path

import pytest
from icalendar import Calendar

from book_helpers import at, move, plan_one, snapshot
from calbridge.book import Book, planning, views
from calbridge.book.requests import EditRequest
from calbridge.core.model import Actor, Status
from calbridge.errors import UserError
from calbridge.sync.desired import wanted_sessions
from cli_helpers import cli, write_config
from conftest import base_config
from validate_helpers import assert_valid


def _partstats(book: Book, session_id: int) -> dict[str, str]:
    return dict(views.show(book, session_id)["partstat"])


def _copy_attendees(book: Book, uid: str) -> dict[str, tuple[str, str | None]]:
    with book.transaction() as db:
        wanted = wanted_sessions(db, book.settings, book.coach("maia"), [uid], book.clock())
    data = wanted[uid].data
    assert data is not None
    assert_valid(data, caldav=True)
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    found = event["ATTENDEE"]
    found = found if isinstance(found, list) else [found]
    return {
        str(a).removeprefix("mailto:"): (a.params["PARTSTAT"], a.params.get("RSVP")) for a in found
    }


def test_a_group_answer_by_a_client_must_name_them(book: Book) -> None:
    s = plan_one(book, "2026-12-01T10:00", clients=("ana", "ben"))
    before = snapshot(book)
    with pytest.raises(UserError, match="--client"):
        planning.answer(book, s.id or 0, Actor.CLIENT, True)
    with pytest.raises(UserError, match="--client"):
        planning.answer(book, s.id or 0, Actor.CLIENT, True, "cy")  # not in the session
    assert snapshot(book) == before
    done = planning.answer(book, s.id or 0, Actor.CLIENT, True, "ben")
    assert done.status is Status.SCHEDULED
    assert _partstats(book, s.id or 0) == {"ana": "NEEDS-ACTION", "ben": "ACCEPTED"}


def test_a_lone_client_and_the_practice_need_not_name_anyone(book: Book) -> None:
    alone = plan_one(book, "2026-12-01T10:00", clients=("ana",))
    planning.answer(book, alone.id or 0, Actor.CLIENT, True)
    assert _partstats(book, alone.id or 0) == {"ana": "ACCEPTED"}
    group = plan_one(book, "2026-12-02T10:00", clients=("ana", "ben"), by=Actor.CLIENT)
    assert planning.answer(book, group.id or 0, Actor.COACH, True).status is Status.SCHEDULED


def test_a_client_requested_move_is_the_clients_acceptance(book: Book) -> None:
    s = plan_one(book, "2026-12-01T10:00", clients=("ana", "ben"), third_parties=["doc"])
    moved = planning.edit(
        book, s.id or 0, EditRequest(start=at("2026-12-03T11:00"), client_requested=True)
    )
    assert moved.status is Status.SCHEDULED
    assert _partstats(book, s.id or 0) == {
        "ana": "ACCEPTED",
        "ben": "ACCEPTED",
        "doc": "NEEDS-ACTION",  # a third party agreed to nothing
    }
    people = _copy_attendees(book, s.uid)
    assert people["ana@example.org"] == people["ben@example.org"] == ("ACCEPTED", None)
    again = move(book, s.id or 0, "2026-12-04T11:00")  # a move to be accepted asks again
    assert again.status is Status.REQUESTED
    assert _copy_attendees(book, s.uid)["ana@example.org"] == ("NEEDS-ACTION", "TRUE")


def test_the_cli_refuses_a_group_answer_without_client(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "config.toml", base_config(db_url))
    for cid in ("ana", "ben"):
        add = ["client", "add", "--name", cid, "--email", f"{cid}@example.org"]
        assert cli(capsys, config, *add, "--program", "standard", "--id", cid)[0] == 0
    plan = ["session", "plan", "--coach", "maia", "--client", "ana", "--client", "ben"]
    code, s, _ = cli(capsys, config, *plan, "--start", "2030-12-02T10:00", "--json")
    assert code == 0
    answer = ["session", "answer", str(s["id"]), "--accept", "--by", "client"]
    code, _, err = cli(capsys, config, *answer)
    assert code == 2 and "--client ID" in err
    code, done, _ = cli(capsys, config, *answer, "--client", "ana", "--json")
    assert code == 0 and done["partstat"] == {"ana": "ACCEPTED", "ben": "NEEDS-ACTION"}
