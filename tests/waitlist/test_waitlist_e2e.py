"""A waitlisted client gets a freed time end to end: book → real Radicale calendar (the
holds as tentative events), the offer link over real HTTP, the session confirmed in the
calendar."""

from __future__ import annotations

import re

import pytest

from book_helpers import at, plan_one
from calbridge.book import Book, planning, waitlist
from calbridge.core.model import Actor
from offers.conftest import Served, served, synced_book, target  # noqa: F401
from offers.helpers import http, outbox, parsed
from offers.test_offer_e2e import calendar
from sync.conftest import radicale  # noqa: F401
from sync.e2e_helpers import Target, sync

LINK = re.compile(r"https?://[^\s\"<>]+/offer/[^\s\"<>]+")


@pytest.fixture
def book(synced_book: Book) -> Book:  # noqa: F811
    return synced_book


def _links(book: Book) -> dict[str, str]:
    """The "take it" link of each waitlist offer mail, by recipient."""
    found = {}
    for row in outbox(book, "waitlist-offer"):
        text = parsed(row).get_body(("plain",))
        assert text is not None
        found[row.recipient] = LINK.findall(text.get_content())[0]
    return found


def test_a_waitlisted_client_gets_a_freed_slot(
    book: Book,
    target: Target,  # noqa: F811
    served: Served,  # noqa: F811
) -> None:
    session = plan_one(book, "2026-12-01T10:00", clients=("ben",))
    waitlist.add(book, "ana", "maia", "tue", "09:00-12:00")
    sync(book)
    planning.cancel(book, session.id or 0, Actor.CLIENT, reason="cannot come")
    sync(book)
    holds = [e for e in calendar(target.app) if e["kind"] == "hold"]
    assert [(e["status"], e["transp"], e["start"]) for e in holds] == [
        ("TENTATIVE", "OPAQUE", at("2026-12-01T10:00"))
    ]
    link = _links(book)["ana@example.org"]
    assert link.startswith(served.base)
    status, page, _ = http(link)  # a mail scanner's GET changes nothing
    assert status == 200 and '<form method="post">' in page
    status, page, _ = http(link, "POST")
    assert status == 200 and "Time confirmed" in page
    sync(book)
    events = [(e["kind"], e["status"], e["start"]) for e in calendar(target.app)]
    assert ("client", "CONFIRMED", at("2026-12-01T10:00")) in events
    assert not [e for e in events if e[0] == "hold"]
    assert waitlist.list_entries(book) == []
    assert sync(book).actions == []


def test_a_time_left_by_a_move_on_the_client_page_goes_to_the_waitlist(
    book: Book,
    target: Target,  # noqa: F811
) -> None:
    """Ben moves his session on his own page (real HTTP); the time he left is held for
    Ana, who takes it by her offer link: both end up in the coach's Radicale calendar."""
    import requests

    from calbridge.config.secret import load_secret
    from calbridge.core.tokens import sign_client
    from calbridge.web.client_page import client_routes
    from calbridge.web.offers import offer_routes
    from servers.threaded import serving_app

    session = plan_one(book, "2026-12-01T10:00", clients=("ben",))
    waitlist.add(book, "ana", "maia", "tue", "09:00-12:00")
    sync(book)
    with serving_app([client_routes(book, book.settings), offer_routes(book, book.settings)]) as b:
        book.settings.http.public_url = b
        page = f"{b}/client/ben/{sign_client(load_secret(book.settings), 'ben', 1)}"
        form = re.findall(r'name="form" value="([^"]+)"', requests.get(page, timeout=10).text)[0]
        fields = {"form": form, "session": str(session.id), "start": "2026-12-03T14:00:00+00:00"}
        moved = requests.post(f"{page}/move", data=fields, timeout=10)
        assert moved.status_code == 200 and "Session moved" in moved.text
        sync(book)
        holds = [e for e in calendar(target.app) if e["kind"] == "hold"]
        assert [(e["status"], e["start"]) for e in holds] == [("TENTATIVE", at("2026-12-01T10:00"))]
        link = _links(book)["ana@example.org"]
        status, taken, _ = http(link, "POST")
        assert status == 200 and "Time confirmed" in taken
    sync(book)
    events = sorted((e["start"], e["kind"], e["status"]) for e in calendar(target.app))
    assert events == [
        (at("2026-12-01T10:00"), "client", "CONFIRMED"),
        (at("2026-12-03T14:00"), "client", "CONFIRMED"),
    ]
    assert waitlist.list_entries(book) == []
