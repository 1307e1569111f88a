"""Answers to one occurrence of a series (RECURRENCE-ID), to the whole series, and
tentative ones, as each mail client words them."""

from __future__ import annotations

import pytest

from book_helpers import plan
from calbridge.book import Book, views
from calbridge.core.model import SeriesSpec, Status
from calbridge.inbound.mailbox import run_once
from inbound.helpers import filed, folders
from inbound.replies import CLIENTS, Answer, mail
from servers.dovecot import Dovecot


def _statuses(book: Book, ids: list[int]) -> list[str]:
    return [views.show(book, i)["status"] for i in ids]


@pytest.mark.parametrize("client", CLIENTS)
def test_a_decline_of_one_occurrence_declines_that_one_only(
    inbound_book: Book, imap_server: Dovecot, client: str
) -> None:
    book = inbound_book
    rows = plan(book, "2026-12-07T10:00", clients=("dee",), series=SeriesSpec("weekly", (0,), 3))
    ids = [r.id or 0 for r in rows]
    second = rows[1]
    answer = Answer(
        uid=second.uid,
        attendee="dee@example.org",
        name="Dee Roy",
        partstat="DECLINED",
        sequence=max(r.sequence for r in rows),
        start=second.start,
        recurrence_id=second.recurrence_id or second.start,
    )
    imap_server.append(mail(answer, client), folders(book)[0])
    assert run_once(book).applied == 1, filed(imap_server, book)
    assert _statuses(book, ids) == ["requested", "declined", "requested"]


def test_an_acceptance_of_the_whole_series_accepts_every_open_occurrence(
    inbound_book: Book, imap_server: Dovecot
) -> None:
    book = inbound_book
    rows = plan(book, "2026-12-07T10:00", clients=("dee",), series=SeriesSpec("weekly", (0,), 3))
    answer = Answer(
        uid=rows[0].uid, attendee="dee@example.org", name="Dee Roy", start=rows[0].start
    )
    imap_server.append(mail(answer, "gmail"), folders(book)[0])
    assert run_once(book).applied == 1
    assert _statuses(book, [r.id or 0 for r in rows]) == [Status.SCHEDULED.value] * 3


def test_an_occurrence_the_series_does_not_have_is_filed_away(
    inbound_book: Book, imap_server: Dovecot
) -> None:
    book = inbound_book
    rows = plan(book, "2026-12-07T10:00", clients=("dee",), series=SeriesSpec("weekly", (0,), 3))
    wrong = rows[0].start.replace(hour=3)
    answer = Answer(
        uid=rows[0].uid, attendee="dee@example.org", name="Dee Roy", recurrence_id=wrong
    )
    imap_server.append(mail(answer, "apple"), folders(book)[0])
    result = run_once(book)
    assert result.outcomes[0].code == "unknown-occurrence"
    assert filed(imap_server, book) == (0, 0, 1)


def test_a_tentative_answer_is_recorded_and_the_session_stays_requested(
    inbound_book: Book, imap_server: Dovecot
) -> None:
    from book_helpers import plan_one

    book = inbound_book
    s = plan_one(book, "2026-12-01T10:00", clients=("ana", "ben"))
    answer = Answer(uid=s.uid, attendee="ben@example.org", name="Ben Ng", partstat="TENTATIVE")
    imap_server.append(mail(answer, "outlook"), folders(book)[0])
    assert run_once(book).applied == 1
    shown = views.show(book, s.id or 0)
    assert shown["status"] == Status.REQUESTED.value
    assert dict(shown["partstat"]) == {"ana": "NEEDS-ACTION", "ben": "TENTATIVE"}


def test_a_third_partys_answer_is_recorded_and_changes_no_status(
    inbound_book: Book, imap_server: Dovecot
) -> None:
    from book_helpers import plan_one

    book = inbound_book
    s = plan_one(book, "2026-12-01T10:00", clients=("ana",), third_parties=["doc"])
    answer = Answer(uid=s.uid, attendee="third@example.org", name="Dr Third", partstat="DECLINED")
    imap_server.append(mail(answer, "gmail"), folders(book)[0])
    assert run_once(book).applied == 1
    shown = views.show(book, s.id or 0)
    assert shown["status"] == Status.REQUESTED.value  # only a client's decline declines
    assert dict(shown["partstat"])["doc"] == "DECLINED"
