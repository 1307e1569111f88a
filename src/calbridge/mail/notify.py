"""Queue the mail a book change causes, inside that change's transaction.

The mail consumer hands each session change event here (``consume``): the UIDs it
touches are read (``load``, by the same loader as the calendar copy's), the pure
``notices`` say who is told what (carrying the resource the coach's CalDAV copy is, so
the UID and SEQUENCE in mail and calendar agree), and each notice is queued, by mail
and as chosen by text, one message per recipient (``send``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from calbridge.config.schema import Coach
from calbridge.core.model import Role, Session, Status
from calbridge.core.recurrence import Recurrence
from calbridge.events.changes import (
    Answered,
    Cancelled,
    Change,
    ClosureNoticed,
    Moved,
    Planned,
    RemindersOff,
    Reverted,
)
from calbridge.events.coach import spec_of
from calbridge.events.context import BookContext
from calbridge.ical.model import EventSpec, Person
from calbridge.mail import bodies, channels, client_link, envelope, notices
from calbridge.mail.bodies import About, Body, Reader
from calbridge.mail.channels import texts
from calbridge.mail.notices import View
from calbridge.mail.outbox import enqueue
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

    def rrule(self) -> Recurrence | None:
        return Recurrence.parse(self.series.rrule) if self.series is not None else None

    def spec(self, book: BookContext) -> EventSpec | None:
        return spec_of(book.settings, self.coach, self.rows, self.people, self.rrule())

    def about(self, book: BookContext, session: Session) -> About:
        return notices.about(self.coach, self.people, self.series is not None, session)

    def spec_organizer(self) -> Person:
        return _organizer(self.coach)

    def reader(self, party_id: str) -> Reader:
        return notices.reader(self.coach, self.people, self.zones, party_id)

    def view(self, book: BookContext) -> View:
        """What the pure ``notices`` read of this UID."""
        rrule = self.rrule()
        spec = spec_of(book.settings, self.coach, self.rows, self.people, rrule)
        rule = series_rule(self)
        return View(self.coach, self.rows, self.people, self.zones, spec, rule, rrule)

    def coach_reader(self) -> Reader:
        return Reader(self.coach.name, self.coach.email, self.coach.zone())


def _organizer(coach: Coach) -> Person:
    return Person(coach.name, coach.email)


def load(book: BookContext, db: Db, session: Session, rows: list[Session] | None = None) -> Group:
    """The UID's rows (``rows`` when the caller has them all), people and series, read by
    the same loader as the calendar copy's (store/repo_events)."""
    coach = book.settings.coach(session.coach_id)
    if rows is None:
        rows = repo_events.sessions_by_uid(db, coach.id, [session.uid]).get(session.uid, [])
    people, zones = repo_events.people_and_zones(db, rows)
    contacts: dict[str, repo_sms.Contact] = {}
    for part in {p.party_id: p for r in rows for p in r.participants}.values():
        kind = "client" if part.role is Role.CLIENT else "third-party"
        contacts[part.party_id] = repo_sms.contact(db, kind, part.party_id)
    series = repo_events.series_of(db, rows).get(session.series_id or 0)
    return Group(coach, rows, people, series, contacts, zones)


def send(
    book: BookContext,
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


def _supersede(db: Db, group: Group, recipient: str, kind: str) -> None:
    """A still-queued ``kind`` message about the same UID to the same person gives way
    to the newer one, which carries the whole object: a series accepted occurrence by
    occurrence (as the sync reads it) sends one confirmation, not one per occurrence."""
    ids = [r.id for r in group.rows if r.id is not None]
    why = "superseded by a newer update of the session"
    repo_outbox.drop_queued(db, ids, kind, why, [recipient])


def series_rule(group: Group) -> str | None:
    series = group.series
    if series is None:
        return None
    end = f"{series.count} sessions" if series.count else f"until {series.until}"
    return f"{series.repeat}, {end}"


def consume(book: BookContext, db: Db, change: Change) -> None:
    """Queue what a session's ``change`` tells its people, in its transaction: the
    groups it needs are read, ``notices`` says who is told what, each is sent here."""
    now = book.clock()
    _drop_what_changed(db, change, now)
    given = change.sessions if isinstance(change, Planned) else None  # a new UID's rows
    groups: dict[str, Group] = {}
    for uid in notices.uids(change, now):
        first = next(s for s in _sessions(change) if s.uid == uid)
        groups[uid] = load(book, db, first, given)
    views = {uid: group.view(book) for uid, group in groups.items()}
    for notice in notices.notices(change, views, now, texts):
        group, to = groups[notice.session.uid], notice.to
        if notice.supersede:
            _supersede(db, group, to.email, notice.kind)
        send(
            book, db, group, notice.session, to, notice.body, notice.kind, notice.calendar,
            None, notice.text,
        )  # fmt: skip


def _drop_what_changed(db: Db, change: Change, now: datetime) -> None:
    """Queued reminders of sessions moved, declined, cancelled or turned off (rule 6)."""
    match change:
        case Moved(_, new):
            drop_reminders(db, [new])
        case RemindersOff(sessions) | Cancelled(sessions):
            drop_reminders(db, sessions)
        case Answered(_, after) if after.status is Status.DECLINED and after.end > now:
            drop_reminders(db, [after])


def _sessions(change: Change) -> list[Session]:
    match change:
        case Planned(sessions) | Cancelled(sessions) | ClosureNoticed(sessions):
            return sessions
        case Moved(_, session) | Answered(_, session) | Reverted(session):
            return [session]
    return []


def drop_reminders(db: Db, sessions: Iterable[Session]) -> None:
    """Queued reminders of moved or cancelled sessions are not sent (rule 6)."""
    ids = [s.id for s in sessions if s.id is not None]
    if not ids:
        return
    repo_outbox.drop_queued(db, ids, "reminder", "the session moved or was cancelled")


def calendar_held(book: BookContext, db: Db, coach: Coach, reason: str) -> None:
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
