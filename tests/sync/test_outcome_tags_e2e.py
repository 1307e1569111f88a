"""End to end: a coach records an outcome by tagging the event in their calendar app.

Against Radicale and Xandikos: the next sync saves the outcome,
removes the tag and colours the event done; an unknown tag, or one on a session that has
not started, is refused, reverted and recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import select

from book_helpers import at, plan_one
from calbridge.book import Book, views
from calbridge.book import completion_types as types
from calbridge.book.outcomes import Mode, OutcomeRequest, Selection, save
from calbridge.core.money import Modifier
from calbridge.store import repo
from calbridge.store.tables import ChangeRow
from conftest import Clock
from outcome_helpers import complete, money, outcome_book, saved, status
from servers.caldav_servers import CalDAVServer
from sync.e2e_helpers import Target, caldav_target, edit, event_of, items, sync

TAGS = {
    "No show": "no-show",
    "Attended": "attended",
    "Half fee": {"outcome": "attended", "type": "Half"},
}


@pytest.fixture(params=["radicale", "xandikos"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    server: CalDAVServer = request.getfixturevalue(request.param)
    with caldav_target(server) as target:
        yield target


@pytest.fixture
def book(make_book: Callable[..., Book], target: Target) -> Book:
    from conftest import base_config

    coaches = base_config("")["coaches"]
    coaches[0]["calendar"] = target.calendar
    outcomes = {"default_service": "coaching", "done_color": "darkgray", "tags": TAGS}
    return outcome_book(make_book, coaches=coaches, outcomes=outcomes)


def event(target: Target, uid: str) -> Any:
    (vevent,) = Calendar.from_ical(event_of(target.app, uid).data).walk("VEVENT")
    return vevent


def categories(vevent: Any) -> list[str]:
    found = vevent.get("CATEGORIES")
    props = found if isinstance(found, list) else [found] if found is not None else []
    return [str(c) for p in props for c in p.cats]


def add_category(name: str) -> Callable[[Calendar], None]:
    def change(cal: Calendar) -> None:
        for vevent in cal.walk("VEVENT"):
            cats = categories(vevent)
            vevent.pop("CATEGORIES", None)
            vevent.add("CATEGORIES", [*cats, name])

    return change


def retitle(suffix: str) -> Callable[[Calendar], None]:
    def change(cal: Calendar) -> None:
        for vevent in cal.walk("VEVENT"):
            vevent["SUMMARY"] = f"{vevent['SUMMARY']} {suffix}"

    return change


def reverts(book: Book, session_id: int | None) -> list[str]:
    with book.transaction() as db:
        query = select(ChangeRow.payload).where(
            ChangeRow.topic == "session.reverted", ChangeRow.session_id == session_id
        )
        return [p["reason"] for p in db.scalars(query)]


def test_category_tag_saves_the_outcome_cleans_and_colours(
    book: Book, target: Target, clock: Clock
) -> None:
    s = plan_one(book, "2026-12-07T10:00")
    sync(book)
    assert event(target, s.uid).get("COLOR") == "steelblue"
    clock.now = at("2026-12-07T11:30")
    edit(target.app, s.uid, add_category("No show"))
    report = sync(book)
    assert report.count("import") == 1 and report.refused == []
    assert status(book, s.id) == "completed"
    assert money(book, s.id) == (Decimal("80.00"), Decimal("45.00"))
    record = saved(book, s.id)
    assert record is not None and (record.outcome, record.type_label) == ("no-show", "missed")
    assert record.recorded_by == "coach"
    vevent = event(target, s.uid)
    assert categories(vevent) == ["Session"]
    assert str(vevent["COLOR"]) == "darkgray"
    assert str(vevent["STATUS"]) == "CONFIRMED"
    with book.transaction() as db:
        trail = repo.audit_trail(db, "session", s.id)
    assert trail[-1].action == "outcome" and trail[-1].origin == "sync:maia"
    assert sync(book).actions == []


def test_title_tag_with_a_completion_type(book: Book, target: Target, clock: Clock) -> None:
    types.add(book, "Half", "half fee", "completed", Modifier.percent(50), Modifier.percent(50))
    s = plan_one(book, "2026-12-07T10:00")
    sync(book)
    title = str(event(target, s.uid)["SUMMARY"])
    clock.now = at("2026-12-07T12:00")
    edit(target.app, s.uid, retitle("[half FEE]"))
    report = sync(book)
    assert report.refused == []
    assert money(book, s.id) == (Decimal("40.00"), Decimal("22.50"))
    assert str(event(target, s.uid)["SUMMARY"]) == title
    assert str(event(target, s.uid)["COLOR"]) == "darkgray"


def test_unknown_tag_is_refused_reverted_and_recorded(
    book: Book, target: Target, clock: Clock
) -> None:
    s = plan_one(book, "2026-12-07T10:00")
    sync(book)
    title = str(event(target, s.uid)["SUMMARY"])
    clock.now = at("2026-12-07T12:00")
    edit(target.app, s.uid, retitle("[Noshow]"))
    report = sync(book)
    assert len(report.refused) == 1 and "unknown outcome tag 'Noshow'" in report.refused[0]
    assert "'No show'" in report.refused[0]  # the configured tags are named
    assert status(book, s.id) == "requested" and saved(book, s.id) is None
    assert str(event(target, s.uid)["SUMMARY"]) == title
    assert str(event(target, s.uid)["COLOR"]) == "steelblue"
    assert reverts(book, s.id) and "Noshow" in reverts(book, s.id)[0]
    shown = views.show(book, s.id or 0)
    assert shown["audit"][-1]["action"] == "reverted"
    assert sync(book).actions == []


def test_tag_before_the_session_started_is_refused(
    book: Book, target: Target, clock: Clock
) -> None:
    s = plan_one(book, "2026-12-07T10:00")
    sync(book)
    clock.now = at("2026-12-07T09:59")
    edit(target.app, s.uid, add_category("Attended"))
    report = sync(book)
    assert len(report.refused) == 1 and "has not started yet" in report.refused[0]
    assert status(book, s.id) == "requested" and saved(book, s.id) is None
    assert categories(event(target, s.uid)) == ["Session"]
    assert "has not started yet" in reverts(book, s.id)[0]
    # Once it has started, the same tag goes through.
    clock.now = at("2026-12-07T10:30")
    edit(target.app, s.uid, add_category("attended"))
    assert sync(book).refused == []
    assert status(book, s.id) == "completed"
    assert saved(book, s.id).outcome == "attended"  # type: ignore[union-attr]


def test_outcome_saved_in_the_book_colours_the_event(
    book: Book, target: Target, clock: Clock
) -> None:
    s = plan_one(book, "2026-12-07T10:00")
    late = plan_one(book, "2026-12-08T10:00")
    sync(book)
    clock.now = at("2026-12-07T20:00")
    complete(book, s.id)
    save(book, Selection(ids=[late.id or 0]), OutcomeRequest(), Mode.CANCEL)
    report = sync(book)
    assert (report.count("update"), report.count("delete")) == (1, 1)
    assert str(event(target, s.uid)["COLOR"]) == "darkgray"
    unfolded = [i.data.replace(b"\r\n ", b"") for i in items(target.app).values()]
    assert [d for d in unfolded if late.uid.encode() in d] == []
    assert len([d for d in unfolded if s.uid.encode() in d]) == 1
