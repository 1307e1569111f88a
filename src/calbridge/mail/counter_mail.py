"""The mail a client's request for another time causes besides the book's own: a refused
counter-proposal (DECLINECOUNTER to its client), a refused time asked for on the page
(told to the client), one waiting for the admin (told to the coach and the practice), and
the current REQUEST again for an attendee who asked for it (REFRESH)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from calbridge.core.model import Session
from calbridge.events.context import BookContext
from calbridge.mail import bodies, envelope, imip
from calbridge.mail.bodies import Body, Reader
from calbridge.mail.notify import Group, load, send
from calbridge.mail.outbox import enqueue
from calbridge.store.db import Db


def declined(book: BookContext, db: Db, session: Session, party: str, reason: str) -> None:
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


def page_declined(
    book: BookContext,
    db: Db,
    session: Session,
    party: str,
    asked: tuple[datetime, datetime],
    why: str,
) -> None:
    """The time ``party`` asked for on their page cannot be given; the session stays."""
    group = load(book, db, session)
    about = group.about(book, session)
    reader = group.reader(party)
    body = Body(
        f"Not possible: the time you asked for {about.title}",
        (
            f"Hello {reader.name}, {bodies.when(*asked, reader)} cannot be booked: {why}",
            "The session stays as it was; your page lists free times to ask for another.",
        ),
        about.facts(reader),
    )
    send(book, db, group, session, reader, body, "page-move-declined")


def waiting(
    book: BookContext,
    db: Db,
    session: Session,
    party: str,
    start: datetime,
    end: datetime,
    ref: int,
    page: bool = False,
) -> None:
    """The coach and the practice are told a request for another time (a COUNTER, or one
    asked for on the client's ``page``) waits for `calbridge counter accept|decline`."""
    group = load(book, db, session)
    about = group.about(book, session)
    who = group.people[party].name
    verb = "asks on their page for" if page else "proposes"

    def body(reader: Reader) -> Body:
        return Body(
            f"{who} {'asks for' if page else 'proposes'} another time for {about.title}",
            (
                f"Hello {reader.name}, {who} {verb} {bodies.when(start, end, reader)} instead.",
                f"Accept with `calbridge counter accept {ref}`, refuse with"
                f" `calbridge counter decline {ref}`.",
            ),
            about.facts(reader),
        )

    coach = group.coach_reader()
    send(book, db, group, session, coach, body(coach), "counter")
    _to_practice(book, db, group, session, body)


def _to_practice(
    book: BookContext, db: Db, group: Group, session: Session, body: Callable[[Reader], Body]
) -> None:
    """The practice's admin address (``[mail] admin``, else ``from``) by mail, unless it
    is the coach's own."""
    mail = book.settings.mail
    address = mail.admin or mail.from_
    if address.lower() == group.coach.email.lower():
        return
    reader = Reader("admin", address, group.coach.zone())
    message = envelope.build(
        sender=envelope.Party("calbridge", mail.from_),
        reply_to=envelope.Party(group.coach.name, group.coach.email),
        to=envelope.Party("", address),
        body=body(reader),
        date=book.clock(),
    )
    domain = mail.from_.rpartition("@")[2]
    enqueue(db, message, kind="counter", now=book.clock(), domain=domain, session_id=session.id)


def refreshed(book: BookContext, db: Db, session: Session, party: str) -> bool:
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
