"""The offer flow end to end: book → real Radicale calendar, the offer email from the
outbox, the client's clicks over real HTTP to the aiohttp server, expiry after downtime."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from book_helpers import at, plan_one
from calbridge.book import Book, views
from calbridge.book.offers import expire_offers
from calbridge.calendars.base import CalendarStore
from calbridge.store.tables import AuditRow
from conftest import Clock
from offers.conftest import Served
from offers.helpers import http, live_holds, offer, outbox, parsed
from sync.e2e_helpers import Target, edit, event_of, items, move_to, sync


@pytest.fixture
def book(synced_book: Book) -> Book:
    """Every test here syncs to a real Radicale calendar."""
    return synced_book


LINK = re.compile(r"https?://[^\s\"<>]+/offer/[^\s\"<>]+")


def calendar(app: CalendarStore) -> list[dict[str, object]]:
    """Every event in the calendar: uid, kind, status, transp, start."""
    found = []
    for item in items(app).values():
        for event in Calendar.from_ical(item.data).walk("VEVENT"):
            found.append(
                {
                    "uid": str(event["UID"]),
                    "kind": str(event.get("X-CALBRIDGE-KIND", "")),
                    "status": str(event.get("STATUS", "")),
                    "transp": str(event.get("TRANSP", "")),
                    "start": event.decoded("DTSTART"),
                }
            )
    return sorted(found, key=lambda e: (str(e["kind"]), e["start"]))  # type: ignore[arg-type]


def offered(book: Book, served: Served) -> tuple[int, dict[str, str]]:
    """Plan a session, sync, offer two times, sync; returns (session id, links by choice)."""
    s = plan_one(book, "2026-12-01T10:00")
    sync(book)
    made = offer(book, s.id or 0, "2026-12-02T10:00", "2026-12-03T14:00")
    assert all(url.startswith(served.base + "/offer/") for url in made.links.values())
    return s.id or 0, made.links


def test_holds_appear_tentative_and_accept_leaves_one_confirmed_event(
    book: Book, target: Target, served: Served
) -> None:
    session_id, links = offered(book, served)
    sync(book)
    events = calendar(target.app)
    holds = [e for e in events if e["kind"] == "hold"]
    assert [(e["status"], e["transp"]) for e in holds] == [("TENTATIVE", "OPAQUE")] * 2
    assert [e["start"] for e in holds] == [at("2026-12-02T10:00"), at("2026-12-03T14:00")]
    assert all(str(e["uid"]).startswith("calbridge-hold-") for e in holds)

    status, page, headers = http(links["2"])  # what a mail scanner does: nothing happens
    assert status == 200 and '<form method="post">' in page and "3 December 2026" in page
    assert headers["Cache-Control"] == "no-store" and 'name="viewport"' in page
    assert views.show(book, session_id)["status"] == "requested" and len(live_holds(book)) == 2

    status, page, _ = http(links["2"], "POST")
    assert status == 200 and "Time confirmed" in page
    assert http(links["2"], "POST")[0] == 410  # each link works once
    assert http(links["1"], "POST")[0] == 410  # and the offer is answered
    sync(book)
    events = calendar(target.app)
    assert [(e["kind"], e["status"], e["start"]) for e in events] == [
        ("client", "CONFIRMED", at("2026-12-03T14:00"))
    ]
    assert views.show(book, session_id)["status"] == "scheduled"
    assert sync(book).actions == []


def test_reject_releases_every_hold(book: Book, target: Target, served: Served) -> None:
    session_id, links = offered(book, served)
    sync(book)
    assert len([e for e in calendar(target.app) if e["kind"] == "hold"]) == 2
    status, page, _ = http(links["reject"])
    assert status == 200 and "Reject all offered times" in page
    status, page, _ = http(links["reject"], "POST")
    assert status == 200 and "Offer rejected" in page
    sync(book)
    assert [(e["kind"], e["start"]) for e in calendar(target.app)] == [
        ("client", at("2026-12-01T10:00"))
    ]
    assert views.show(book, session_id)["status"] == "requested"


def test_holds_expire_at_the_next_start_after_downtime(
    book: Book, target: Target, served: Served, clock: Clock
) -> None:
    _, links = offered(book, served)
    sync(book)
    deadline = datetime.fromtimestamp(
        int(links["1"].split("/")[-1].split(".")[2]), clock.now.tzinfo
    )
    # The daemon stops before the deadline and starts again three days after it:
    clock.now = deadline + timedelta(days=3)
    assert len([e for e in calendar(target.app) if e["kind"] == "hold"]) == 2  # nothing ran
    assert expire_offers(book) == 2  # what the daemon's first pass runs
    sync(book)
    assert [e["kind"] for e in calendar(target.app)] == ["client"]
    status, page, _ = http(links["1"], "POST")
    assert status == 410 and "expired" in page


def test_forged_links_get_a_clear_page_and_change_nothing(
    book: Book, target: Target, served: Served
) -> None:
    session_id, links = offered(book, served)
    token = links["1"].rsplit("/", 1)[-1]
    forged = [
        token.replace(".1.", ".2.", 1),
        token.replace(".1.", ".reject.", 1),
        token[:-3] + "abc",
        "1.1.99999999999.<script>",
    ]
    for bad in forged:
        for method in ("GET", "POST"):
            status, page, _ = http(f"{served.base}/offer/{bad}", method)
            assert status == 400 and "This link is not valid" in page, (bad, method)
            assert "<script>" not in page
    assert len(live_holds(book)) == 2
    assert views.show(book, session_id)["start"] == "2026-12-01T10:00:00+00:00"


def test_offer_email_has_one_link_per_time_and_a_reject_link(book: Book, served: Served) -> None:
    _, links = offered(book, served)
    (row,) = outbox(book)
    assert b"\r\n" in row.raw
    message = parsed(row)
    assert message.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert str(message["From"]) == "sessions@practice.example"
    assert str(message["Reply-To"]) == "Maia Jones <maia@practice.example>"
    assert str(message["To"]) == "Ana Lopez <ana@example.org>"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert LINK.findall(text) == [links["1"], links["2"], links["reject"]]
    assert sorted(set(LINK.findall(html))) == sorted(links.values())
    assert "Europe/London time" in text and "Wednesday 2 December 2026, 10:00–11:00" in text
    assert "Thursday 3 December 2026, 14:00–15:00" in html
    assert "text/calendar" not in row.raw.decode()


def test_two_clicks_at_once_act_once(book: Book, served: Served) -> None:
    session_id, links = offered(book, served)
    urls = [links["1"], links["2"], links["1"], links["reject"]]
    with ThreadPoolExecutor(len(urls)) as pool:
        statuses = list(pool.map(lambda u: http(u, "POST")[0], urls))
    assert sorted(statuses) == [200, 410, 410, 410]
    assert live_holds(book) == []
    with book.transaction() as db:
        answers = db.scalar(
            select(func.count()).where(
                AuditRow.entity_id == str(session_id), AuditRow.action.like("offer-%")
            )
        )
    assert answers == 1


def test_coach_deleting_or_moving_a_hold_in_the_calendar_gets_it_back(
    book: Book, target: Target, served: Served
) -> None:
    offered(book, served)
    sync(book)
    first, second = [h.uid for h in live_holds(book)]
    item = event_of(target.app, first)
    target.app.delete(item.href, item.etag)
    edit(target.app, second, move_to(at("2026-12-04T10:00"), at("2026-12-04T11:00")))
    sync(book)
    holds = [e for e in calendar(target.app) if e["kind"] == "hold"]
    assert [(e["uid"], e["start"]) for e in holds] == [
        (first, at("2026-12-02T10:00")),
        (second, at("2026-12-03T14:00")),
    ]
    assert len(live_holds(book)) == 2
    assert sync(book).actions == []
