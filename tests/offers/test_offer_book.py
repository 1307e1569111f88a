"""Offers in the book (SQLite and PostgreSQL): holds, limits, answers, expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from icalendar import Calendar as ICalendar
from sqlalchemy import select

from book_helpers import at, plan, plan_one, snapshot
from calbridge.book import Book, closures, views
from calbridge.book.offer_answers import LinkError, act, look
from calbridge.book.offers import expire_offers
from calbridge.book.planning import cancel
from calbridge.config.secret import load_secret
from calbridge.core.model import Actor
from calbridge.core.timeutil import parse_date
from calbridge.errors import Refused, UserError
from calbridge.store.tables import ChangeRow, OutboxRow
from conftest import Clock
from offers.helpers import holds, live_holds, offer, offer_state, outbox, parsed, token_of

DEC_1 = "2026-12-01T10:00"


def count_offer_rows(book: Book) -> tuple[int, int, int, int, int]:
    return (*snapshot(book), len(holds(book)), len(outbox(book)))


def test_offer_holds_times_queues_one_mail_and_keeps_session_requested(book: Book) -> None:
    s = plan_one(book, DEC_1)
    made = offer(book, s.id or 0, "2026-12-03T14:00", "2026-12-02T10:00")
    assert [h["start"] for h in made.holds] == [
        "2026-12-02T10:00:00+00:00",
        "2026-12-03T14:00:00+00:00",
    ]
    assert sorted(made.links) == ["1", "2", "reject"]
    assert made.deadline == at("2026-11-22T12:00")  # 24 h by default
    assert views.show(book, s.id or 0)["status"] == "requested"
    (row,) = outbox(book)
    assert (row.kind, row.recipient, row.session_id) == ("offer", "ana@example.org", s.id)
    assert [h.start for h in live_holds(book)] == [at("2026-12-02T10:00"), at("2026-12-03T14:00")]
    assert all(h.uid.startswith("calbridge-hold-") for h in holds(book))


def test_hold_hours_option_and_config(book: Book, make_book: object) -> None:
    s = plan_one(book, DEC_1)
    made = offer(book, s.id or 0, "2026-12-02T10:00", hold_hours=2)
    assert made.deadline == at("2026-11-21T14:00")
    with pytest.raises(UserError, match="hold-hours"):
        offer(book, plan_one(book, "2026-12-01T14:00").id or 0, "2026-12-02T14:00", hold_hours=0)


def test_holds_make_the_coach_busy_for_planning(book: Book) -> None:
    s = plan_one(book, DEC_1)
    offer(book, s.id or 0, "2026-12-02T10:00")
    with pytest.raises(Refused, match="held for offer") as refused:
        plan(book, "2026-12-02T10:30", clients=("ben",))
    assert refused.value.code == "unavailable"
    other = plan_one(book, "2026-12-01T14:00", clients=("ben",))
    with pytest.raises(Refused, match="held for offer"):  # nor offered to someone else
        offer(book, other.id or 0, "2026-12-02T10:00")
    slots = views.slots(book, "maia", "ben", "2026-12", timedelta(minutes=60))["slots"]
    starts = [x["start"] for x in slots]
    assert "2026-12-02T09:00:00+00:00" in starts and "2026-12-02T11:00:00+00:00" in starts
    assert not [x for x in starts if x.startswith(("2026-12-02T10", "2026-12-02T09:30"))]


@pytest.mark.parametrize(
    ("when", "code"),
    [
        ("2026-12-07T10:00", "closure"),
        ("2026-12-02T07:00", "unavailable"),  # before working hours
        ("2026-12-01T10:30", "unavailable"),  # over Ben's session (its own time is no bar)
    ],
)
def test_offer_refused_like_planning_writes_nothing(book: Book, when: str, code: str) -> None:
    s = plan_one(book, DEC_1)
    plan_one(book, "2026-12-01T10:30", clients=("ben",), override_availability=True)
    closures.add_closure(
        book,
        parse_date("2026-12-07"),
        parse_date("2026-12-07"),
        "Holiday",
        None,
        closures.ClosureMode.CANCEL_ONLY,
    )
    before = count_offer_rows(book)
    with pytest.raises(Refused) as refused:
        offer(book, s.id or 0, "2026-12-02T10:00", when)
    assert refused.value.code == code
    assert count_offer_rows(book) == before


def test_offer_into_full_month_is_refused_but_own_month_is_fine(book: Book) -> None:
    s = plan_one(book, DEC_1)
    plan_one(book, "2027-01-05T10:00")
    plan_one(book, "2027-01-12T10:00")
    before = count_offer_rows(book)
    with pytest.raises(Refused) as refused:
        offer(book, s.id or 0, "2026-12-02T10:00", "2027-01-19T10:00")
    assert refused.value.code == "monthly_limit" and refused.value.details["month"] == "2027-01"
    assert count_offer_rows(book) == before
    plan_one(book, "2026-12-08T10:00")  # December now full, the session itself included
    assert offer(book, s.id or 0, "2026-12-15T10:00").holds


def test_bad_offers_are_refused(book: Book) -> None:
    s = plan_one(book, DEC_1)
    with pytest.raises(UserError, match="past"):
        offer(book, s.id or 0, "2026-11-20T10:00")
    with pytest.raises(UserError, match="twice"):
        offer(book, s.id or 0, "2026-12-02T10:00", "2026-12-02T10:00")
    (group,) = plan(book, "2026-12-04T10:00", clients=("ana", "ben"))
    with pytest.raises(UserError, match="group"):
        offer(book, group.id or 0, "2026-12-02T10:00")
    offer(book, s.id or 0, "2026-12-02T10:00")
    with pytest.raises(Refused, match="already has offer"):
        offer(book, s.id or 0, "2026-12-03T10:00")
    cancel(book, group.id or 0, Actor.ADMIN)
    with pytest.raises(Refused, match="cancelled"):
        offer(book, group.id or 0, "2026-12-03T10:00")


def test_accept_moves_confirms_releases_and_works_once(book: Book) -> None:
    s = plan_one(book, DEC_1)
    made = offer(book, s.id or 0, "2026-12-02T10:00", "2026-12-03T14:00")
    secret = load_secret(book.settings)
    seen = look(book, secret, token_of(made.links["2"]))
    assert (seen.start, seen.done) == (at("2026-12-03T14:00"), False)
    assert views.show(book, s.id or 0)["start"].startswith("2026-12-01T10:00")  # GET: no change
    done = act(book, secret, token_of(made.links["2"]))
    assert done.done
    shown = views.show(book, s.id or 0)
    assert (shown["start"], shown["status"]) == ("2026-12-03T14:00:00+00:00", "scheduled")
    assert shown["audit"][-1]["action"] == "offer-accepted"
    assert shown["partstat"] == {"ana": "ACCEPTED"}
    assert live_holds(book) == [] and offer_state(book, made.offer_id) == "accepted"
    for choice in ("2", "1", "reject"):
        with pytest.raises(LinkError) as used:
            act(book, secret, token_of(made.links[choice]))
        assert used.value.status == 410
    assert views.show(book, s.id or 0)["start"] == "2026-12-03T14:00:00+00:00"


def test_accept_rechecks_the_limit_and_changes_nothing_when_full(book: Book) -> None:
    s = plan_one(book, DEC_1)
    made = offer(book, s.id or 0, "2027-01-19T10:00")
    plan_one(book, "2027-01-05T10:00")
    plan_one(book, "2027-01-12T10:00")  # January filled up after the offer
    before = count_offer_rows(book)
    with pytest.raises(LinkError) as refused:
        act(book, load_secret(book.settings), token_of(made.links["1"]))
    assert refused.value.status == 409
    assert count_offer_rows(book) == before
    assert offer_state(book, made.offer_id) == "open" and len(live_holds(book)) == 1


def test_reject_releases_all_and_leaves_the_session(book: Book) -> None:
    s = plan_one(book, DEC_1)
    made = offer(book, s.id or 0, "2026-12-02T10:00", "2026-12-03T14:00")
    act(book, load_secret(book.settings), token_of(made.links["reject"]))
    shown = views.show(book, s.id or 0)
    assert (shown["start"], shown["status"]) == ("2026-12-01T10:00:00+00:00", "requested")
    assert live_holds(book) == [] and offer_state(book, made.offer_id) == "rejected"
    with book.transaction() as db:
        topics = list(db.scalars(select(ChangeRow.topic).order_by(ChangeRow.id)))
    assert topics[-1] == "offer.rejected"
    plan_one(book, "2026-12-02T10:00", clients=("ben",))  # the time is free again


def test_forged_link_changes_nothing(book: Book) -> None:
    s = plan_one(book, DEC_1)
    made = offer(book, s.id or 0, "2026-12-02T10:00")
    token = token_of(made.links["1"])
    before = count_offer_rows(book)
    for forged in (token.replace(".1.", ".reject."), token[:-2] + "xx", "garbage"):
        with pytest.raises(LinkError) as bad:
            act(book, load_secret(book.settings), forged)
        assert bad.value.status == 400
    assert count_offer_rows(book) == before and offer_state(book, made.offer_id) == "open"


def test_expiry_after_the_deadline_even_when_run_late(book: Book, clock: Clock) -> None:
    s = plan_one(book, DEC_1)
    made = offer(book, s.id or 0, "2026-12-02T10:00", "2026-12-03T14:00")
    assert expire_offers(book) == 0
    clock.now = made.deadline - timedelta(seconds=1)
    assert expire_offers(book) == 0 and len(live_holds(book)) == 2
    clock.now = made.deadline + timedelta(days=3)  # nothing ran at the deadline itself
    plan(book, "2026-12-02T10:00", clients=("ben",))  # a due hold is no longer busy time
    assert expire_offers(book) == 2 and expire_offers(book) == 0
    assert live_holds(book) == [] and offer_state(book, made.offer_id) == "expired"
    with pytest.raises(LinkError) as late:
        act(book, load_secret(book.settings), token_of(made.links["1"]))
    assert late.value.status == 410
    assert views.show(book, s.id or 0)["status"] == "requested"


def test_cancelled_session_withdraws_its_offer(book: Book) -> None:
    s = plan_one(book, DEC_1)
    made = offer(book, s.id or 0, "2026-12-02T10:00")
    cancel(book, s.id or 0, Actor.ADMIN)
    assert expire_offers(book) == 1
    assert offer_state(book, made.offer_id) == "withdrawn"


def test_state_secret_is_generated_once_with_mode_0600(book: Book) -> None:
    first = load_secret(book.settings)
    path = book.settings.state_dir / "http-secret"
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_secret(book.settings) == first and len(first) >= 32


def test_offer_mail_is_queued_in_the_offer_transaction(book: Book) -> None:
    s = plan_one(book, DEC_1)
    with pytest.raises(Refused):
        offer(book, s.id or 0, "2026-12-02T10:00", "2026-12-07T03:00")
    with book.transaction() as db:
        assert db.scalar(select(OutboxRow.id).where(OutboxRow.kind == "offer")) is None


def test_accepting_an_offer_sends_the_client_the_updated_invitation(book: Book) -> None:
    """Rule 4: picking a time confirms it and updates the invitation, in the same
    transaction: one iMIP REQUEST to the client with the new time and a higher SEQUENCE."""
    s = plan_one(book, DEC_1)
    (invitation,) = outbox(book, "request")
    made = offer(book, s.id or 0, "2026-12-02T10:00", "2026-12-03T14:00")
    act(book, load_secret(book.settings), token_of(made.links["2"]))
    (update,) = outbox(book, "update")
    assert update.recipient == "ana@example.org" and update.session_id == s.id
    first, new = (_vevent(row) for row in (invitation, update))
    assert new["UID"] == first["UID"]
    assert int(new["SEQUENCE"]) > int(first["SEQUENCE"])
    assert new.decoded("DTSTART") == at("2026-12-03T14:00")
    assert new["STATUS"] == "CONFIRMED"


def _vevent(row: OutboxRow) -> Any:
    (part,) = [p for p in parsed(row).walk() if p.get_content_type() == "text/calendar"][:1]
    calendar = ICalendar.from_ical(part.get_payload(decode=True))
    assert calendar["METHOD"] == "REQUEST"
    return next(iter(calendar.walk("VEVENT")))


def test_the_offer_page_shows_times_in_the_clients_own_zone(book: Book) -> None:
    from calbridge.book import parties
    from calbridge.book.offer_answers import look
    from calbridge.config.secret import load_secret

    from .helpers import offer, token_of

    parties.edit_client(book, "ana", timezone="America/New_York")
    session = plan_one(book, "2026-12-01T10:00")
    made = offer(book, session.id or 0, "2026-12-02T10:00")
    secret = load_secret(book.settings)
    assert look(book, secret, token_of(made.links["1"])).zone == "America/New_York"
