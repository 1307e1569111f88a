"""A client's answer, sent as Gmail, Outlook or Apple Mail send it, delivered to a real
Dovecot; calbridge reads the folder over IMAP, applies it once and files it."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from calbridge.book import Book, views
from calbridge.core.model import Status
from calbridge.inbound.mailbox import run_once
from inbound.helpers import folders, invited
from inbound.replies import CLIENTS, Answer, mail
from mail.smtp_helpers import Recorder, calendar_part, send
from servers.dovecot import Dovecot
from validate_helpers import assert_valid


@pytest.mark.parametrize("client", CLIENTS)
def test_a_decline_lands_in_the_mailbox_and_the_session_is_declined_and_the_coach_told(
    inbound_book: Book, imap_server: Dovecot, recorder: Recorder, client: str
) -> None:
    book = inbound_book
    s = invited(book, recorder)
    inbox, applied, rejected = folders(book)
    answer = Answer(uid=s.uid, attendee="ana@example.org", partstat="DECLINED", start=s.start)
    imap_server.append(mail(answer, client), inbox)

    result = run_once(book)

    assert (result.applied, result.rejected) == (1, 0), result.outcomes
    assert views.show(book, s.id or 0)["status"] == Status.DECLINED.value
    assert imap_server.messages(inbox) == []
    assert len(imap_server.messages(applied)) == 1
    assert imap_server.messages(rejected) == []
    send(book)
    to_coach = [r for r in recorder.received if "maia@practice.example" in r.rcpt_tos]
    assert len(to_coach) == 1  # the coach is told, as for `session answer --decline`
    body = message_from_bytes(to_coach[0].raw, policy=policy.default)
    assert "Ana Lopez" in str(body.get_body(("plain",)).get_content())


@pytest.mark.parametrize("client", CLIENTS)
def test_an_acceptance_confirms_the_session_and_every_copy_is_libical_valid(
    inbound_book: Book, imap_server: Dovecot, recorder: Recorder, client: str
) -> None:
    book = inbound_book
    s = invited(book, recorder)
    inbox, applied, _ = folders(book)
    imap_server.append(mail(Answer(uid=s.uid, attendee="ana@example.org"), client), inbox)

    assert run_once(book).applied == 1
    shown = views.show(book, s.id or 0)
    assert shown["status"] == Status.SCHEDULED.value
    assert dict(shown["partstat"]) == {"ana": "ACCEPTED"}
    send(book)
    (confirmed,) = recorder.received  # TENTATIVE -> CONFIRMED: the REQUEST again
    data, method = calendar_part(message_from_bytes(confirmed.raw, policy=policy.default))
    assert method == "REQUEST"
    assert b"STATUS:CONFIRMED" in data
    assert_valid(data)
    assert len(imap_server.messages(applied)) == 1
