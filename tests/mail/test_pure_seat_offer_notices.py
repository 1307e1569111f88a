"""Seat changes and offers are told through pure functions (issue 12): the notices they
cause are built from values alone, without a database or an outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from calbridge.config.load import build
from calbridge.config.schema import Settings
from calbridge.core.model import Client, Participant, Role, Session, Status
from calbridge.events.changes import SeatsAdded, SeatsRemoved, WaitlistGone
from calbridge.ical.model import Person
from calbridge.mail import offer_notices, seat_notices
from calbridge.mail.notices import View
from calbridge.mail.text_hook import NoTexts
from calbridge.sms import texts
from conftest import NOW, base_config

START = NOW + timedelta(days=2)
PEOPLE = {
    "ana": Person("Ana Lima", "ana@example.org"),
    "ben": Person("Ben Cole", "ben@example.org"),
}


def _settings(tmp_path: Path) -> Settings:
    return build(base_config(f"sqlite:///{tmp_path / 'unused.db'}"), tmp_path)


def _session(*parties: str, start: datetime = START) -> Session:
    return Session(
        "uid-1", "maia", start, start + timedelta(hours=1), "Europe/London",
        participants=[Participant(p, Role.CLIENT) for p in parties],
        status=Status.SCHEDULED, sequence=3, id=7,
    )  # fmt: skip


def _view(settings: Settings, rows: list[Session]) -> View:
    return View(settings.coach("maia"), rows, PEOPLE, {}, None)


def test_added_participants_get_a_request_the_returning_one_above_the_book(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    row = _session("ana", "ben")
    change = SeatsAdded([row], ["ana", "ben"], returning=["ben"])
    out = seat_notices.notices(change, _view(settings, [row]), settings, NOW, NoTexts(), 9)
    assert [(n.to.party, n.kind) for n in out] == [("ana", "request"), ("ben", "request")]
    calendars = [n.calendar for n in out if n.calendar is not None]
    assert [method for _, method in calendars] == ["REQUEST", "REQUEST"]
    (ana, _), (ben, _) = calendars
    assert b"SEQUENCE:3" in ana and b"SEQUENCE:9" in ben  # the book's; above the book's


def test_a_seat_of_a_session_already_over_tells_nobody(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    past = _session("ana", start=NOW - timedelta(hours=2))
    view = _view(settings, [past])
    added = SeatsAdded([past], ["ana"], returning=[])
    removed = SeatsRemoved([past], ["ana"], sequence=4)
    assert seat_notices.notices(added, view, settings, NOW, NoTexts()) == []
    assert seat_notices.notices(removed, view, settings, NOW, NoTexts()) == []


def test_one_taken_off_gets_a_cancel_naming_only_them_and_a_text(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    row = _session("ana", "ben")
    change = SeatsRemoved([row], ["ben"], sequence=4)
    (notice,) = seat_notices.notices(change, _view(settings, [row]), settings, NOW, texts)
    assert (notice.to.party, notice.kind) == ("ben", "cancel")
    assert notice.calendar is not None
    data, method = notice.calendar
    assert method == "CANCEL"
    assert b"ben@example.org" in data and b"ana@example.org" not in data
    assert b"SEQUENCE:4" in data
    assert notice.body.subject.startswith("Cancelled for you:")
    assert notice.text is not None


@dataclass(frozen=True)
class _Hold:
    position: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class _Offer:
    coach_id: str
    deadline: datetime
    holds: tuple[_Hold, ...]


def test_a_waitlist_offer_gone_is_a_mail_and_a_text_to_its_client(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    offer = _Offer("maia", NOW + timedelta(days=1), (_Hold(1, START, START + timedelta(hours=1)),))
    client = Client("ana", "Ana Lima", "ana@example.org", "standard")
    change = WaitlistGone(offer, client, "taken", still_waiting=True)
    notice = offer_notices.notice(change, settings, "", texts)
    assert (notice.kind, notice.client, notice.session_id) == ("waitlist-gone", "ana", None)
    assert notice.message["To"] == "Ana Lima <ana@example.org>"
    assert notice.message["Message-ID"] is None  # given when queued
    assert notice.text is not None
    assert offer_notices.notice(change, settings, "", NoTexts()).text is None
