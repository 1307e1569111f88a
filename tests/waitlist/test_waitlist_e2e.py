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
