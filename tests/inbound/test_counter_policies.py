"""A client's COUNTER through the real Dovecot meets the booking policies as any chosen
time does: one inside the minimum notice or a buffer gets a DECLINECOUNTER naming the
policy; one that keeps them is accepted (per [policies] counter = "accept")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes, policy

from icalendar import Calendar

from book_helpers import at, plan_one
from calbridge.book import Book, views
from calbridge.inbound.mailbox import run_once
from inbound.replies import Answer, mail
from mail.smtp_helpers import Recorder, calendar_part, send
from servers.dovecot import Dovecot
from validate_helpers import assert_valid

from .helpers import folders

POLICIES = {"counter": "accept", "min_notice_hours": 72, "buffer_before_minutes": 30}


def _counter(uid: str, start: str, minute: int) -> Answer:
    """Each counter later than the last (DTSTAMP): a stale one would be rejected."""
    return Answer(
        uid=uid, attendee="ana@example.org", method="COUNTER", partstat="NEEDS-ACTION",
        start=at(start), comment="Could we do another day?",
        dtstamp=datetime(2026, 11, 21, 12, minute, tzinfo=UTC),
    )  # fmt: skip


def _declinecounter(recorder: Recorder) -> str:
    for r in recorder.received:
        if "ana@example.org" in r.rcpt_tos:
            data, method = calendar_part(message_from_bytes(r.raw, policy=policy.default))
            if method == "DECLINECOUNTER":
                assert_valid(data)
                (event,) = Calendar.from_ical(data).walk("VEVENT")
                return str(event["COMMENT"])
    raise AssertionError("no DECLINECOUNTER sent to ana")


def test_counters_meet_the_policies(
    make_inbound_book: Callable[..., Book], imap_server: Dovecot, recorder: Recorder
) -> None:
    book = make_inbound_book(policies=POLICIES)  # now: Sat 2026-11-21 12:00
    s = plan_one(book, "2026-12-02T10:00", clients=("ana",))
    plan_one(book, "2026-12-03T10:00", clients=("ben",))
    send(book)
    recorder.received.clear()
    inbox = folders(book)[0]

    imap_server.append(mail(_counter(s.uid, "2026-11-23T14:00", 5), "gmail"), inbox)  # 50 h
    (outcome,) = run_once(book).outcomes
    assert outcome.code == "counter-declined", outcome
    assert "min_notice_hours = 72" in outcome.detail
    send(book)
    assert "needs 72 h notice ([policies] min_notice_hours = 72)" in _declinecounter(recorder)
    recorder.received.clear()

    imap_server.append(mail(_counter(s.uid, "2026-12-03T11:15", 6), "outlook"), inbox)
    (outcome,) = run_once(book).outcomes
    assert outcome.code == "counter-declined", outcome
    assert "buffer_before_minutes = 30" in outcome.detail
    assert views.show(book, s.id or 0)["start"].startswith("2026-12-02T10:00")

    imap_server.append(mail(_counter(s.uid, "2026-12-03T11:30", 7), "apple"), inbox)
    (outcome,) = run_once(book).outcomes
    assert outcome.code == "counter-accepted", outcome
    assert views.show(book, s.id or 0)["start"].startswith("2026-12-03T11:30")
