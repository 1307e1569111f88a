"""Everything that is not a fresh answer of a participant: logged, filed in the rejected
folder, and nothing in the book changed (the book's rows are compared before and after)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from book_helpers import plan_one, snapshot
from calbridge.book import Book, views
from calbridge.core.model import Status
from calbridge.inbound.apply import process
from calbridge.inbound.mailbox import run_once
from inbound.helpers import filed, folders
from inbound.replies import Answer, mail
from servers.dovecot import Dovecot

BOUNCE = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.client.example>\r\n"
    b"To: maia@practice.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
    b"Message-ID: <bounce-1@mx.client.example>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
    b"--b1\r\nContent-Type: text/plain\r\n\r\nThis is the mail system.\r\n"
    b"--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mx.client.example\r\n\r\nFinal-Recipient: rfc822; ana@example.org\r\n"
    b"Action: failed\r\nStatus: 5.1.1\r\n\r\n--b1--\r\n"
)


def _reject_one(book: Book, server: Dovecot, raw: bytes) -> str:
    before = snapshot(book)
    server.append(raw, folders(book)[0])
    result = run_once(book)
    assert (result.applied, result.rejected) == (0, 1), result.outcomes
    assert filed(server, book) == (0, 0, 1)
    assert snapshot(book) == before  # sessions, audit and changes untouched
    return result.outcomes[0].code


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"uid": "not-ours@elsewhere"}, "unknown-uid"),
        ({"attendee": "stranger@example.org", "name": "Stranger"}, "not-participant"),
        ({"sender": "mallory@evil.example"}, "from-mismatch"),
        ({"partstat": "DELEGATED"}, "partstat"),
    ],
)
def test_an_answer_that_is_not_a_participants_own_is_filed_away(
    inbound_book: Book,
    imap_server: Dovecot,
    change: dict[str, str],
    code: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    s = plan_one(inbound_book, "2026-12-01T10:00", clients=("ana",))
    fields = {"uid": s.uid, "attendee": "ana@example.org", "partstat": "DECLINED", **change}
    with caplog.at_level(logging.WARNING, logger="calbridge.inbound.mailbox"):
        assert _reject_one(inbound_book, imap_server, mail(Answer(**fields))) == code
    assert any("inbound.rejected" in r.getMessage() for r in caplog.records)
    assert views.show(inbound_book, s.id or 0)["status"] == Status.REQUESTED.value


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (BOUNCE, "bounce"),
        (b"From: ana@example.org\r\nSubject: thanks!\r\n\r\nSee you then.\r\n", "no-calendar"),
        (
            b"From: ana@example.org\r\nMessage-ID: <m1@x>\r\nContent-Type: text/calendar;"
            b" method=REPLY\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
            b"UID:x\r\nDTSTART:2026120\r\nEND:VEVENT\r\n",
            "malformed",
        ),
    ],
    ids=["bounce", "plain-mail", "broken-ics"],
)
def test_bounces_plain_mail_and_broken_calendars_are_filed_away(
    inbound_book: Book, imap_server: Dovecot, raw: bytes, code: str
) -> None:
    plan_one(inbound_book, "2026-12-01T10:00", clients=("ana",))
    assert _reject_one(inbound_book, imap_server, raw) == code


def test_a_duplicated_reply_changes_nothing_the_second_time(
    inbound_book: Book, imap_server: Dovecot
) -> None:
    book = inbound_book
    s = plan_one(book, "2026-12-01T10:00", clients=("ana",))
    raw = mail(Answer(uid=s.uid, attendee="ana@example.org"), "outlook")
    inbox = folders(book)[0]
    imap_server.append(raw, inbox)
    assert run_once(book).applied == 1
    before = snapshot(book)
    imap_server.append(raw, inbox)  # delivered twice
    again = run_once(book)
    assert again.outcomes[0].again
    assert snapshot(book) == before
    assert filed(imap_server, book) == (0, 2, 0)  # filed where the first copy went


def test_a_crash_between_applying_and_moving_changes_nothing_the_second_time(
    inbound_book: Book, imap_server: Dovecot
) -> None:
    book = inbound_book
    s = plan_one(book, "2026-12-01T10:00", clients=("ana",))
    raw = mail(Answer(uid=s.uid, attendee="ana@example.org", partstat="DECLINED"), "apple")
    imap_server.append(raw, folders(book)[0])
    assert process(book, raw).outcome == "applied"  # applied and committed; never moved
    before = snapshot(book)
    result = run_once(book)  # the restarted reader finds it still in the folder
    assert result.outcomes[0].again
    assert snapshot(book) == before
    assert filed(imap_server, book) == (0, 1, 0)
    assert views.show(book, s.id or 0)["status"] == Status.DECLINED.value


def test_a_forged_replay_under_a_new_message_id_is_stale(
    inbound_book: Book, imap_server: Dovecot
) -> None:
    book = inbound_book
    s = plan_one(book, "2026-12-01T10:00", clients=("ana",))
    inbox = folders(book)[0]
    imap_server.append(mail(Answer(uid=s.uid, attendee="ana@example.org"), "gmail"), inbox)
    assert run_once(book).applied == 1
    before = snapshot(book)
    replay = mail(Answer(uid=s.uid, attendee="ana@example.org"), "gmail")  # same stamp
    imap_server.append(replay, inbox)
    result = run_once(book)
    assert result.outcomes[0].code == "stale"
    assert snapshot(book) == before


def test_a_stale_reply_never_overrides_a_newer_answer(
    inbound_book: Book, imap_server: Dovecot
) -> None:
    book = inbound_book
    s = plan_one(book, "2026-12-01T10:00", clients=("ana",))
    inbox = folders(book)[0]
    t = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    newer = Answer(uid=s.uid, attendee="ana@example.org", dtstamp=t + timedelta(minutes=10))
    # Written before the acceptance, delivered after it.
    older = Answer(uid=s.uid, attendee="ana@example.org", partstat="DECLINED", dtstamp=t)
    imap_server.append(mail(newer, "outlook"), inbox)
    assert run_once(book).applied == 1
    imap_server.append(mail(older, "gmail"), inbox)
    assert run_once(book).outcomes[0].code == "stale"
    assert views.show(book, s.id or 0)["status"] == Status.SCHEDULED.value


def test_a_reply_to_an_older_sequence_is_stale(inbound_book: Book, imap_server: Dovecot) -> None:
    from book_helpers import move

    book = inbound_book
    s = plan_one(book, "2026-12-01T10:00", clients=("ana",))
    moved = move(book, s.id or 0, "2026-12-02T11:00")  # SEQUENCE raised: asked again
    assert moved.sequence > s.sequence
    old = Answer(uid=s.uid, attendee="ana@example.org", sequence=s.sequence)
    assert _reject_one(book, imap_server, mail(old, "apple")) == "stale"
    fresh = Answer(uid=s.uid, attendee="ana@example.org", sequence=moved.sequence)
    imap_server.append(mail(fresh, "apple"), folders(book)[0])
    assert run_once(book).applied == 1
    assert views.show(book, s.id or 0)["status"] == Status.SCHEDULED.value


def test_two_instances_reading_the_same_message_apply_it_once(
    inbound_book: Book, make_book: Callable[..., Book]
) -> None:
    import threading

    book = inbound_book
    other = make_book(mail=book.settings.mail.model_dump(by_alias=True), state_dir="state")
    s = plan_one(book, "2026-12-01T10:00", clients=("ana",))
    raw = mail(Answer(uid=s.uid, attendee="ana@example.org", partstat="DECLINED"), "gmail")
    start = threading.Barrier(2)
    outcomes = []

    def read(b: Book) -> None:
        start.wait()
        outcomes.append(process(b, raw))

    threads = [threading.Thread(target=read, args=(b,)) for b in (book, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o.again for o in outcomes) == [False, True], outcomes
    assert {o.outcome for o in outcomes} == {"applied"}  # both file it as applied
    trail = [a["action"] for a in views.show(book, s.id or 0)["audit"]]
    assert trail.count("declined") == 1
