"""Mail for one seat of a session: a participant added or taken off (`session edit`).

A participant added gets a REQUEST; one taken off gets a CANCEL naming only them, with
the UID and SEQUENCE+1 (RFC 5546 §3.2.5, "uninvite"). The other participants get
nothing: a changed attendee list is not among IMIP.md's significant changes (times,
recurrence, STATUS), so their copies and the stored SEQUENCE stay as they are and their
answers still match. The coach's copy follows on the next sync.

What the seat is: a single session; a whole series (the REQUEST is the series as this
participant takes part in it: the master with its RRULE, the overrides they are in, an
EXDATE for each occurrence cancelled or without them; the CANCEL has no RECURRENCE-ID);
or one occurrence of a series (``one``: REQUEST and CANCEL carry its RECURRENCE-ID and
nothing else of the series).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from calbridge.core.model import Session, Status
from calbridge.events.context import BookContext
from calbridge.events.spec import session_spec
from calbridge.ical.model import EventSpec
from calbridge.mail import bodies, imip, notify, reminders
from calbridge.mail.bodies import About, Body, Reader, short
from calbridge.mail.channels import texts
from calbridge.store import repo, repo_outbox
from calbridge.store.db import Db


def removed_body(about: About, reader: Reader) -> Body:
    what = "the series of sessions" if about.series else "the session"
    gone = "they are" if about.series else "it is"
    return Body(
        f"Cancelled for you: {about.title}, {short(about.start, reader)}",
        (
            f"Hello {reader.name}, you are no longer taking part in {what} with"
            f" {about.coach}; {gone} off your calendar.",
        ),
        about.facts(reader),
    )


def _takes_part(session: Session, party: str) -> bool:
    return any(p.party_id == party for p in session.participants)


def _as_seen_by(group: notify.Group, party: str, sequence: int) -> list[Session]:
    """The UID's rows as ``party`` takes part in them: the others are gone for them."""
    return [
        replace(r, sequence=sequence)
        if _takes_part(r, party)
        else replace(r, status=Status.CANCELLED, sequence=sequence)
        for r in group.rows
    ]


def _alone(group: notify.Group, session: Session, sequence: int) -> EventSpec | None:
    """``session`` as a single VEVENT (one occurrence, for a RECURRENCE-ID message)."""
    single = replace(session, sequence=sequence)
    organizer = group.spec_organizer()
    return session_spec([single], organizer, group.people, {}, video_url=group.coach.video_url)


def _about(book: BookContext, group: notify.Group, session: Session, one: bool) -> About:
    about = group.about(book, session)
    return replace(about, series=False) if one else about


def added(
    book: BookContext,
    db: Db,
    joined: Sequence[Session],
    parties: Sequence[str],
    back: Sequence[str] = (),
    one: bool = False,
) -> None:
    """The invitation, to the participants just added to ``joined`` only (the first is
    the occurrence the message speaks of). Those ``back`` after being taken off earlier
    hold a CANCEL whose SEQUENCE is above the book's: theirs goes above it too (their
    answers still match, an answer's SEQUENCE may be higher)."""
    session = joined[0]
    if not parties or session.end <= book.clock():
        return
    group = notify.load(book, db, session)
    about = _about(book, group, session, one)
    rule = None if one else notify.series_rule(group)
    for party in parties:
        sequence = max(r.sequence for r in group.rows)
        if party in back:
            sequence = repo.next_sequence(db, session.uid)
        recurrence_id = session.recurrence_id if one else None
        if one:
            spec = _alone(group, session, sequence)
        else:
            spec = replace(group, rows=_as_seen_by(group, party, sequence)).spec(book)
        if spec is None:
            continue
        data = imip.request(spec, book.clock(), recurrence_id)
        reader = group.reader(party)
        body = bodies.invitation(about, reader, rule)
        notify.send(book, db, group, session, reader, body, "request", (data, "REQUEST"))
        reminders.catch_up(book, db, list(joined), party)


def removed(
    book: BookContext,
    db: Db,
    before: Sequence[Session],
    parties: Sequence[str],
    sequence: int,
    one: bool = False,
) -> None:
    """A CANCEL to each participant taken off ``before`` (the sessions as they were, each
    holding some of them), naming only them. Their queued reminders are dropped."""
    if not parties:
        return
    group = notify.load(book, db, before[0], list(before))
    for party in parties:
        mine = [s for s in before if _takes_part(s, party)]
        _drop_reminders(db, mine, group.people[party].email)
        coming = [s for s in mine if s.end > book.clock()]
        if coming:
            _cancel(book, db, group, coming[0], party, sequence, one)


def _cancel(
    book: BookContext,
    db: Db,
    group: notify.Group,
    session: Session,
    party: str,
    sequence: int,
    one: bool,
) -> None:
    spec = _alone(group, replace(session, status=Status.SCHEDULED), sequence)
    if spec is None:
        return
    mine = tuple(a for a in spec.master.attendees if a.person == group.people[party])
    alone = replace(spec, master=replace(spec.master, attendees=mine))
    recurrence_id: datetime | None = session.recurrence_id if one else None
    data = imip.cancel(alone, book.clock(), recurrence_id)
    about = _about(book, group, session, one)
    reader = group.reader(party)
    body = removed_body(about, reader)
    said = texts.cancelled(about, reader, None, about.series)
    notify.send(book, db, group, session, reader, body, "cancel", (data, "CANCEL"), None, said)


def _drop_reminders(db: Db, sessions: Sequence[Session], recipient: str) -> None:
    ids = [s.id for s in sessions if s.id is not None]
    why = "the participant was taken off the session"
    repo_outbox.drop_queued(db, ids, "reminder", why, [recipient])
