"""The waitlist through the book (SQLite and PostgreSQL): freed times are offered to the
first fitting waitlisted clients, the first to accept gets it, the others are told."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from book_helpers import at, plan_one, snapshot
from calbridge.book import Book, archive, closures, planning, views, waitlist
from calbridge.book.offer_admin import cancel_offer
from calbridge.book.offer_answers import LinkError
from calbridge.book.offers import expire_offers, make_offer
from calbridge.core.model import Actor
from calbridge.errors import NotFound, Refused, UserError
from calbridge.store.tables import SessionRow
from conftest import Clock
from offers.helpers import live_holds
from servers.twilio_fake import FakeTwilio
from sms.conftest import send

from .conftest import ANA, CY
from .helpers import answer, link, outbox, use, waitlist_offers

MONDAY_10 = "2026-11-23T10:00"


def test_a_cancellation_goes_to_the_first_fitting_waitlisted_client(
    book: Book, twilio: FakeTwilio
) -> None:
    session = plan_one(book, MONDAY_10, clients=("dee",))
    plan_one(book, "2026-11-24T10:00", clients=("cy",))  # Cy's November (limit 1) is full
    waitlist.add(book, "cy", "maia", None, None)
    waitlist.add(book, "ben", "maia", "tue,thu", None)  # wrong day
    waitlist.add(book, "eve", "maia", None, "14:00-17:00")  # wrong time of day
    waitlist.add(book, "ana", "maia", "mon", "09:30-12:00")
    waitlist.add(book, "dee", "sam", None, None)  # another coach's waitlist
    assert waitlist_offers(book) == {}

    planning.cancel(book, session.id or 0, Actor.COACH, reason="moved abroad")

    offered = waitlist_offers(book)
    assert list(offered) == ["ana"]
    hold = offered["ana"].holds[0]
    assert (hold.start, hold.end) == (at(MONDAY_10), at("2026-11-23T11:00"))
    assert [h.uid for h in live_holds(book)] == [hold.uid], "held as a tentative event"
    (mail,) = outbox(book, "waitlist-offer")
    assert mail.recipient == "ana@example.org"
    body = mail.raw.decode()
    assert "has come free" in body and "Monday 23 November 2026, 10:00" in body
    send(book)
    assert twilio.to() == [ANA]
    (text,) = twilio.bodies()
    assert text.startswith("A time with Maia Jones came free: Mon 23 Nov 10:00 (Europe/London)")
    assert "/offer/" in text
    (entry,) = [e for e in waitlist.list_entries(book, "maia") if e["client"] == "ana"]
    assert [(o["state"], o["start"]) for o in entry["offers"]] == [
        ("open", "2026-11-23T10:00:00+00:00")
    ]


def test_first_to_accept_gets_it_the_others_are_told_it_is_gone(
    book: Book, twilio: FakeTwilio
) -> None:
    session = plan_one(book, MONDAY_10, clients=("dee",), private_note="PRIVATE-NOTE")
    for client in ("ben", "ana", "cy"):
        waitlist.add(book, client, "maia", None, None)
    planning.cancel(book, session.id or 0, Actor.ADMIN)
    offered = waitlist_offers(book)
    assert sorted(offered) == ["ana", "ben", "cy"]
    assert len(live_holds(book)) == 3

    ana_link = link(book, offered["ana"].id)
    done = answer(book, offered["ben"].id)
    assert done.done and done.start == at(MONDAY_10)

    after = waitlist_offers(book)
    assert (after["ben"].state, after["ana"].state, after["cy"].state) == (
        "accepted",
        "taken",
        "taken",
    )
    assert live_holds(book) == []
    new = views.show(book, after["ben"].session_id or 0)
    assert (new["clients"], new["status"], new["start"]) == (
        ["ben"],
        "scheduled",
        "2026-11-23T10:00:00+00:00",
    )
    gone = outbox(book, "waitlist-gone")
    assert sorted(r.recipient for r in gone) == ["ana@example.org", "cy@example.org"]
    assert all("is gone" in r.raw.decode() for r in gone)
    send(book)
    gone_texts = [b for b in twilio.bodies() if "is gone" in b]
    assert sorted(
        t for t, b in zip(twilio.to(), twilio.bodies(), strict=True) if b in gone_texts
    ) == [
        ANA,
        CY,
    ]
    assert not any("PRIVATE-NOTE" in b for b in twilio.bodies())
    with pytest.raises(LinkError) as late:
        use(book, ana_link)
    assert late.value.status == 410 and "took this time first" in late.value.message
    # Ben leaves the waitlist; Ana and Cy keep waiting.
    waiting = {e["client"]: e for e in waitlist.list_entries(book, everyone=True)}
    assert (waiting["ben"]["state"], waiting["ben"]["session"]) == ("booked", new["id"])
    assert waiting["ana"]["state"] == waiting["cy"]["state"] == "waiting"


def test_when_every_offered_client_lets_it_go_the_next_one_is_offered(book: Book) -> None:
    session = plan_one(book, MONDAY_10, clients=("dee",))
    for client in ("ana", "ben", "cy", "eve"):
        waitlist.add(book, client, "maia", None, None)
    planning.cancel(book, session.id or 0, Actor.ADMIN)
    first = waitlist_offers(book)
    assert sorted(first) == ["ana", "ben", "cy"]
    answer(book, first["ana"].id, "reject")
    answer(book, first["ben"].id, "reject")
    assert "eve" not in waitlist_offers(book), "Cy's hold still holds the time"
    answer(book, first["cy"].id, "reject")
    again = waitlist_offers(book, "open")
    assert list(again) == ["eve"], "the ones who let it go are not asked again"


def test_an_expired_offer_frees_its_times_for_the_waitlist(book: Book, clock: Clock) -> None:
    session = plan_one(book, MONDAY_10, clients=("dee",))
    make_offer(book, session.id or 0, [at("2026-11-24T15:00")], hold_hours=2)
    waitlist.add(book, "ana", "maia", "tue", "14:00-17:00")
    assert waitlist_offers(book) == {}
    clock.now += timedelta(hours=3)
    expire_offers(book)
    hold = waitlist_offers(book)["ana"].holds[0]
    assert hold.start == at("2026-11-24T15:00")


def test_a_month_full_by_the_time_of_the_yes_is_refused_and_nothing_changes(
    book: Book,
) -> None:
    session = plan_one(book, MONDAY_10, clients=("dee",))
    waitlist.add(book, "cy", "maia", None, None)
    planning.cancel(book, session.id or 0, Actor.ADMIN)
    offer = waitlist_offers(book)["cy"]
    # Cy's only November session, with another coach (one with Maia would take Cy off
    # Maia's waitlist, and withdraw the offer)
    plan_one(book, "2026-11-25T10:00", clients=("cy",), coach="sam")
    before = snapshot(book)
    with pytest.raises(LinkError) as refused:
        answer(book, offer.id)
    assert refused.value.status == 409
    assert snapshot(book) == before and waitlist_offers(book)["cy"].state == "open"


def test_a_removed_closure_offers_its_free_times(book: Book) -> None:
    waitlist.add(book, "ana", "maia", "wed", "14:00-16:00")
    waitlist.add(book, "ben", "maia", "thu", None)
    added = closures.add_closure(
        book, date(2026, 11, 25), date(2026, 11, 25), "training", "maia",
        closures.ClosureMode.NOTIFY_AND_CANCEL,
    )  # fmt: skip
    assert waitlist_offers(book) == {}
    closures.remove_closure(book, added.closure.id or 0)
    offered = waitlist_offers(book)
    assert list(offered) == ["ana"], "Ben waits for a Thursday"
    hold = offered["ana"].holds[0]
    assert (hold.start, hold.end) == (at("2026-11-25T14:00"), at("2026-11-25T15:00"))


def test_offer_cancel_texts_a_client_who_chose_texts(book: Book, twilio: FakeTwilio) -> None:
    session = plan_one(book, MONDAY_10, clients=("ana",), private_note="PRIVATE-NOTE")
    made = make_offer(book, session.id or 0, [at("2026-11-24T10:00"), at("2026-11-25T11:00")])
    send(book)
    offered = len(twilio.bodies())
    cancel_offer(book, made.offer_id, "the coach found a way")
    (row,) = outbox(book, "offer-cancelled", "sms")
    assert row.recipient == ANA
    send(book)
    text = twilio.bodies()[offered:][-1]
    assert text.startswith("Maia Jones withdrew the times offered (Tue 24 Nov 10:00")
    assert "Your session keeps its time" in text and "PRIVATE-NOTE" not in text


def test_remove_withdraws_an_open_offer_and_tells_the_client(book: Book) -> None:
    session = plan_one(book, MONDAY_10, clients=("dee",))
    entry = waitlist.add(book, "ben", "maia", None, None)
    planning.cancel(book, session.id or 0, Actor.ADMIN)
    removed = waitlist.remove(book, entry["id"])
    assert removed["state"] == "removed" and removed["offers"][0]["state"] == "withdrawn"
    assert live_holds(book) == []
    (told,) = outbox(book, "waitlist-gone")
    assert "taken off the waitlist" in told.raw.decode()
    assert "stay on the waitlist" not in told.raw.decode()
    assert waitlist.list_entries(book) == []
    with pytest.raises(Refused, match="not waiting"):
        waitlist.remove(book, entry["id"])


def test_bad_wishes_are_refused_with_the_flag_named_and_nothing_written(book: Book) -> None:
    before = snapshot(book)
    with pytest.raises(UserError, match="--on 'mon,someday'"):
        waitlist.add(book, "ana", "maia", "mon,someday", None)
    with pytest.raises(UserError, match="--between '17:00-09:00'"):
        waitlist.add(book, "ana", "maia", None, "17:00-09:00")
    with pytest.raises(NotFound, match="unknown client 'zed'"):
        waitlist.add(book, "zed", "maia", None, None)
    with pytest.raises(UserError, match="coach"):
        waitlist.add(book, "ana", "nobody", None, None)
    with pytest.raises(NotFound, match="no waitlist entry #7"):
        waitlist.remove(book, 7)
    assert snapshot(book) == before and waitlist.list_entries(book, everyone=True) == []
    waitlist.add(book, "ana", "maia", "mon", None)
    with pytest.raises(Refused, match="already on coach maia's waitlist"):
        waitlist.add(book, "ana", "maia", "monday", None)
    archive.set_archived(book, "client", "eve", True)
    with pytest.raises(Refused, match="archived"):
        waitlist.add(book, "eve", "maia", None, None)


def test_a_declined_session_frees_its_time_too(book: Book) -> None:
    session = plan_one(book, MONDAY_10, clients=("dee",))
    waitlist.add(book, "ana", "maia", None, None)
    planning.answer(book, session.id or 0, Actor.CLIENT, False, "dee")
    assert list(waitlist_offers(book)) == ["ana"]
    waitlist.add(book, "ben", "maia", None, None)
    planning.cancel(book, plan_one(book, "2026-11-24T10:00", clients=("dee",)).id or 0, Actor.ADMIN)
    assert sorted(waitlist_offers(book)) == ["ana", "ben"], "Ana: one open offer at a time"


def test_rival_yeses_at_once_book_the_time_once(book: Book) -> None:
    session = plan_one(book, MONDAY_10, clients=("dee",))
    for client in ("ana", "ben", "cy"):
        waitlist.add(book, client, "maia", None, None)
    planning.cancel(book, session.id or 0, Actor.ADMIN)
    urls = [link(book, o.id) for o in waitlist_offers(book).values()]

    def click(url: str) -> int:
        try:
            use(book, url)
        except LinkError as error:
            return error.status
        return 200

    with ThreadPoolExecutor(len(urls)) as pool:
        statuses = sorted(pool.map(click, urls))
    assert statuses == [200, 410, 410]
    states = sorted(o.state for o in waitlist_offers(book).values())
    assert states == ["accepted", "taken", "taken"]
    with book.transaction() as db:
        query = select(SessionRow).where(SessionRow.start == at(MONDAY_10))
        rows = list(db.scalars(query))
    assert sorted(r.status for r in rows) == ["cancelled", "scheduled"], "booked once"
