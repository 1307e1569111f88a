"""COUNTER (a client proposes another time from their calendar app) and REFRESH, through
the real Dovecot: checked as a client-requested move; accepted at once or left for the
admin per [policies] counter; refused with a DECLINECOUNTER the client's app reads."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes, policy

import pytest
from icalendar import Calendar

from book_helpers import at, plan_one, snapshot
from calbridge.book import Book, views
from calbridge.core.model import Status
from calbridge.errors import UserError
from calbridge.inbound import counter
from calbridge.inbound.mailbox import run_once
from inbound.helpers import filed, folders, invited
from inbound.replies import CLIENTS, Answer, mail
from mail.smtp_helpers import Recorder, calendar_part, send
from servers.dovecot import Dovecot
from validate_helpers import assert_valid

FREE = "2026-12-02T14:00"  # a Wednesday afternoon: inside Maia's hours
CLOSED = "2026-12-02T20:00"  # after them


def _counter(uid: str, start: str, **kw: object) -> Answer:
    begin = at(start)
    return Answer(
        uid=uid, attendee="ana@example.org", method="COUNTER", partstat="NEEDS-ACTION",
        start=begin, comment="Could we do Wednesday instead?", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _sent(recorder: Recorder, to: str) -> list[tuple[bytes, str, str]]:
    out = []
    for r in recorder.received:
        if to in r.rcpt_tos:
            message = message_from_bytes(r.raw, policy=policy.default)
            try:
                data, method = calendar_part(message)
            except (AssertionError, StopIteration):
                data, method = b"", ""
            out.append((data, method, str(message["Subject"])))
    return out


@pytest.mark.parametrize("client", CLIENTS)
def test_a_counter_left_for_the_admin_then_accepted_moves_the_session(
    inbound_book: Book, imap_server: Dovecot, recorder: Recorder, client: str
) -> None:
    book = inbound_book
    s = invited(book, recorder)
    imap_server.append(mail(_counter(s.uid, FREE), client), folders(book)[0])
    result = run_once(book)
    assert [o.code for o in result.outcomes] == ["counter-open"]
    assert filed(imap_server, book) == (0, 1, 0)
    (waiting,) = counter.listing(book)
    assert (waiting["session"], waiting["client"]) == (s.id, "ana")
    before = views.show(book, s.id or 0)
    assert before["status"] == Status.REQUESTED.value  # nothing moved yet
    send(book)
    ((_, _, subject),) = _sent(recorder, "maia@practice.example")
    assert subject.startswith("Ana Lopez proposes another time")
    recorder.received.clear()

    counter.accept(book, waiting["id"])
    shown = views.show(book, s.id or 0)
    assert shown["status"] == Status.SCHEDULED.value  # a client-requested move: confirmed
    send(book)
    ((data, method, _),) = _sent(recorder, "ana@example.org")
    assert method == "REQUEST"
    assert_valid(data)
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    assert event["DTSTART"].dt == at(FREE)
    assert int(event["SEQUENCE"]) > s.sequence
    assert counter.listing(book) == []


def test_a_counter_at_a_closed_hour_gets_a_declinecounter_and_changes_no_session(
    inbound_book: Book, imap_server: Dovecot, recorder: Recorder
) -> None:
    book = inbound_book
    s = invited(book, recorder)
    before = views.show(book, s.id or 0)
    imap_server.append(mail(_counter(s.uid, CLOSED), "gmail"), folders(book)[0])
    (outcome,) = run_once(book).outcomes
    assert outcome.code == "counter-declined", outcome
    assert views.show(book, s.id or 0) == before
    send(book)
    ((data, method, subject),) = _sent(recorder, "ana@example.org")
    assert method == "DECLINECOUNTER"
    assert_valid(data)
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    assert str(event["UID"]) == s.uid
    assert str(event["ORGANIZER"]) == "mailto:maia@practice.example"  # as in the REQUEST
    assert "not available" in str(event["COMMENT"])
    assert subject.startswith("Not possible")


def test_the_admin_declines_a_counter(
    inbound_book: Book, imap_server: Dovecot, recorder: Recorder
) -> None:
    book = inbound_book
    s = plan_one(book, "2026-12-01T10:00", clients=("ana",))
    imap_server.append(mail(_counter(s.uid, FREE), "outlook"), folders(book)[0])
    run_once(book)
    (waiting,) = counter.listing(book)
    send(book)
    recorder.received.clear()
    before = views.show(book, s.id or 0)
    counter.decline(book, waiting["id"], "Wednesdays are full")
    with pytest.raises(UserError, match="already declined"):
        counter.accept(book, waiting["id"])
    send(book)
    ((data, method, _),) = _sent(recorder, "ana@example.org")
    assert method == "DECLINECOUNTER"
    assert b"Wednesdays are full" in data
    assert_valid(data)
    assert views.show(book, s.id or 0) == before


def test_with_policy_accept_a_counter_moves_the_session_at_once(
    make_inbound_book: Callable[..., Book], imap_server: Dovecot
) -> None:
    book = make_inbound_book(policies={"counter": "accept"})
    s = plan_one(book, "2026-12-01T10:00", clients=("ana",))
    imap_server.append(mail(_counter(s.uid, FREE), "apple"), folders(book)[0])
    (outcome,) = run_once(book).outcomes
    assert outcome.code == "counter-accepted"
    shown = views.show(book, s.id or 0)
    assert shown["status"] == Status.SCHEDULED.value
    assert counter.listing(book) == []
    assert counter.listing(book, every=True)[0]["state"] == "accepted"


def test_a_counter_over_the_monthly_limit_is_refused(
    inbound_book: Book, imap_server: Dovecot, recorder: Recorder
) -> None:
    book = inbound_book  # ana: 2 a month (standard)
    plan_one(book, "2027-01-05T10:00", clients=("ana",))
    plan_one(book, "2027-01-06T10:00", clients=("ana",))
    s = plan_one(book, "2026-12-01T10:00", clients=("ana",))
    imap_server.append(mail(_counter(s.uid, "2027-01-07T10:00"), "gmail"), folders(book)[0])
    before = snapshot(book)
    (outcome,) = run_once(book).outcomes
    assert outcome.code == "counter-declined"
    assert "limit" in outcome.detail or "month" in outcome.detail, outcome.detail
    assert snapshot(book)[0] == before[0]


@pytest.mark.parametrize("client", CLIENTS)
def test_a_refresh_sends_the_current_request_again(
    inbound_book: Book, imap_server: Dovecot, recorder: Recorder, client: str
) -> None:
    book = inbound_book
    s = invited(book, recorder, ("ana", "ben"))
    ask = Answer(uid=s.uid, attendee="ana@example.org", method="REFRESH", partstat="NEEDS-ACTION")
    imap_server.append(mail(ask, client), folders(book)[0])
    assert [o.code for o in run_once(book).outcomes] == ["refreshed"]
    send(book)
    ((data, method, _),) = _sent(recorder, "ana@example.org")
    assert method == "REQUEST"
    assert_valid(data)
    assert _sent(recorder, "ben@example.org") == []  # only the one who asked


def test_a_counter_for_one_occurrence_of_a_series_moves_that_one(
    inbound_book: Book, imap_server: Dovecot
) -> None:
    from book_helpers import plan
    from calbridge.core.model import SeriesSpec

    book = inbound_book
    rows = plan(book, "2026-12-07T10:00", clients=("dee",), series=SeriesSpec("weekly", (0,), 3))
    second = rows[1]
    proposal = Answer(
        uid=second.uid, attendee="dee@example.org", name="Dee Roy", method="COUNTER",
        partstat="NEEDS-ACTION", start=at("2026-12-16T14:00"),
        recurrence_id=second.recurrence_id or second.start,
        sequence=max(r.sequence for r in rows),
    )  # fmt: skip
    imap_server.append(mail(proposal, "gmail"), folders(book)[0])
    assert [o.code for o in run_once(book).outcomes] == ["counter-open"]
    (waiting,) = counter.listing(book)
    assert waiting["session"] == second.id
    counter.accept(book, waiting["id"])
    starts = [views.show(book, r.id or 0)["start"] for r in rows]
    assert starts[0].startswith("2026-12-07T10:00")
    assert starts[1].startswith("2026-12-16T14:00")  # the one proposed for
    assert starts[2].startswith("2026-12-21T10:00")
