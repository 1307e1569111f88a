"""The waitlist's two gaps closed (SQLite and PostgreSQL): a new session with the coach
takes a waitlisted client off that coach's waitlist (planned by the admin, booked on the
client's page, taken from an offer); a moved session's old time (moved by the admin, on
the client's page, by an accepted counter or page request, in the coach's calendar) and
the times an ordinary offer lets go (rejected, or the unchosen ones when one is picked)
are offered to the waitlist as a cancellation's time is."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from book_helpers import at, move, plan_one
from calbridge.book import Book, client_booking, client_moves, parties, planning, waitlist
from calbridge.book import client_page as cp
from calbridge.book.offers import make_offer
from calbridge.calendars.vdir import VdirStore
from calbridge.config.secret import load_secret
from calbridge.core.model import Actor
from calbridge.core.tokens import sign_client
from calbridge.inbound import counter
from clientpage.conftest import self_booking_book
from offers.helpers import live_holds

from .helpers import answer, outbox, waitlist_offers

MONDAY_10 = "2026-11-23T10:00"


def _visitor(book: Book, client: str) -> cp.Visitor:
    key = load_secret(book.settings)
    return cp.visitor(book, key, client, sign_client(key, client, 1))


def _states(book: Book) -> dict[tuple[str, str], str]:
    return {
        (e["client"], e["coach"]): e["state"] for e in waitlist.list_entries(book, everyone=True)
    }


def _offered(book: Book) -> dict[str, tuple[object, object]]:
    """Open waitlist offers: client -> (start, end) held."""
    return {c: (o.holds[0].start, o.holds[0].end) for c, o in waitlist_offers(book, "open").items()}


def test_a_session_planned_by_the_admin_takes_the_client_off_that_coachs_waitlist(
    book: Book,
) -> None:
    waitlist.add(book, "ben", "maia", "mon", None)
    waitlist.add(book, "ben", "maia", "wed", None)
    waitlist.add(book, "ben", "sam", None, None)
    waitlist.add(book, "eve", "maia", None, None)
    planning.cancel(book, plan_one(book, MONDAY_10, clients=("dee",)).id or 0, Actor.ADMIN)
    assert sorted(_offered(book)) == ["ben", "eve"]

    session = plan_one(book, "2026-11-25T10:00", clients=("ben",))

    assert [e["state"] for e in waitlist.list_entries(book, "maia", everyone=True)][:2] == [
        "booked",
        "booked",
    ]
    entries = waitlist.list_entries(book, "maia", everyone=True)
    assert {e["session"] for e in entries if e["client"] == "ben"} == {session.id}
    assert _states(book)[("ben", "sam")] == "waiting", "another coach's waitlist is kept"
    assert waitlist_offers(book)["ben"].state == "withdrawn"
    assert sorted(_offered(book)) == ["eve"]
    assert [h.start for h in live_holds(book)] == [at(MONDAY_10)], "Eve's hold only"
    (gone,) = [r for r in outbox(book, "waitlist-gone") if r.recipient == "ben@example.org"]
    body = message_from_bytes(gone.raw, policy=policy.default).get_body(("plain",))
    assert body is not None
    text = str(body.get_content())  # type: ignore[attr-defined]
    assert "you now have a session booked with Maia Jones" in text
    assert "stay on the waitlist" not in text
    # A later freed time goes to others, never to Ben again.
    planning.cancel(book, plan_one(book, "2026-11-30T10:00", clients=("dee",)).id or 0, Actor.ADMIN)
    assert "ben" not in _offered(book)


def test_indirect_work_and_other_coaches_sessions_keep_the_wish(book: Book) -> None:
    waitlist.add(book, "ben", "maia", None, None)
    plan_one(book, "2026-11-24T10:00", clients=("ben",), direct=False)
    plan_one(book, "2026-11-25T15:00", clients=("ben",), coach="sam")
    assert _states(book) == {("ben", "maia"): "waiting"}


def test_booking_on_the_page_takes_the_client_off(
    make_book: Callable[..., Book], tmp_path: Path
) -> None:
    b = self_booking_book(make_book, tmp_path)  # Ana has had a session with Maia
    waitlist.add(b, "ana", "maia", None, None)
    v = _visitor(b, "ana")
    _, slots, _ = client_booking.times(b, v, "maia", "2026-12", None)
    made = client_booking.book_session(b, v, "maia", slots[0][0])
    (entry,) = waitlist.list_entries(b, everyone=True)
    assert (entry["state"], entry["session"]) == ("booked", made.id)


def test_a_session_taken_from_a_waitlist_offer_books_the_wish(book: Book) -> None:
    waitlist.add(book, "ben", "maia", None, None)
    planning.cancel(book, plan_one(book, MONDAY_10, clients=("dee",)).id or 0, Actor.ADMIN)
    done = answer(book, waitlist_offers(book)["ben"].id)
    assert done.done
    (entry,) = waitlist.list_entries(book, everyone=True)
    assert (
        entry["state"] == "booked" and entry["session"] == waitlist_offers(book)["ben"].session_id
    )


@pytest.mark.parametrize("how", ["admin", "page", "page-request", "counter-accept"])
def test_a_moved_sessions_old_time_goes_to_the_waitlist(book: Book, how: str) -> None:
    session = plan_one(book, MONDAY_10, clients=("dee",))
    waitlist.add(book, "ben", "maia", "mon", "09:00-12:00")
    new_time = at("2026-11-24T10:00")
    if how == "admin":
        move(book, session.id or 0, "2026-11-24T10:00")
    elif how == "page":
        client_moves.move(book, _visitor(book, "dee"), session.id or 0, new_time)
    else:  # asked for on the page, left for the coach, accepted by the admin
        book.settings.policies.page_move = "coach"
        asked = client_moves.move(book, _visitor(book, "dee"), session.id or 0, new_time)
        assert isinstance(asked, client_moves.Asked)
        assert _offered(book) == {}, "nothing moved yet: nothing freed"
        counter.accept(book, asked.request_id)
    assert _offered(book) == {"ben": (at(MONDAY_10), at("2026-11-23T11:00"))}
    (mail,) = outbox(book, "waitlist-offer")
    assert mail.recipient == "ben@example.org"
    assert "Monday 23 November 2026, 10:00" in mail.raw.decode()


def test_a_move_within_its_own_time_frees_only_what_it_left(book: Book) -> None:
    session = plan_one(book, MONDAY_10, clients=("dee",), minutes=90)
    waitlist.add(book, "ben", "maia", None, None)
    move(book, session.id or 0, "2026-11-23T10:30")  # 10:00-11:30 -> 10:30-12:00
    assert _offered(book) == {}, "10:00-11:00 overlaps the session's new time"


def test_an_ordinary_offer_rejected_offers_its_times(book: Book) -> None:
    session = plan_one(book, MONDAY_10, clients=("dee",))
    times = [at("2026-11-24T15:00"), at("2026-11-25T15:00")]
    made = make_offer(book, session.id or 0, times)
    waitlist.add(book, "ben", "maia", "tue", None)
    waitlist.add(book, "eve", "maia", "wed", None)
    assert _offered(book) == {}, "the times are held for Dee"
    answer(book, made.offer_id, "reject")
    offered = _offered(book)
    assert offered["ben"][0] == times[0] and offered["eve"][0] == times[1]


def test_an_ordinary_offer_picked_offers_the_old_time_and_the_unchosen_one(book: Book) -> None:
    session = plan_one(book, MONDAY_10, clients=("dee",))
    times = [at("2026-11-24T15:00"), at("2026-11-25T15:00")]
    made = make_offer(book, session.id or 0, times)
    waitlist.add(book, "ben", "maia", "mon", None)
    waitlist.add(book, "eve", "maia", "wed", None)
    waitlist.add(book, "cy", "maia", "tue", None)
    answer(book, made.offer_id, "1")  # Dee takes Tuesday 15:00
    offered = _offered(book)
    assert offered == {
        "ben": (at(MONDAY_10), at("2026-11-23T11:00")),
        "eve": (times[1], at("2026-11-25T16:00")),
    }, "Tuesday 15:00 is Dee's now: Cy is offered nothing"


def test_a_move_in_the_coachs_calendar_offers_the_old_time(
    make_book: Callable[..., Book], tmp_path: Path
) -> None:
    from conftest import base_config
    from sync.e2e_helpers import edit, move_to, sync

    folder = tmp_path / "calendar"
    coaches = base_config("")["coaches"]
    coaches[0]["calendar"] = {"url": str(folder)}
    b = make_book(coaches=coaches, mail={"from": "sessions@practice.example"})
    parties.add_client(b, "Dee Roy", "dee@example.org", "intensive", "dee")
    parties.add_client(b, "Ben Ng", "ben@example.org", "standard", "ben")
    session = plan_one(b, MONDAY_10, clients=("dee",))
    waitlist.add(b, "ben", "maia", None, None)
    sync(b)
    edit(VdirStore(folder), session.uid, move_to(at("2026-11-24T14:00"), at("2026-11-24T15:00")))
    report = sync(b)
    assert report.count("import") == 1 and not report.refused
    assert _offered(b) == {"ben": (at(MONDAY_10), at("2026-11-23T11:00"))}
