"""Booking a new session from the client page (where the program allows it), on SQLite
and PostgreSQL: a free slot of the first month with room, planned by the client."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from book_helpers import at, plan_one, snapshot
from calbridge.book import Book, client_booking, parties
from calbridge.book import client_page as cp
from calbridge.book.offer_answers import LinkError
from calbridge.config.secret import load_secret
from calbridge.core.model import Side, Status
from calbridge.core.tokens import sign_client
from calbridge.web.client_page import client_routes
from servers.threaded import serving_app

SELF = {"standard": {"monthly_limit": 2, "self_booking": True}, "closed": {"monthly_limit": 2}}


@pytest.fixture
def selfbook(make_book: Callable[..., Book], tmp_path: Path) -> Book:
    b = make_book(state_dir=str(tmp_path / "state"), programs=SELF)
    parties.add_client(b, "Ana Lopez", "ana@example.org", "standard", "ana")
    parties.add_client(b, "Ben Ng", "ben@example.org", "closed", "ben")
    return b


def _v(book: Book, client: str) -> cp.Visitor:
    key = load_secret(book.settings)
    return cp.visitor(book, key, client, sign_client(key, client, 1))


def test_book_in_the_first_month_with_room(selfbook: Book) -> None:
    plan_one(selfbook, "2026-11-23T10:00")
    plan_one(selfbook, "2026-11-24T10:00")  # November is full
    v = _v(selfbook, "ana")
    assert client_booking.coaches(selfbook, v) == [("maia", "Maia Jones")]
    month, slots, more = client_booking.times(selfbook, v, "maia", None, None)
    assert month == "2026-12" and more and slots[0][0] == at("2026-12-01T09:00")
    made = client_booking.book_session(selfbook, v, "maia", slots[1][0])
    assert (made.start, made.status, made.awaiting) == (
        slots[1][0],
        Status.REQUESTED,
        Side.PRACTICE,
    )
    assert made.clients == ["ana"]
    before = snapshot(selfbook)
    with pytest.raises(LinkError) as full:
        client_booking.times(selfbook, v, "maia", "2026-11", None)
    assert full.value.message == "Your program allows no more sessions in that month."
    for start in ("2026-11-25T10:00", "2026-12-01T10:00", "2026-12-05T10:00"):  # full, taken, Sat
        with pytest.raises(LinkError):
            client_booking.book_session(selfbook, v, "maia", at(start))
    assert snapshot(selfbook) == before


def test_no_booking_without_the_program_or_a_coach(selfbook: Book) -> None:
    assert client_booking.coaches(selfbook, _v(selfbook, "ana")) == []  # no coach seen yet
    plan_one(selfbook, "2026-12-01T10:00", clients=("ben",))
    ben = _v(selfbook, "ben")
    assert client_booking.coaches(selfbook, ben) == []  # the program does not allow it
    before = snapshot(selfbook)
    with pytest.raises(LinkError) as closed:
        client_booking.book_session(selfbook, ben, "maia", at("2026-12-02T10:00"))
    assert closed.value.status == 403 and snapshot(selfbook) == before
    plan_one(selfbook, "2026-12-03T10:00")
    with pytest.raises(LinkError) as other:  # ana has not seen sam
        client_booking.times(selfbook, _v(selfbook, "ana"), "sam", None, None)
    assert other.value.status == 403


def test_book_over_http(selfbook: Book) -> None:
    plan_one(selfbook, "2026-12-01T10:00")
    with serving_app([client_routes(selfbook, selfbook.settings)]) as base:
        selfbook.settings.http.public_url = base
        key = load_secret(selfbook.settings)
        page = f"{base}/client/ana/{sign_client(key, 'ana', 1)}"
        text = requests.get(page, timeout=10).text
        assert "Book a session with Maia Jones" in text
        form = re.search(r'name="form" value="([^"]+)"', text)
        assert form
        times = requests.post(f"{page}/book", data={"form": form[1], "coach": "maia"}, timeout=10)
        starts = re.findall(r'name="start" value="([^"]+)"', times.text)
        assert times.status_code == 200 and starts
        made = requests.post(
            f"{page}/book", data={"form": form[1], "coach": "maia", "start": starts[0]}, timeout=10
        )
        assert made.status_code == 200 and "Session requested" in made.text
        refused = requests.post(f"{page}/book", data={"coach": "maia"}, timeout=10)
        assert refused.status_code == 403  # no form token
