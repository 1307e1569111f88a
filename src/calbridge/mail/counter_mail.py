"""The mail inbound answers cause besides the book's own: a refused counter-proposal
(DECLINECOUNTER to its client), one waiting for the admin (told to the coach), and the
current REQUEST again for an attendee who asked for it (REFRESH)."""

from __future__ import annotations

from datetime import datetime

from calbridge.book.context import Book
from calbridge.core.model import Session
from calbridge.mail import bodies, imip
from calbridge.mail.bodies import Body
from calbridge.mail.notify import load, send
from calbridge.store.db import Db


def declined(book: Book, db: Db, session: Session, party: str, reason: str) -> None:
    """DECLINECOUNTER to ``party``: their calendar app drops the proposal."""
    group = load(book, db, session)
    organizer = group.spec_organizer()
    data = imip.decline_counter(session.uid, organizer, book.clock(), session.recurrence_id, reason)
    about = group.about(book, session)
    reader = group.reader(party)
    body = Body(
        f"Not possible: the time you proposed for {about.title}",
        (
            f"Hello {reader.name}, the time you proposed cannot be booked: {reason}",
            "The session stays as it was; reply to this mail to find another time.",
        ),
        about.facts(reader),
    )
    send(book, db, group, session, reader, body, "declinecounter", (data, "DECLINECOUNTER"))


def waiting(
    book: Book, db: Db, session: Session, party: str, start: datetime, end: datetime, ref: int
) -> None:
    """The coach is told a counter-proposal waits for `calbridge counter accept|decline`."""
    group = load(book, db, session)
    about = group.about(book, session)
    reader = group.coach_reader()
    who = group.people[party].name
    body = Body(
        f"{who} proposes another time for {about.title}",
        (
            f"Hello {reader.name}, {who} proposes {bodies.when(start, end, reader)} instead.",
            f"Accept with `calbridge counter accept {ref}`, refuse with"
            f" `calbridge counter decline {ref}`.",
        ),
        about.facts(reader),
    )
    send(book, db, group, session, reader, body, "counter")


def refreshed(book: Book, db: Db, session: Session, party: str) -> bool:
    """The whole current object (METHOD:REQUEST) again, to ``party`` only."""
    group = load(book, db, session)
    spec = group.spec(book)
    if spec is None:
        return False
    data = imip.request(spec, book.clock())
    reader = group.reader(party)
    body = bodies.invitation(group.about(book, session), reader)
    send(book, db, group, session, reader, body, "refresh", (data, "REQUEST"))
    return True
