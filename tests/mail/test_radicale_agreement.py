"""The coach's copy on a real CalDAV server (Radicale) and the mail agree on UID and
SEQUENCE across plan, move and cancel; a refused calendar edit mails the coach why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from icalendar import Calendar

from book_helpers import at, move, plan
from calbridge.book import Book, planning
from calbridge.calendars.caldav import CalDAVStore
from calbridge.core.model import Actor, SeriesSpec
from conftest import base_config
from servers.caldav_servers import CalDAVServer
from sync.conftest import fresh_calendar, radicale
from sync.e2e_helpers import edit, event_of, move_to, sync

from .conftest import add_people
from .smtp_helpers import Recorder, calendar_part, send, smtp_config, vevents

_ = radicale  # the session-wide Radicale server fixture


@pytest.fixture
def app(radicale: CalDAVServer) -> Iterator[tuple[dict[str, Any], CalDAVStore]]:
    url = fresh_calendar(radicale)
    table: dict[str, Any] = {"url": url}
    if radicale.auth:
        table.update(username=radicale.auth[0], password=radicale.auth[1])
    with CalDAVStore(url, radicale.auth) as store:
        yield table, store


@pytest.fixture
def synced_book(
    make_book: Callable[..., Book],
    smtp: tuple[Recorder, int],
    app: tuple[dict[str, Any], CalDAVStore],
) -> Book:
    coaches = base_config("")["coaches"]
    coaches[0]["calendar"] = app[0]
    book = make_book(coaches=coaches, mail=smtp_config(smtp[1]), state_dir="state")
    add_people(book)
    return book


def _stored(store: CalDAVStore, uid: str) -> tuple[bytes, list[Any]]:
    data = event_of(store, uid).data
    return data, list(Calendar.from_ical(data).walk("VEVENT"))


def _mailed(book: Book, recorder: Recorder) -> list[Any]:
    before = len(recorder.received)
    send(book)
    return recorder.received[before:]


def test_calendar_copy_and_mail_agree(
    synced_book: Book, recorder: Recorder, app: tuple[dict[str, Any], CalDAVStore]
) -> None:
    book, store = synced_book, app[1]
    rows = plan(
        book, "2026-11-23T10:00", third_parties=["doc"], series=SeriesSpec("weekly", (0,), count=3)
    )
    uid = rows[0].uid
    sync(book)
    progression = []
    for step in ("plan", "move", "cancel one"):
        if step == "move":
            move(book, rows[1].id or 0, "2026-12-01T11:00")
            sync(book)
        if step == "cancel one":
            planning.cancel(book, rows[2].id or 0, Actor.ADMIN, "holiday")
            sync(book)
        mails = _mailed(book, recorder)
        assert sorted(r for m in mails for r in m.rcpt_tos) == [
            "ana@example.org",
            "third@example.org",
        ]
        data, method = calendar_part(mails[0].message)
        mailed = vevents(data)
        raw, stored = _stored(store, uid)
        assert b"SCHEDULE-AGENT=CLIENT" in raw.replace(b"\r\n ", b"") and b"METHOD" not in raw
        assert b"SCHEDULE-AGENT" not in data
        assert {str(e["UID"]) for e in mailed} == {str(e["UID"]) for e in stored} == {uid}
        assert {int(e["SEQUENCE"]) for e in stored} == {int(mailed[0]["SEQUENCE"])}
        progression.append((method, int(mailed[0]["SEQUENCE"])))
    assert progression == [("REQUEST", 0), ("REQUEST", 1), ("CANCEL", 2)]


def test_a_refused_move_in_the_calendar_is_reverted_and_the_coach_told(
    synced_book: Book, recorder: Recorder, app: tuple[dict[str, Any], CalDAVStore]
) -> None:
    book, store = synced_book, app[1]
    (session,) = plan(book, "2026-11-23T10:00")
    plan(book, "2026-12-01T10:00")
    plan(book, "2026-12-02T10:00")  # Ana's December is full
    sync(book)
    _mailed(book, recorder)
    edit(store, session.uid, move_to(at("2026-12-03T10:00"), at("2026-12-03T11:00")))
    report = sync(book)
    assert report.refused
    (notice,) = _mailed(book, recorder)
    assert notice.rcpt_tos == ["maia@practice.example"]
    body = notice.message.get_body(("plain",))
    assert body is not None
    text = str(body.get_content())
    assert "was reverted because" in text and "2026-12 is full" in text
    (_, events) = _stored(store, session.uid)
    assert events[0].decoded("DTSTART") == at("2026-11-23T10:00")
