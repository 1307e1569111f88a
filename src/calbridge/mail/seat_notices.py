"""What one seat of a session tells whom: a participant added or taken off (`session
edit`). Pure: ``notices(change, view, settings, now, texts, raised)`` gives the notices,
``seat_mail`` reads the view and queues them.

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

from dataclasses import replace
from datetime import datetime

from calbridge.config.schema import Settings
from calbridge.core.model import Session, Status
from calbridge.events.changes import SeatsAdded, SeatsRemoved
from calbridge.events.coach import spec_of
from calbridge.events.spec import session_spec
from calbridge.ical.model import EventSpec, Person
from calbridge.mail import bodies, imip
from calbridge.mail.bodies import About, Body, Reader, short
from calbridge.mail.notices import Notice, View
from calbridge.mail.text_hook import Texts


def notices(
    change: SeatsAdded | SeatsRemoved,
    view: View,
    settings: Settings,
    now: datetime,
    texts: Texts,
    raised: int | None = None,
) -> list[Notice]:
    """What ``change`` tells the participants added or taken off, in the order it is
    queued (``view``: the UID's rows, for a removal as they were; ``raised``: the
    SEQUENCE above the book's that a participant ``returning`` gets)."""
    if isinstance(change, SeatsAdded):
        return _added(change, view, settings, now, raised)
    return _removed(change, view, now, texts)


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


def takes_part(session: Session, party: str) -> bool:
    return any(p.party_id == party for p in session.participants)


def _added(
    change: SeatsAdded, view: View, settings: Settings, now: datetime, raised: int | None
) -> list[Notice]:
    """The invitation, to the participants just added only (the first session is the
    occurrence the message speaks of). Those ``returning`` after being taken off earlier
    hold a CANCEL whose SEQUENCE is above the book's: theirs goes above it too (their
    answers still match, an answer's SEQUENCE may be higher)."""
    session, one = change.sessions[0], change.one
    if not change.parties or session.end <= now:
        return []
    about = _about(view, session, one)
    rule = None if one else view.rule
    out: list[Notice] = []
    for party in change.parties:
        sequence = max(r.sequence for r in view.rows)
        if party in change.returning and raised is not None:
            sequence = raised
        recurrence_id = session.recurrence_id if one else None
        if one:
            spec = _alone(view, session, sequence)
        else:
            rows = _as_seen_by(view, party, sequence)
            spec = spec_of(settings, view.coach, rows, view.people, view.rrule)
        if spec is None:
            continue
        data = imip.request(spec, now, recurrence_id)
        reader = view.reader(party)
        body = bodies.invitation(about, reader, rule)
        out.append(Notice(session, reader, body, "request", (data, "REQUEST")))
    return out


def _removed(change: SeatsRemoved, view: View, now: datetime, texts: Texts) -> list[Notice]:
    """A CANCEL to each participant taken off (the sessions as they were, each holding
    some of them) with a session still to come, naming only them."""
    out: list[Notice] = []
    for party in change.parties:
        coming = [s for s in change.before if takes_part(s, party) and s.end > now]
        if coming:
            out += _cancel(view, coming[0], party, change.sequence, change.one, now, texts)
    return out


def _cancel(
    view: View, session: Session, party: str, sequence: int, one: bool, now: datetime, texts: Texts
) -> list[Notice]:
    spec = _alone(view, replace(session, status=Status.SCHEDULED), sequence)
    if spec is None:
        return []
    mine = tuple(a for a in spec.master.attendees if a.person == view.people[party])
    alone = replace(spec, master=replace(spec.master, attendees=mine))
    recurrence_id: datetime | None = session.recurrence_id if one else None
    data = imip.cancel(alone, now, recurrence_id)
    about = _about(view, session, one)
    reader = view.reader(party)
    body = removed_body(about, reader)
    said = texts.cancelled(about, reader, None, about.series)
    return [Notice(session, reader, body, "cancel", (data, "CANCEL"), said)]


def _as_seen_by(view: View, party: str, sequence: int) -> list[Session]:
    """The UID's rows as ``party`` takes part in them: the others are gone for them."""
    return [
        replace(r, sequence=sequence)
        if takes_part(r, party)
        else replace(r, status=Status.CANCELLED, sequence=sequence)
        for r in view.rows
    ]


def _alone(view: View, session: Session, sequence: int) -> EventSpec | None:
    """``session`` as a single VEVENT (one occurrence, for a RECURRENCE-ID message)."""
    single = replace(session, sequence=sequence)
    organizer = Person(view.coach.name, view.coach.email)
    return session_spec([single], organizer, view.people, {}, video_url=view.coach.video_url)


def _about(view: View, session: Session, one: bool) -> About:
    about = view.about(session)
    return replace(about, series=False) if one else about
