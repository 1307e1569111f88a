"""Mail for one seat of a session: a participant added or taken off (`session edit`).

A participant added gets the whole object as a REQUEST; one taken off gets a CANCEL
naming only them, with the UID and SEQUENCE+1 (RFC 5546 §3.2.5, "uninvite"). The other
participants get nothing: a changed attendee list is not among IMIP.md's significant
changes (times, recurrence, STATUS), so their copies and the stored SEQUENCE stay as
they are and their answers still match. The coach's copy follows on the next sync.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from calbridge.book.context import Book
from calbridge.core.model import Session, Status
from calbridge.events.spec import session_spec
from calbridge.mail import bodies, imip, notify
from calbridge.mail.bodies import About, Body, Reader, short
from calbridge.sms import texts
from calbridge.store import repo, repo_outbox
from calbridge.store.db import Db


def removed_body(about: About, reader: Reader) -> Body:
    return Body(
        f"Cancelled for you: {about.title}, {short(about.start, reader)}",
        (
            f"Hello {reader.name}, you are no longer taking part in the session with"
            f" {about.coach}; it is off your calendar.",
        ),
        about.facts(reader),
    )


def added(
    book: Book, db: Db, session: Session, parties: Sequence[str], back: Sequence[str] = ()
) -> None:
    """The invitation, to the participants just added only. Those ``back`` after being
    taken off earlier hold a CANCEL whose SEQUENCE is above the book's: theirs goes
    above it too (their answers still match, an answer's SEQUENCE may be higher)."""
    if not parties or session.end <= book.clock():
        return
    for party in parties:
        seat = session
        if party in back:
            seat = replace(session, sequence=repo.next_sequence(db, session.uid))
        group = notify.load(book, db, seat, [seat])
        spec = group.spec(book)
        if spec is None:
            return
        data = imip.request(spec, book.clock())
        reader = group.reader(party)
        body = bodies.invitation(group.about(book, session), reader)
        notify.send(book, db, group, session, reader, body, "request", (data, "REQUEST"))


def removed(book: Book, db: Db, before: Session, parties: Sequence[str], sequence: int) -> None:
    """A CANCEL to each participant taken off, naming only them; ``before`` still holds
    them. Their queued reminders are dropped."""
    if not parties:
        return
    group = notify.load(book, db, before, [before])
    _drop_reminders(db, before, [group.people[p].email for p in parties])
    if before.end <= book.clock():
        return
    single = replace(before, status=Status.SCHEDULED, sequence=sequence)
    organizer = group.spec_organizer()
    spec = session_spec([single], organizer, group.people, {}, video_url=group.coach.video_url)
    if spec is None:
        return
    about = group.about(book, before)
    for party in parties:
        mine = tuple(a for a in spec.master.attendees if a.person == group.people[party])
        alone = replace(spec, master=replace(spec.master, attendees=mine))
        data = imip.cancel(alone, book.clock())
        reader = group.reader(party)
        body, said = removed_body(about, reader), texts.cancelled(about, reader, None, False)
        cancel = (data, "CANCEL")
        notify.send(book, db, group, before, reader, body, "cancel", cancel, None, said)


def _drop_reminders(db: Db, session: Session, recipients: list[str]) -> None:
    why = "the participant was taken off the session"
    repo_outbox.drop_queued(db, [session.id], "reminder", why, recipients)
