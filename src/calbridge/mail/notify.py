"""Queue the mail a book change causes, inside that change's transaction.

The book's planning, answering, cancelling and closures call these; the sync importer
calls ``reverted``. Each builds the same resource the coach's CalDAV copy is
(``events.spec.session_spec``), so the UID and SEQUENCE in mail and calendar agree, and
queues one message per recipient with ``mail.outbox.enqueue``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from calbridge.book.context import Book
from calbridge.config.schema import Coach
from calbridge.core.model import ACTIVE, Actor, Role, Session, Status
from calbridge.core.recurrence import Recurrence
from calbridge.events.spec import session_spec, summary
from calbridge.ical.model import EventSpec, Person
from calbridge.mail import bodies, channels, client_link, envelope, imip
from calbridge.mail.bodies import About, Body, Reader
from calbridge.mail.outbox import enqueue
from calbridge.sms import texts
from calbridge.store import repo_events, repo_outbox, repo_sms
from calbridge.store.db import Db
from calbridge.store.tables import SeriesRow


@dataclass
class Group:
    """Everything about one UID that a message needs."""

    coach: Coach
    rows: list[Session]
    people: dict[str, Person]
    series: SeriesRow | None
    contacts: dict[str, repo_sms.Contact]
    zones: dict[str, str | None] = field(default_factory=dict)  # a party's own timezone

    def spec(self, book: Book) -> EventSpec | None:
        rrule = Recurrence.parse(self.series.rrule) if self.series is not None else None
        organizer = Person(self.coach.name, self.coach.email)
        colors, video = book.settings.event_colors(), self.coach.video_url
        return session_spec(self.rows, organizer, self.people, colors, rrule, video)

    def about(self, book: Book, session: Session) -> About:
        return About(
            summary(session, self.people),
            self.coach.name,
            session.start,
            session.end,
            session.note,
            self.series is not None,
        )

    def spec_organizer(self) -> Person:
        return _organizer(self.coach)

    def reader(self, party_id: str) -> Reader:
        person, own = self.people[party_id], self.zones.get(party_id)
        return bodies.reader_of(person.name, person.email, self.coach.zone(), own, party_id)

    def coach_reader(self) -> Reader:
        return Reader(self.coach.name, self.coach.email, self.coach.zone())


def _organizer(coach: Coach) -> Person:
    return Person(coach.name, coach.email)


def load(book: Book, db: Db, session: Session, rows: list[Session] | None = None) -> Group:
    """The UID's rows (``rows`` when the caller has them all), people and series, read by
    the same loader as the calendar copy's (store/repo_events)."""
    coach = book.coach(session.coach_id)
    if rows is None:
        rows = repo_events.sessions_by_uid(db, coach.id, [session.uid]).get(session.uid, [])
    people, zones = repo_events.people_and_zones(db, rows)
    contacts: dict[str, repo_sms.Contact] = {}
    for part in {p.party_id: p for r in rows for p in r.participants}.values():
        kind = "client" if part.role is Role.CLIENT else "third-party"
        contacts[part.party_id] = repo_sms.contact(db, kind, part.party_id)
    series = repo_events.series_of(db, rows).get(session.series_id or 0)
    return Group(coach, rows, people, series, contacts, zones)


def _over(book: Book, sessions: Iterable[Session]) -> bool:
    now = book.clock()
    return all(s.end <= now for s in sessions)


def send(
    book: Book,
    db: Db,
    group: Group,
    session: Session,
    to: Reader,
    body: Body,
    kind: str,
    calendar: tuple[bytes, str] | None = None,
    expires_at: datetime | None = None,
    text: str | None = None,
) -> None:
    """``body`` by mail, ``text`` (if any) by text, as chosen; no text possible: mailed."""
    now = book.clock()
    coach = group.coach
    body = client_link.added(book.settings, db, body, to.party, group.rows)
    who = channels.chosen(group.contacts, to.party, coach.phone, coach.notify)
    texted = text is not None and channels.text(db, who, text, kind, now, session.id, expires_at)
    if texted and who.notify == "sms":
        return
    mail = book.settings.mail
    message = envelope.build(
        sender=envelope.Party(group.coach.name, mail.from_),
        reply_to=envelope.Party(group.coach.name, group.coach.email),
        to=envelope.Party(to.name, to.email),
        body=body,
        date=now,
        calendar=calendar[0] if calendar else None,
        method=calendar[1] if calendar else None,
    )
    domain = mail.from_.rpartition("@")[2]
    enqueue(
        db, message, kind=kind, now=now, domain=domain, session_id=session.id, expires_at=expires_at
    )


def _attendees(session: Session, skip: Iterable[str] = ()) -> list[str]:
    left = set(skip)
    return [p.party_id for p in session.participants if p.party_id not in left]


def _request(
    book: Book,
    db: Db,
    session: Session,
    kind: str,
    make: Callable[[About, Reader], Body],
    group: Group | None = None,
    supersede: bool = False,
    text: Callable[[About, Reader], str] | None = None,
) -> int:
    """Send the whole object again (METHOD:REQUEST) to every attendee of ``session``
    (``supersede``: in place of a still-queued message of the same ``kind``)."""
    group = group or load(book, db, session)
    spec = group.spec(book)
    if spec is None:
        return 0
    data = imip.request(spec, book.clock())
    about = group.about(book, session)
    for party in _attendees(session):
        if supersede:
            _supersede(db, group, group.people[party].email, kind)
        reader = group.reader(party)
        said, body = text(about, reader) if text else None, make(about, reader)
        send(book, db, group, session, reader, body, kind, (data, "REQUEST"), None, said)
    return len(session.participants)


def _supersede(db: Db, group: Group, recipient: str, kind: str) -> None:
    """A still-queued ``kind`` message about the same UID to the same person gives way
    to the newer one, which carries the whole object: a series accepted occurrence by
    occurrence (as the sync reads it) sends one confirmation, not one per occurrence."""
    ids = [r.id for r in group.rows if r.id is not None]
    why = "superseded by a newer update of the session"
    repo_outbox.drop_queued(db, ids, kind, why, [recipient])


def _series_rule(group: Group) -> str | None:
    series = group.series
    if series is None:
        return None
    end = f"{series.count} sessions" if series.count else f"until {series.until}"
    return f"{series.repeat}, {end}"


def planned(book: Book, db: Db, sessions: list[Session]) -> None:
    """The invitation to a new session or series."""
    live = [s for s in sessions if s.end > book.clock()]
    if not live:
        return
    first = live[0]
    group = load(book, db, first, sessions)  # a new UID: these are all its rows
    rule = _series_rule(group)
    _request(book, db, first, "request", lambda a, r: bodies.invitation(a, r, rule), group)


def moved(
    book: Book, db: Db, old: Session, new: Session, client_requested: bool, by: Actor
) -> None:
    """A new time: the whole object with the raised SEQUENCE; queued reminders dropped."""
    drop_reminders(db, [new])
    if _over(book, [old, new]):
        return
    was = (old.start, old.end)
    kind = "update"
    by_client = by is Actor.CLIENT
    _request(
        book,
        db,
        new,
        kind,
        lambda a, r: bodies.moved(a, r, client_requested, was, by_client),
        text=lambda a, r: texts.moved(a, r, old.start),
    )


def answered(
    book: Book, db: Db, before: Session, after: Session, by: Actor, party: str | None
) -> None:
    """A decline tells the other side; an answer that confirms the session re-sends it."""
    if _over(book, [after]):
        return
    if after.status is Status.DECLINED:
        drop_reminders(db, [after])
        group = load(book, db, after)
        about = group.about(book, after)
        skip: list[str] = []
        who = group.coach.name
        if by is Actor.CLIENT:
            skip = [party] if party else after.clients
            who = group.people[party].name if party in group.people else "the client"
        parties, why = _attendees(after, skip), f"declined by {who}"
        _cancel_to(book, db, group, after, parties, why, False, _gone(book, group))
        if by is Actor.CLIENT:
            reader = group.coach_reader()
            body, said = bodies.declined(about, reader, who), texts.declined(about, reader, who)
            send(book, db, group, after, reader, body, "declined", text=said)
        return
    if after.sequence != before.sequence and after.status in ACTIVE:
        # STATUS changed (TENTATIVE -> CONFIRMED): every participant's copy is updated,
        # which also tells the client that the practice accepted what they asked for.
        _request(book, db, after, "confirmed", bodies.confirmed, supersede=True)


def cancelled(
    book: Book, db: Db, sessions: list[Session], following: bool, reason: str | None
) -> None:
    """Cancellations: one occurrence (RECURRENCE-ID), a whole session or series, or
    "this and all following" (the master again as a REQUEST whose RRULE has UNTIL)."""
    drop_reminders(db, sessions)
    live = [s for s in sessions if s.end > book.clock()]
    if not live:
        return
    if following:
        first = live[0]
        group = load(book, db, first)
        spec = group.spec(book)
        if spec is not None:
            about = group.about(book, first)
            data = imip.request(spec, book.clock())
            for party in _attendees(first):
                reader = group.reader(party)
                body = bodies.cancelled(about, reader, reason, True)
                said = texts.cancelled(about, reader, reason, True)
                send(book, db, group, first, reader, body, "cancel", (data, "REQUEST"), None, said)
            return
        _cancel_to(book, db, group, first, _attendees(first), reason, True, whole=True)
        return
    gone: set[str] = set()  # UIDs whose whole CANCEL is queued
    for session in live:
        if session.uid in gone:
            continue
        group = load(book, db, session)
        whole = _gone(book, group)
        if whole:
            gone.add(session.uid)
        _cancel_to(book, db, group, session, _attendees(session), reason, False, whole)


def _gone(book: Book, group: Group) -> bool:
    """Nothing of the UID is left open: the CANCEL is for the whole series (no
    RECURRENCE-ID), as the coach's copy is deleted, not given a CANCELLED master."""
    return group.spec(book) is None


def _cancel_to(
    book: Book,
    db: Db,
    group: Group,
    session: Session,
    parties: list[str],
    reason: str | None,
    following: bool,
    whole: bool = False,
) -> None:
    sequence = max(r.sequence for r in group.rows)
    single = replace(
        session, status=Status.SCHEDULED, recurrence_id=None, series_id=None, sequence=sequence
    )
    spec = session_spec(
        [single], _organizer(group.coach), group.people, {}, video_url=group.coach.video_url
    )
    if spec is None or not parties:
        return
    keep = set(parties)
    losing = tuple(a for a in spec.master.attendees if _party_of(group, a.person) in keep)
    spec = replace(spec, master=replace(spec.master, attendees=losing))
    recurrence_id = None if whole or session.recurrence_id is None else session.recurrence_id
    data = imip.cancel(spec, book.clock(), recurrence_id)
    about = group.about(book, session)
    for party in parties:
        reader = group.reader(party)
        body = bodies.cancelled(about, reader, reason, following)
        said = texts.cancelled(about, reader, reason, following)
        send(book, db, group, session, reader, body, "cancel", (data, "CANCEL"), None, said)


def _party_of(group: Group, person: Person) -> str | None:
    for party, known in group.people.items():
        if known == person:
            return party
    return None


def closure_notice(
    book: Book, db: Db, sessions: list[Session], first: str, last: str, reason: str
) -> None:
    """--notify-only: participants are told of the closure; their sessions stay."""
    for session in sessions:
        if _over(book, [session]):
            continue
        group = load(book, db, session)
        about = group.about(book, session)
        for party in _attendees(session):
            reader = group.reader(party)
            body = bodies.closure_notice(about, reader, first, last, reason)
            said = texts.closure(about, reader, first, last, reason)
            send(book, db, group, session, reader, body, "closure", text=said)


def reverted(book: Book, db: Db, session: Session, reason: str) -> None:
    """The coach is told why their calendar edit was undone."""
    group = load(book, db, session)
    reader = group.coach_reader()
    about = group.about(book, session)
    body = bodies.reverted(about, reader, reason, session.id or 0)
    said = texts.reverted(about, reader, session.id or 0)
    send(book, db, group, session, reader, body, "reverted", text=said)


def drop_reminders(db: Db, sessions: Iterable[Session]) -> None:
    """Queued reminders of moved or cancelled sessions are not sent (rule 6)."""
    ids = [s.id for s in sessions if s.id is not None]
    if not ids:
        return
    repo_outbox.drop_queued(db, ids, "reminder", "the session moved or was cancelled")


def calendar_held(book: Book, db: Db, coach: Coach, reason: str) -> None:
    """The coach and the practice's admin are told, once, that the guard holds a calendar."""
    mail = book.settings.mail
    restore = f"calbridge sync --coach {coach.id} --restore"
    accept = f"calbridge sync --coach {coach.id} --accept-deletions"
    admin = mail.admin or mail.from_
    readers = {coach.email.lower(): coach.name}
    readers.setdefault(admin.lower(), "admin")
    for address, name in readers.items():
        reader = Reader(name, address, coach.zone())
        body = bodies.calendar_held(reader, coach.name, reason, restore, accept)
        message = envelope.build(
            sender=envelope.Party("calbridge", mail.from_),
            reply_to=envelope.Party(coach.name, coach.email),
            to=envelope.Party(name, address),
            body=body,
            date=book.clock(),
        )
        enqueue(db, message, kind="held", now=book.clock(), domain=mail.from_.rpartition("@")[2])
